import type { GeneratorReport, OutcomeStatus, RunReport, ScenarioReport, ThresholdResult } from '@crucible/contracts';
import { compareThreshold, decodeHistogram, parseThreshold, percentileMs, slidingWindows, type ParsedThreshold } from '@crucible/instrument-kit';

// The syntax (parsing, `normalizeThresholds`, `ThresholdSyntaxError`) lives in instrument-kit so
// the load engine can validate thresholds without depending on reporting; re-exported for users.
export {
  normalizeThresholds,
  parseThreshold,
  ThresholdSyntaxError,
  type ParsedThreshold,
  type ThresholdOperator,
  type ThresholdSpec,
} from '@crucible/instrument-kit';

/** Built-in metric names every scenario report has. */
export const BUILTIN_METRICS = ['latency', 'errors', 'requests', 'dropped_iterations', 'checks', 'schedule_lag'] as const;

type Measured = ScenarioReport;

/**
 * The scenario as the iterations that carried `t.tag` saw it: its breakdown entry in place of
 * the totals (requests, errors, latency, rate over the scenario's duration). A tag the
 * scenario does not break down by, or a value no iteration carried, is an error naming what
 * there is, never a pass on nothing.
 */
function narrowToTag(t: ParsedThreshold & { tag: { key: string; value: string } }, s: Measured): { scenario: Measured } | { error: string } {
  const { key, value } = t.tag;
  const b = s.breakdown;
  if (!b) return { error: `no iteration carried a tag "${key}" (tag requests, e.g. tags: { ${key}: '…' })` };
  if (b.tag !== key) return { error: `the scenario breaks down by "${b.tag}", not "${key}" (set breakdownBy: '${key}')` };
  const e = b.entries[value];
  if (!e) return { error: `no iteration carried ${key}=${value} (seen: ${Object.keys(b.entries).join(', ') || 'none'})` };
  return {
    scenario: {
      ...s,
      requests: e.requests,
      successes: e.requests - e.errors,
      error_rate: e.requests === 0 ? 0 : e.errors / e.requests,
      latency_ms: e.latency_ms,
      histogram: e.histogram ?? null,
      rps: { achieved: s.duration_s > 0 ? e.requests / s.duration_s : 0, target: null },
    },
  };
}

function aggregate(t: ParsedThreshold, s: Measured): { actual: number | null; error?: string } {
  if (t.tag) {
    const narrowed = narrowToTag({ ...t, tag: t.tag }, s);
    if ('error' in narrowed) return { actual: null, error: narrowed.error };
    const { tag: _tag, ...untagged } = t;
    return aggregate(untagged, narrowed.scenario);
  }
  const bad = (what: string): { actual: null; error: string } => ({
    actual: null,
    error: `aggregation "${t.aggregation}" does not apply to metric "${t.metric}"${what}`,
  });
  switch (t.metric) {
    case 'latency': {
      if (t.aggregation === 'count') return { actual: s.requests };
      if (!s.latency_ms) return { actual: null, error: 'no latency was recorded' };
      switch (t.aggregation) {
        case 'p': {
          const p = t.percentile ?? 50;
          if (s.histogram) {
            const h = decodeHistogram(s.histogram);
            const v = percentileMs(h, p);
            h.destroy();
            return { actual: v };
          }
          const known: Record<number, number> = { 50: s.latency_ms.p50, 90: s.latency_ms.p90, 95: s.latency_ms.p95, 99: s.latency_ms.p99, 99.9: s.latency_ms.p999, 100: s.latency_ms.max };
          const v = known[p];
          return v === undefined ? { actual: null, error: `p(${p}) needs the histogram, which this report lacks` } : { actual: v };
        }
        case 'avg':
          return { actual: s.latency_ms.mean };
        case 'min':
          return { actual: s.latency_ms.min };
        case 'max':
          return { actual: s.latency_ms.max };
        case 'med':
          return { actual: s.latency_ms.p50 };
        default:
          return bad(' (use p(N), avg, min, max, med or count)');
      }
    }
    case 'errors':
      if (t.aggregation === 'rate') return { actual: s.error_rate };
      if (t.aggregation === 'count' || t.aggregation === 'value') return { actual: s.requests - s.successes };
      return bad(' (use rate or count)');
    case 'requests':
      if (t.aggregation === 'count' || t.aggregation === 'value') return { actual: s.requests };
      if (t.aggregation === 'rate') return { actual: s.rps.achieved };
      return bad(' (use count or rate = requests per second)');
    case 'dropped_iterations':
      if (t.aggregation === 'count' || t.aggregation === 'value') return { actual: s.dropped_iterations };
      if (t.aggregation === 'rate') {
        const total = s.requests + s.dropped_iterations;
        return { actual: total === 0 ? 0 : s.dropped_iterations / total };
      }
      return bad(' (use count or rate)');
    case 'schedule_lag': {
      const l = s.schedule_lag_ms;
      if (!l) return { actual: null, error: 'no start lag was recorded (closed-model scenarios have none)' };
      const byPct: Record<number, number> = { 50: l.p50, 90: l.p90, 95: l.p95, 99: l.p99, 99.9: l.p999, 100: l.max };
      if (t.aggregation === 'p') {
        const v = byPct[t.percentile ?? 50];
        return v === undefined ? bad(' (use p(50), p(90), p(95), p(99) or p(99.9))') : { actual: v };
      }
      if (t.aggregation === 'max') return { actual: l.max };
      if (t.aggregation === 'avg') return { actual: l.mean };
      if (t.aggregation === 'med') return { actual: l.p50 };
      return bad(' (use p(N), max, avg or med)');
    }
    case 'checks': {
      const all = Object.values(s.checks);
      const passes = all.reduce((a, c) => a + c.passes, 0);
      const fails = all.reduce((a, c) => a + c.fails, 0);
      if (t.aggregation === 'rate') return { actual: passes + fails === 0 ? 1 : passes / (passes + fails) };
      if (t.aggregation === 'count' || t.aggregation === 'value') return { actual: fails };
      return bad(' (use rate = pass rate, or count = failures)');
    }
    default: {
      const v = s.metrics[t.metric];
      if (v === undefined) {
        const known = [...BUILTIN_METRICS, ...Object.keys(s.metrics)].join(', ');
        return { actual: null, error: `unknown metric "${t.metric}" (known: ${known})` };
      }
      // One number per custom metric: a counter's count, or a rate's fraction of true samples (`ctx.rate`).
      if (t.aggregation === 'count' || t.aggregation === 'value' || t.aggregation === 'rate') return { actual: v };
      return bad(' (custom metrics take count, value or rate)');
    }
  }
}

/**
 * Whether a threshold reads a figure a starved load generator distorts: latency (every
 * aggregation but `count`), throughput (`requests`, `latency: count`, `dropped_iterations`) and
 * the generator's own `schedule_lag`. Errors, checks and custom metrics are the system's
 * answers, counted whatever the generator's pace: they stay judged.
 */
export function readsGeneratorTiming(t: ParsedThreshold): boolean {
  return t.metric === 'latency' || t.metric === 'requests' || t.metric === 'dropped_iterations' || t.metric === 'schedule_lag';
}

/** `load generator starved (event-loop delay p99 62 ms, lag p99 140 ms, CPU share 41 %, load 2.1 per core)` */
export function starvedText(g: GeneratorReport): string {
  const figures = [`event-loop delay p99 ${g.loop_delay_p99_ms} ms`, ...(g.lag_p99_ms === null ? [] : [`lag p99 ${g.lag_p99_ms} ms`]), ...(g.cpu_share === null ? [] : [`CPU share ${Math.round(g.cpu_share * 100)} %`]), `load ${g.load_per_core} per core`];
  return `load generator starved (${figures.join(', ')})`;
}

function describe(t: ParsedThreshold, actual: number, s: Measured): string {
  const what = `${t.metric} ${t.aggregation === 'p' ? `p(${t.percentile})` : t.aggregation} = ${actual}`;
  // A missed rate names the rate sustained and the target it was asked for, never a smaller one.
  if (t.metric === 'requests' && t.aggregation === 'rate') return `${what} req/s sustained${s.rps.target === null ? '' : ` of ${s.rps.target} req/s targeted`}`;
  return what;
}

/**
 * Evaluates thresholds against a measured scenario. A threshold on a metric the scenario
 * does not have fails (with a message naming it); it never passes in silence. When the
 * scenario's load generator was starved (`generator.starved`), a latency or throughput
 * threshold is `inconclusive` (not passed, not failed), naming the generator's figures.
 */
export function evaluateThresholds(expressions: readonly string[], scenario: Measured): ThresholdResult[] {
  const starved = scenario.generator?.starved ? scenario.generator : undefined;
  return expressions.map((expression): ThresholdResult => {
    let parsed: ParsedThreshold;
    try {
      parsed = parseThreshold(expression);
    } catch (e) {
      return { expression, metric: '?', actual: null, passed: false, status: 'fail', message: (e as Error).message };
    }
    if (parsed.windowS !== undefined) return windowed(parsed, scenario, starved);
    const { actual, error } = aggregate(parsed, scenario);
    if (actual === null || error) {
      return { expression, metric: parsed.metric, actual: null, passed: false, status: 'fail', message: `threshold "${expression}" failed: ${error ?? 'no value'}` };
    }
    const rounded = Math.round(actual * 1000) / 1000;
    if (starved && readsGeneratorTiming(parsed)) {
      return { expression, metric: parsed.metric, actual: rounded, passed: false, status: 'inconclusive', message: `inconclusive: ${starvedText(starved)}; measured ${describe(parsed, rounded, scenario)}` };
    }
    const passed = compareThreshold(actual, parsed.operator, parsed.value);
    return {
      expression,
      metric: parsed.metric,
      actual: rounded,
      passed,
      status: passed ? 'pass' : 'fail',
      message: passed ? `${expression}: ${rounded} ok` : `threshold "${expression}" failed: ${describe(parsed, rounded, scenario)}`,
    };
  });
}

/**
 * A sliding-window threshold (`p(99) over 10s < 300`): every window of the scenario's
 * per-second series is judged; it passes only if every window that held something passed,
 * and its actual figure is the worst window's (named, with how many failed).
 */
function windowed(t: ParsedThreshold, s: Measured, starved: GeneratorReport | undefined): ThresholdResult {
  const out = slidingWindows(t, s.series);
  const base = { expression: t.expression, metric: t.metric };
  if (out.error || !out.worst || out.worst.value === null) {
    return { ...base, actual: null, passed: false, status: 'fail', message: `threshold "${t.expression}" failed: ${out.error ?? 'no window held a value to judge'}` };
  }
  const rounded = Math.round(out.worst.value * 1000) / 1000;
  const where = `${t.aggregation === 'p' ? `p(${t.percentile})` : t.aggregation} over ${t.windowS}s = ${rounded} in ${out.worst.fromS}–${out.worst.toS} s`;
  const judged = out.windows.filter((w) => w.value !== null).length;
  if (starved && readsGeneratorTiming(t)) {
    return { ...base, actual: rounded, passed: false, status: 'inconclusive', message: `inconclusive: ${starvedText(starved)}; measured worst ${where}` };
  }
  const passed = out.failed === 0;
  return {
    ...base,
    actual: rounded,
    passed,
    status: passed ? 'pass' : 'fail',
    message: passed ? `${t.expression}: worst ${where}, ${judged} windows ok` : `threshold "${t.expression}" failed: ${t.metric} ${where} (${out.failed} of ${judged} windows failed)`,
  };
}

/** A threshold's status (`passed` decides for reports written before `status` existed). */
export function thresholdStatus(t: ThresholdResult): OutcomeStatus {
  return t.status ?? (t.passed ? 'pass' : 'fail');
}

/**
 * A scenario's status: `fail` if a threshold or verdict failed, else `inconclusive` if a
 * threshold was or a verdict could not decide (`indeterminate`: never a silent pass), else `pass`. Read from its items every time (a verdict pushed after the report
 * was built counts); a `status` or `passed: false` the row states itself is kept.
 */
export function scenarioStatus(s: ScenarioReport): OutcomeStatus {
  const statuses = s.thresholds.map(thresholdStatus);
  // An aborted scenario failed: a threshold stopped it, whatever the rest of its schedule would have shown.
  if (statuses.includes('fail') || s.verdicts.some((v) => v.status === 'fail') || s.aborted) return 'fail';
  // A row that says it failed (or an older one with `passed: false` and nothing inconclusive) did.
  if (s.status === 'fail' || (s.status === undefined && !s.passed && !statuses.includes('inconclusive'))) return 'fail';
  const undecided = statuses.includes('inconclusive') || s.verdicts.some((v) => v.status === 'indeterminate');
  return undecided || s.status === 'inconclusive' ? 'inconclusive' : 'pass';
}

/** A run's status: `fail` on a crash or any failed scenario, else `inconclusive` if any was, else `pass`. */
export function runStatus(r: RunReport): OutcomeStatus {
  if (r.crash) return 'fail';
  const st = worstStatus(r.scenarios.map(scenarioStatus));
  if (st === 'fail' || r.status === 'fail' || (r.status === undefined && !r.passed && st === 'pass')) return 'fail';
  return st === 'inconclusive' || r.status === 'inconclusive' ? 'inconclusive' : 'pass';
}

/** Combines statuses: any `fail` wins, then any `inconclusive`. */
export function worstStatus(statuses: readonly OutcomeStatus[]): OutcomeStatus {
  return statuses.includes('fail') ? 'fail' : statuses.includes('inconclusive') ? 'inconclusive' : 'pass';
}

/** Re-evaluates a scenario's thresholds and its pass/fail (thresholds and verdicts). */
export function finalizeScenario(scenario: ScenarioReport): ScenarioReport {
  const thresholds = evaluateThresholds(
    scenario.thresholds.map((t) => t.expression),
    scenario,
  );
  const { status: _previous, ...rest } = scenario;
  const status = scenarioStatus({ ...rest, thresholds, passed: true });
  return { ...rest, thresholds, passed: status === 'pass', status };
}

/**
 * Re-evaluates every scenario (thresholds, verdicts) and the run's `passed` — for a suite that
 * changed a report after building it (attached a verdict, a custom metric). Thresholds are
 * evaluated from the report itself, so every metric they name must be in it.
 */
export function finalizeReport(report: RunReport): RunReport {
  const scenarios = report.scenarios.map(finalizeScenario);
  const status = report.crash ? 'fail' : worstStatus(scenarios.map(scenarioStatus));
  return { ...report, scenarios, passed: status === 'pass', status };
}
