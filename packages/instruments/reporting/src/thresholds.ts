import type { RunReport, ScenarioReport, ThresholdResult } from '@crucible/contracts';
import { decodeHistogram, percentileMs } from '@crucible/instrument-kit';

/** Comparison operators a threshold may use. */
export type ThresholdOperator = '<' | '<=' | '>' | '>=' | '==' | '!=';

/** A parsed threshold: `[metric:] aggregation operator number`. */
export interface ParsedThreshold {
  readonly expression: string;
  readonly metric: string;
  readonly aggregation: string;
  /** For `p(N)`: N in 0..100. */
  readonly percentile?: number;
  readonly operator: ThresholdOperator;
  readonly value: number;
}

/** Thresholds as a scenario declares them: a list, or k6's `{ metric: [expressions] }`. */
export type ThresholdSpec = readonly string[] | Readonly<Record<string, readonly string[]>>;

/** Thrown for a threshold that cannot be parsed; its message names the expression. */
export class ThresholdSyntaxError extends Error {
  override readonly name = 'ThresholdSyntaxError';
}

const PATTERN = /^\s*(?:([A-Za-z_][\w.-]*)\s*:\s*)?(p\(\s*(\d+(?:\.\d+)?)\s*\)|avg|min|max|med|rate|count|value)\s*(<=|>=|==|!=|<|>)\s*(-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)\s*$/i;

/** Metric an aggregation refers to when the expression names none. */
const DEFAULT_METRIC: Record<string, string> = {
  p: 'latency',
  avg: 'latency',
  min: 'latency',
  max: 'latency',
  med: 'latency',
  rate: 'errors',
  count: 'errors',
  value: 'errors',
};

/**
 * Parses a k6-style threshold.
 *
 * @example
 * parseThreshold('p(99)<200');            // latency p99 below 200 ms
 * parseThreshold('rate<0.01');            // error rate below 1 %
 * parseThreshold('duplicates: count==0'); // a custom metric the suite attached
 */
export function parseThreshold(expression: string): ParsedThreshold {
  const m = PATTERN.exec(expression);
  if (!m) {
    throw new ThresholdSyntaxError(
      `threshold "${expression}" is not valid: expected [metric:] p(N)|avg|min|max|med|rate|count|value <op> number, e.g. "p(99)<200"`,
    );
  }
  const [, metricName, aggRaw = '', pct, operator, valueRaw = ''] = m;
  const aggregation = aggRaw.toLowerCase().startsWith('p(') ? 'p' : aggRaw.toLowerCase();
  const percentile = pct === undefined ? undefined : Number(pct);
  if (percentile !== undefined && (percentile < 0 || percentile > 100)) {
    throw new ThresholdSyntaxError(`threshold "${expression}": percentile must be within 0..100`);
  }
  return {
    expression: expression.trim(),
    metric: metricName ?? DEFAULT_METRIC[aggregation] ?? 'latency',
    aggregation,
    ...(percentile === undefined ? {} : { percentile }),
    operator: operator as ThresholdOperator,
    value: Number(valueRaw),
  };
}

/** Flattens a {@link ThresholdSpec} into expressions (`{ m: ['count==0'] }` → `'m: count==0'`), validating each. */
export function normalizeThresholds(spec: ThresholdSpec | undefined): string[] {
  if (!spec) return [];
  const list = Array.isArray(spec)
    ? [...(spec as readonly string[])]
    : Object.entries(spec as Record<string, readonly string[]>).flatMap(([metric, exprs]) =>
        exprs.map((e) => `${metric}: ${e.trim()}`),
      );
  for (const e of list) parseThreshold(e);
  return list;
}

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
      if (t.aggregation === 'count' || t.aggregation === 'value') return { actual: v };
      return bad(' (custom metrics take count or value)');
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
