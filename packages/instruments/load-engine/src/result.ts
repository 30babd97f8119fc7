import type { AbortRecord } from './abort-watch.js';
import type { CheckResult, Evidence, Verdict } from '@crucible/contracts';
import { encodeHistogram, InstrumentError, mergeHistograms, percentileMs } from '@crucible/instrument-kit';
import type { ExecutorConfig } from './executors.js';
import { parseSegment } from './segment.js';
import { mergeGenerators, type GeneratorFigures } from './starvation.js';

/** One second of a scenario (by completion time), with its own histogram. */
export interface SecondResult {
  /** Seconds since the scenario's measured phase started. */
  readonly t: number;
  readonly requests: number;
  readonly errors: number;
  readonly dropped: number;
  /** Base64 HDR histogram (µs) of the latencies completed in this second. */
  readonly histogram: string;
}

/** A kept iteration result (bursts, or `keepResponses: true`). */
export interface IterationOutcome<R = unknown> {
  readonly index: number;
  readonly vu: number;
  readonly ok: boolean;
  readonly latencyMs: number;
  /** What the request function returned (absent when it threw). */
  readonly value?: R;
  /** Error kind when it threw (`ECONNREFUSED`, `UND_ERR_HEADERS_TIMEOUT`, …) or failed a check. */
  readonly error?: string;
}

/** A custom rate (`ctx.rate`): how many samples were true, of how many. Merges exactly by adding. */
export interface RateResult {
  readonly trues: number;
  readonly total: number;
}

/** Everything one scenario measured, as plain data (it crosses processes as JSON). */
export interface ScenarioResult {
  readonly name: string;
  readonly executor: ExecutorConfig;
  readonly tags: Record<string, string>;
  readonly segment: string;
  readonly startedAt: string;
  readonly durationS: number;
  readonly requests: number;
  readonly successes: number;
  readonly errors: Record<string, number>;
  readonly dropped: number;
  readonly checks: Record<string, CheckResult>;
  /** Custom counters (`ctx.count`; a declared one reads 0 when never counted) and metrics the suite attached. */
  readonly metrics: Record<string, number>;
  /** Custom rates the scenario declared (`ctx.rate`); a report shows each as its fraction `trues / total`. */
  readonly rates: Record<string, RateResult>;
  /** Base64 HDR histogram (µs) of the whole measured phase. */
  readonly histogram: string;
  /** Base64 HDR histogram (µs) of start lag (actual − intended start); open models and bursts only. */
  readonly lagHistogram?: string;
  /**
   * The load generator's own state while it measured (event-loop delay, start lag, CPU share)
   * and whether it was starved: then its latency and throughput say nothing about the system.
   */
  readonly generator?: GeneratorFigures;
  readonly series: SecondResult[];
  /** Per value of the breakdown tag (default `endpoint`), when iterations carried it. */
  readonly breakdown?: { readonly tag: string; readonly entries: Record<string, { requests: number; errors: number; histogram: string }> };
  readonly thresholds: readonly string[];
  /** Set when an `abortOnFail` threshold stopped the scenario before its schedule ended. */
  readonly aborted?: AbortRecord;
  readonly rpsTarget: number | null;
  readonly latencyBasis: 'intended' | 'actual';
  readonly outcomes: IterationOutcome[];
  /** Checker verdicts the suite attached (see {@link attach}). */
  readonly verdicts: Verdict[];
  /** Evidence the suite attached (EXPLAIN text, pool peaks …). */
  readonly evidence: Evidence[];
}

/** The result of {@link run}: one entry per scenario. */
export interface RunResult {
  readonly runId: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly segment: string;
  readonly scenarios: ScenarioResult[];
}

/** The result of one scenario by name; throws naming it when absent. */
export function scenarioResult(result: RunResult, name: string): ScenarioResult {
  const s = result.scenarios.find((x) => x.name === name);
  if (!s) throw new InstrumentError('unknown_scenario', `no scenario "${name}" in this run (have: ${result.scenarios.map((x) => x.name).join(', ')})`);
  return s;
}

/**
 * Attaches checker verdicts, evidence and custom metrics to a scenario's result, for the
 * report (`buildReport` in `@crucible/reporting`; thresholds like `duplicates: count==0` read
 * these metrics). A metric the engine can count belongs in the scenario's `metrics` instead.
 *
 * @example attach(result, 'reserve ids', { verdicts: [uniqueness], metrics: { duplicates: 0 }, evidence: [{ title: 'pool', kind: 'json', content: health.pool }] })
 */
export function attach(result: RunResult, name: string, extra: { verdicts?: readonly Verdict[]; evidence?: readonly Evidence[]; metrics?: Readonly<Record<string, number>> }): ScenarioResult {
  const s = scenarioResult(result, name);
  s.verdicts.push(...(extra.verdicts ?? []));
  s.evidence.push(...(extra.evidence ?? []));
  Object.assign(s.metrics, extra.metrics ?? {});
  return s;
}

/** Kept outcomes of a scenario (bursts keep them by default). */
export function outcomesOf<R>(result: RunResult, name: string): IterationOutcome<R>[] {
  return scenarioResult(result, name).outcomes as IterationOutcome<R>[];
}

function sumRecords(records: ReadonlyArray<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of records) for (const [k, v] of Object.entries(r)) out[k] = (out[k] ?? 0) + v;
  return out;
}

function sumRates(records: ReadonlyArray<Record<string, RateResult>>): Record<string, RateResult> {
  const out: Record<string, RateResult> = {};
  for (const r of records) for (const [k, v] of Object.entries(r)) out[k] = { trues: (out[k]?.trues ?? 0) + v.trues, total: (out[k]?.total ?? 0) + v.total };
  return out;
}

function mergeBreakdowns(parts: readonly ScenarioResult[]): Pick<ScenarioResult, 'breakdown'> {
  const withBreakdown = parts.flatMap((p) => (p.breakdown ? [p.breakdown] : []));
  const first = withBreakdown[0];
  if (!first) return {};
  const keys = [...new Set(withBreakdown.flatMap((b) => Object.keys(b.entries)))];
  const entries: Record<string, { requests: number; errors: number; histogram: string }> = {};
  for (const k of keys) {
    const list = withBreakdown.flatMap((b) => (b.entries[k] ? [b.entries[k]] : []));
    const h = mergeHistograms(list.map((e) => e.histogram));
    entries[k] = { requests: list.reduce((a, e) => a + e.requests, 0), errors: list.reduce((a, e) => a + e.errors, 0), histogram: encodeHistogram(h) };
    h.destroy();
  }
  return { breakdown: { tag: first.tag, entries } };
}

/** Merged start-lag histogram and generator figures (the worst segment's; starved if any was). */
function mergeLag(parts: readonly ScenarioResult[]): Pick<ScenarioResult, 'lagHistogram' | 'generator'> {
  const lags = parts.flatMap((p) => (p.lagHistogram ? [p.lagHistogram] : []));
  const out: { lagHistogram?: string; generator?: GeneratorFigures } = {};
  let lagP99: number | null = null;
  if (lags.length > 0) {
    const h = mergeHistograms(lags);
    out.lagHistogram = encodeHistogram(h);
    lagP99 = h.totalCount > 0 ? percentileMs(h, 99) : null;
    h.destroy();
  }
  const generator = mergeGenerators(parts.flatMap((p) => (p.generator ? [p.generator] : [])), lagP99, parts[0]?.executor.type === 'burst');
  if (generator) out.generator = generator;
  return out;
}

/** Union label of segments, `0:1` when they cover the whole scenario. */
function unionSegment(labels: readonly string[]): string {
  if (labels.length === 1) return labels[0] as string;
  const segs = labels.map((l) => parseSegment(l)).sort((a, b) => a.start - b.start);
  let at = 0;
  for (const s of segs) {
    if (Math.abs(s.start - at) > 1e-9) return labels.join('+');
    at = s.end;
  }
  return Math.abs(at - 1) < 1e-9 ? '0:1' : labels.join('+');
}

/**
 * Merges results of the same scenarios run in several segments (processes, workers, machines):
 * counts add, HDR histograms (total and per second) merge exactly, custom counters and rates add.
 */
export function mergeResults(results: readonly RunResult[]): RunResult {
  const first = results[0];
  if (!first) throw new InstrumentError('bad_argument', 'mergeResults needs at least one result');
  if (results.length === 1) return first;
  const names = [...new Set(results.flatMap((r) => r.scenarios.map((s) => s.name)))];
  const scenarios = names.map((name): ScenarioResult => {
    const parts = results.flatMap((r) => r.scenarios.filter((s) => s.name === name));
    const p0 = parts[0] as ScenarioResult;
    const seconds = new Map<number, SecondResult[]>();
    for (const p of parts) for (const s of p.series) seconds.set(s.t, [...(seconds.get(s.t) ?? []), s]);
    const total = mergeHistograms(parts.map((p) => p.histogram));
    const series = [...seconds.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([t, list]) => {
        const h = mergeHistograms(list.map((s) => s.histogram));
        const out: SecondResult = { t, requests: list.reduce((a, s) => a + s.requests, 0), errors: list.reduce((a, s) => a + s.errors, 0), dropped: list.reduce((a, s) => a + s.dropped, 0), histogram: encodeHistogram(h) };
        h.destroy();
        return out;
      });
    const checks: Record<string, CheckResult> = {};
    for (const p of parts) for (const [k, c] of Object.entries(p.checks)) {
      const prev = checks[k] ?? { passes: 0, fails: 0 };
      checks[k] = { passes: prev.passes + c.passes, fails: prev.fails + c.fails };
    }
    const merged: ScenarioResult = {
      ...p0,
      segment: unionSegment(parts.map((p) => p.segment)),
      startedAt: parts.map((p) => p.startedAt).sort()[0] as string,
      durationS: Math.max(...parts.map((p) => p.durationS)),
      requests: parts.reduce((a, p) => a + p.requests, 0),
      successes: parts.reduce((a, p) => a + p.successes, 0),
      errors: sumRecords(parts.map((p) => p.errors)),
      dropped: parts.reduce((a, p) => a + p.dropped, 0),
      // Each segment's target is its share of the scenario's rate: the shares add up.
      rpsTarget: parts.every((p) => p.rpsTarget === null) ? null : parts.reduce((a, p) => a + (p.rpsTarget ?? 0), 0),
      checks,
      metrics: sumRecords(parts.map((p) => p.metrics)),
      rates: sumRates(parts.map((p) => p.rates ?? {})),
      histogram: encodeHistogram(total),
      ...mergeLag(parts),
      series,
      ...mergeBreakdowns(parts),
      outcomes: parts.flatMap((p) => p.outcomes).sort((a, b) => a.index - b.index),
      verdicts: parts.flatMap((p) => p.verdicts),
      evidence: parts.flatMap((p) => p.evidence),
    };
    // A segment that aborted stopped its share of the scenario: the merged scenario was aborted (the earliest one).
    const aborts = parts.flatMap((p) => (p.aborted ? [p.aborted] : [])).sort((a, b) => a.atS - b.atS);
    if (aborts[0]) Object.assign(merged, { aborted: aborts[0] });
    else delete (merged as { aborted?: AbortRecord }).aborted;
    total.destroy();
    return merged;
  });
  const segments = results.map((r) => r.segment);
  return {
    runId: first.runId,
    startedAt: results.map((r) => r.startedAt).sort()[0] as string,
    finishedAt: results.map((r) => r.finishedAt).sort().at(-1) as string,
    segment: unionSegment(segments),
    scenarios,
  };
}
