import type { RunReport, ScenarioReport } from '@crucible/contracts';
import { startToxiproxyServer, withFaults, type FaultSpec, type StepRecord, type TimelineRun } from '@crucible/chaos';
import { encodeHistogram, InstrumentError, mergeHistograms, summarizeHistogram } from '@crucible/instrument-kit';
import { toMs, type Duration } from '@crucible/load-engine';
import { finalizeReport } from '@crucible/reporting';

/** One fault of a run's chaos timeline, and what must hold while it acts. */
export interface ChaosStepSpec {
  /** When it starts, from the start of the load (`'2s'`, or ms). */
  readonly at: Duration;
  /** How long it acts. */
  readonly for: Duration;
  /** A Toxiproxy fault: `latency(200)`, `down()`, `timeout(0)`, `resetPeer(0)`, `bandwidth(64)` … */
  readonly fault: FaultSpec;
  /** Thresholds on the scenarios' row for the time this fault acted, e.g. `['p(99)<1000']`. */
  readonly thresholds?: readonly string[];
}

/**
 * A chaos timeline in front of the service: `crucible run` starts a real toxiproxy-server,
 * puts a proxy in front of `upstream` (default: the host and port of the base URL), sends the
 * load through it, and applies each fault on time. The report gets, per scenario, a row
 * before the faults, one per fault while it acted, and one after the last (the recovery).
 */
export interface ChaosSpec {
  /** `host:port` of the TCP service the proxy fronts (default: the base URL's). */
  readonly upstream?: string;
  readonly timeline: readonly ChaosStepSpec[];
  /** Thresholds on the rows after the last fault was removed, e.g. `['errors: rate<0.01']` (it recovered). */
  readonly after?: readonly string[];
}

/** Checks a chaos spec before anything starts; a bad one is refused naming the step. */
export function checkChaos(spec: ChaosSpec): void {
  if (!Array.isArray(spec.timeline) || spec.timeline.length === 0) throw new InstrumentError('invalid_scenario', 'chaos.timeline must list at least one fault: { at, for, fault }');
  spec.timeline.forEach((s, i) => {
    if (typeof s.fault?.type !== 'string') throw new InstrumentError('invalid_scenario', `chaos.timeline[${i}].fault is not a fault (use latency(ms), down(), timeout(ms) … from @crucible/cli)`);
    if (toMs(s.for) <= 0) throw new InstrumentError('invalid_scenario', `chaos.timeline[${i}].for must be longer than 0`);
    toMs(s.at);
  });
  if (spec.upstream !== undefined && !/^[^:/]+:\d+$/.test(spec.upstream)) throw new InstrumentError('bad_argument', `chaos.upstream "${spec.upstream}" must be host:port`);
}

/**
 * Runs `load` through a Toxiproxy proxy in front of the service with the timeline's faults;
 * the proxy, its toxics and the server are gone when it returns (or throws).
 */
export async function runThroughChaos<T>(spec: ChaosSpec, baseUrl: string, load: (proxiedBaseUrl: string, signal: AbortSignal) => Promise<T>): Promise<{ result: T; timeline: TimelineRun }> {
  const base = new URL(baseUrl);
  const upstream = spec.upstream ?? `${base.hostname}:${base.port || (base.protocol === 'https:' ? 443 : 80)}`;
  await using toxiproxy = await startToxiproxyServer();
  const proxy = await toxiproxy.chaos.createProxy({ name: 'target', upstream });
  const proxied = new URL(baseUrl);
  proxied.hostname = '127.0.0.1';
  proxied.port = String(proxy.port);
  const steps = spec.timeline.map((s) => ({ at: toMs(s.at), for: toMs(s.for), proxy, fault: s.fault }));
  // Awaited here: the server is disposed when this function returns, so the load must be over by then.
  return await withFaults(steps, (signal) => load(proxied.toString().replace(/\/$/, ''), signal));
}

/** A scenario's row over the seconds `[fromS, toS)` of its measured phase (its per-second HDR merged). */
function phaseRow(s: ScenarioReport, label: string, fromS: number, toS: number, thresholds: readonly string[]): ScenarioReport {
  const points = s.series.filter((p) => p.t + 1 > fromS && p.t < toS);
  const h = mergeHistograms(points.flatMap((p) => (p.histogram ? [p.histogram] : [])));
  const requests = points.reduce((a, p) => a + p.requests, 0);
  const errors = points.reduce((a, p) => a + p.errors, 0);
  const seconds = Math.max(1, points.length);
  const row: ScenarioReport = {
    ...s,
    name: `${s.name} · ${label}`,
    tags: { ...s.tags, phase: label },
    duration_s: seconds,
    requests,
    successes: requests - errors,
    error_rate: requests === 0 ? 0 : errors / requests,
    errors: errors > 0 ? { failed: errors } : {},
    rps: { achieved: Math.round((requests / seconds) * 100) / 100, target: s.rps.target },
    latency_ms: summarizeHistogram(h),
    histogram: encodeHistogram(h),
    series: points,
    metrics: {},
    thresholds: thresholds.map((expression) => ({ expression, metric: '', actual: null, passed: false })),
    verdicts: [],
    evidence: [],
    checks: {},
  };
  h.destroy();
  delete (row as { breakdown?: unknown }).breakdown;
  delete (row as { aborted?: unknown }).aborted;
  return row;
}

/**
 * The report with, after each scenario, its rows before the faults, during each fault and
 * after the last one (thresholds of the spec judged on them), and the timeline as evidence.
 */
export function withChaosRows(report: RunReport, spec: ChaosSpec, timeline: TimelineRun): RunReport {
  const steps = timeline.steps as readonly StepRecord[];
  const scenarios = report.scenarios.flatMap((s) => {
    const t0 = Date.parse(s.started_at);
    const sec = (at: number | undefined) => ((at ?? t0) - t0) / 1000;
    const first = Math.min(...steps.map((st) => sec(st.appliedAt)));
    const last = Math.max(...steps.map((st) => sec(st.removedAt)));
    return [
      { ...s, evidence: [...s.evidence, { kind: 'json' as const, title: 'chaos timeline (Toxiproxy), seconds into the scenario', content: steps.map((st) => ({ step: st.description, applied_s: Math.round(sec(st.appliedAt) * 1000) / 1000, removed_s: Math.round(sec(st.removedAt) * 1000) / 1000 })) }] },
      phaseRow(s, 'before faults', 0, Math.floor(first), []),
      ...steps.map((st, i) => phaseRow(s, `during: ${st.description}`, Math.floor(sec(st.appliedAt)), Math.ceil(sec(st.removedAt)), spec.timeline[i]?.thresholds ?? [])),
      phaseRow(s, 'after faults', Math.ceil(last), Number.POSITIVE_INFINITY, spec.after ?? []),
    ];
  });
  return finalizeReport({ ...report, scenarios });
}
