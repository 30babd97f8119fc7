import type { Evidence, ScenarioReport, SeriesPoint, Verdict } from '@crucible/contracts';
import { createLatencyHistogram, encodeHistogram, now, percentileMs, recordLatencyMs, summarizeHistogram } from '@crucible/instrument-kit';
import { finalizeScenario } from '@crucible/reporting';
import { phasesOf, type Phase, type StepRecord, type TimelineRun } from '@crucible/chaos';

/** One request as a load client saw it; times are epoch ms from {@link now}. */
export interface CallRecord {
  /** When it was sent. */
  readonly start: number;
  /** When the answer (or the error) came. */
  readonly end: number;
  /** HTTP status; absent when no answer came (timeout, reset, refused). */
  readonly status?: number;
  /** The envelope's `error.code`, or the transport error's code. */
  readonly code?: string;
  /** Whether the caller counts it as a success. */
  readonly ok: boolean;
  /** The `Retry-After` header of the answer, if any. */
  readonly retryAfter?: string;
}

/** Milliseconds a call took. */
export const latencyOf = (c: CallRecord): number => c.end - c.start;

/**
 * The calls of a phase: `before` = finished before the fault acted, `after` = sent after it
 * was gone, `during` = every call whose lifetime overlaps the fault (a request in flight when
 * the link was cut belongs to the fault, not to the calm before it).
 */
export function callsIn<C extends CallRecord>(calls: readonly C[], phase: Phase): C[] {
  switch (phase.name) {
    case 'before':
      return calls.filter((c) => c.start >= phase.from && c.end < phase.to);
    case 'after':
      return calls.filter((c) => c.start >= phase.from && c.start < phase.to);
    case 'during':
      return calls.filter((c) => c.end >= phase.from && c.start < phase.to);
  }
}

/**
 * Time from the fault's removal until the service serves again: the end of the first
 * successful call sent after the removal that no failed call follows. `null` when it never
 * recovered within the recorded calls; 0-ish when nothing failed after the removal.
 */
export function recoveryMs(calls: readonly CallRecord[], removedAt: number): number | null {
  const after = calls.filter((c) => c.start >= removedAt).sort((a, b) => a.start - b.start);
  let lastFailure = -1;
  after.forEach((c, i) => {
    if (!c.ok) lastFailure = i;
  });
  const first = after.slice(lastFailure + 1).find((c) => c.ok);
  return first ? Math.max(0, first.end - removedAt) : null;
}

/** The p-th percentile (0..100) of the calls' latencies in ms; `null` for no calls. */
export function percentileOf(calls: readonly CallRecord[], p: number): number | null {
  if (calls.length === 0) return null;
  const h = createLatencyHistogram();
  for (const c of calls) recordLatencyMs(h, latencyOf(c));
  const v = percentileMs(h, p);
  h.destroy();
  return v;
}

/** What {@link phaseReports} needs besides the calls. */
export interface PhaseReportInput {
  /** The fault scenario, e.g. `database down 5 s during load`. */
  readonly name: string;
  /** How the load was driven, e.g. `constant-arrival-rate 30/s`. */
  readonly executor: string;
  readonly step: StepRecord;
  readonly run: TimelineRun;
  readonly tags?: Readonly<Record<string, string>>;
  readonly targetRps?: number;
  /**
   * Iterations the load engine dropped (could not start on time), per second; each second
   * counts in the phase that holds its middle. Absent: the load had no open-model schedule.
   */
  readonly dropped?: readonly DroppedSecond[];
  /** Per phase: thresholds, metrics, verdicts, evidence. */
  readonly before?: PhaseExtras;
  readonly during?: PhaseExtras;
  readonly after?: PhaseExtras;
}

/** Iterations the load engine dropped in the second that starts at `at` (epoch ms). */
export interface DroppedSecond {
  readonly at: number;
  readonly dropped: number;
}

/** Thresholds and findings attached to one phase's report. */
export interface PhaseExtras {
  readonly thresholds?: readonly string[];
  readonly metrics?: Readonly<Record<string, number>>;
  readonly verdicts?: readonly Verdict[];
  readonly evidence?: readonly Evidence[];
}

/**
 * One scenario report per phase of a fault (`<name> · before`, `· during`, `· after`), each
 * with its own latency histogram, errors by code, per-second series and thresholds, so a
 * report shows how the service behaved before, while and after the fault acted.
 */
export function phaseReports(calls: readonly CallRecord[], input: PhaseReportInput): ScenarioReport[] {
  return phasesOf(input.step, input.run, input.run.endedAt ?? now()).map((phase) => {
    const extras = input[phase.name] ?? {};
    const mine = callsIn(calls, phase);
    const drops = (input.dropped ?? []).filter((d) => d.at + 500 >= phase.from && d.at + 500 < phase.to);
    const durationS = Math.max(0.001, (phase.to - phase.from) / 1000);
    const h = createLatencyHistogram();
    const errors: Record<string, number> = {};
    let successes = 0;
    for (const c of mine) {
      recordLatencyMs(h, latencyOf(c));
      if (c.ok) successes++;
      else {
        const kind = c.code ?? (c.status === undefined ? 'no_answer' : `HTTP ${c.status}`);
        errors[kind] = (errors[kind] ?? 0) + 1;
      }
    }
    const report: ScenarioReport = {
      name: `${input.name} · ${phase.name}`,
      executor: input.executor,
      tags: { ...input.tags, fault: input.step.description, phase: phase.name },
      started_at: new Date(phase.from).toISOString(),
      duration_s: round(durationS),
      requests: mine.length,
      successes,
      error_rate: mine.length === 0 ? 0 : (mine.length - successes) / mine.length,
      errors,
      dropped_iterations: drops.reduce((a, d) => a + d.dropped, 0),
      rps: { achieved: round(mine.length / durationS), target: input.targetRps ?? null },
      latency_ms: summarizeHistogram(h),
      histogram: mine.length ? encodeHistogram(h) : null,
      series: seriesOf(mine, phase.from, drops),
      metrics: { phase_start_s: round((phase.from - input.run.startedAt) / 1000), phase_duration_s: round(durationS), ...extras.metrics },
      thresholds: (extras.thresholds ?? []).map((expression) => ({ expression, metric: '', actual: null, passed: false })),
      verdicts: [...(extras.verdicts ?? [])],
      evidence: [...(extras.evidence ?? [])],
      checks: {},
      segment: '0:1',
      latency_basis: 'actual',
      passed: true,
    };
    h.destroy();
    return finalizeScenario(report);
  });
}

function seriesOf(calls: readonly CallRecord[], from: number, drops: readonly DroppedSecond[]): SeriesPoint[] {
  const seconds = new Map<number, CallRecord[]>();
  const dropped = new Map<number, number>();
  for (const d of drops) {
    const t = Math.max(0, Math.floor((d.at + 500 - from) / 1000));
    dropped.set(t, (dropped.get(t) ?? 0) + d.dropped);
    if (!seconds.has(t)) seconds.set(t, []);
  }
  for (const c of calls) {
    const t = Math.floor((c.start - from) / 1000);
    let list = seconds.get(t);
    if (!list) seconds.set(t, (list = []));
    list.push(c);
  }
  return [...seconds.entries()]
    .sort(([a], [b]) => a - b)
    .map(([t, list]) => {
      const h = createLatencyHistogram();
      for (const c of list) recordLatencyMs(h, latencyOf(c));
      const point: SeriesPoint = {
        t,
        requests: list.length,
        errors: list.filter((c) => !c.ok).length,
        rps: list.length,
        p50: percentileMs(h, 50),
        p95: percentileMs(h, 95),
        p99: percentileMs(h, 99),
        dropped: dropped.get(t) ?? 0,
      };
      h.destroy();
      return point;
    });
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
