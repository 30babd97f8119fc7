import type { RunReport, ScenarioReport, ThresholdResult } from '@crucible/contracts';
import { decodeHistogram, parseThreshold, percentileMs, type ParsedThreshold, type ThresholdOperator } from '@crucible/instrument-kit';

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

function aggregate(t: ParsedThreshold, s: Measured): { actual: number | null; error?: string } {
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

function compare(actual: number, op: ThresholdOperator, value: number): boolean {
  switch (op) {
    case '<':
      return actual < value;
    case '<=':
      return actual <= value;
    case '>':
      return actual > value;
    case '>=':
      return actual >= value;
    case '==':
      return actual === value;
    case '!=':
      return actual !== value;
  }
}

/**
 * Evaluates thresholds against a measured scenario. A threshold on a metric the scenario
 * does not have fails (with a message naming it); it never passes in silence.
 */
export function evaluateThresholds(expressions: readonly string[], scenario: Measured): ThresholdResult[] {
  return expressions.map((expression) => {
    let parsed: ParsedThreshold;
    try {
      parsed = parseThreshold(expression);
    } catch (e) {
      return { expression, metric: '?', actual: null, passed: false, message: (e as Error).message };
    }
    const { actual, error } = aggregate(parsed, scenario);
    if (actual === null || error) {
      return { expression, metric: parsed.metric, actual: null, passed: false, message: `threshold "${expression}" failed: ${error ?? 'no value'}` };
    }
    const passed = compare(actual, parsed.operator, parsed.value);
    const rounded = Math.round(actual * 1000) / 1000;
    return {
      expression,
      metric: parsed.metric,
      actual: rounded,
      passed,
      message: passed
        ? `${expression}: ${rounded} ok`
        : `threshold "${expression}" failed: ${parsed.metric} ${parsed.aggregation === 'p' ? `p(${parsed.percentile})` : parsed.aggregation} = ${rounded}`,
    };
  });
}

/** Re-evaluates a scenario's thresholds and its pass/fail (thresholds and verdicts). */
export function finalizeScenario(scenario: ScenarioReport): ScenarioReport {
  const thresholds = evaluateThresholds(
    scenario.thresholds.map((t) => t.expression),
    scenario,
  );
  const passed = thresholds.every((t) => t.passed) && scenario.verdicts.every((v) => v.status !== 'fail');
  return { ...scenario, thresholds, passed };
}

/**
 * Re-evaluates every scenario (thresholds, verdicts) and the run's `passed` — for a suite that
 * changed a report after building it (attached a verdict, a custom metric). Thresholds are
 * evaluated from the report itself, so every metric they name must be in it.
 */
export function finalizeReport(report: RunReport): RunReport {
  const scenarios = report.scenarios.map(finalizeScenario);
  return { ...report, scenarios, passed: !report.crash && scenarios.every((s) => s.passed) };
}
