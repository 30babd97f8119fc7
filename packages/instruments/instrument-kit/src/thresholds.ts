import { InstrumentError } from './errors.js';

/**
 * The threshold *syntax*, k6-style: `[metric:] aggregation operator number`. It sits here, at
 * the bottom of the graph, so the load engine can refuse a malformed threshold when a scenario
 * is declared; evaluating thresholds against measurements is `@crucible/reporting`'s job.
 */

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
  /**
   * `latency{endpoint:GET /tasks}`: the threshold reads only the iterations that carried this
   * tag value (the scenario's breakdown by `key`). Only latency, errors and requests take one.
   */
  readonly tag?: { readonly key: string; readonly value: string };
}

/** Metrics a tag selector (`metric{key:value}`) may narrow: the ones a scenario breaks down by tag. */
export const TAGGABLE_METRICS: readonly string[] = ['latency', 'errors', 'requests'];

/** Thresholds as a scenario declares them: a list, or k6's `{ metric: [expressions] }`. */
export type ThresholdSpec = readonly string[] | Readonly<Record<string, readonly string[]>>;

/** Thrown for a threshold that cannot be parsed; its message names the expression. */
export class ThresholdSyntaxError extends InstrumentError<'threshold_syntax'> {
  override name = 'ThresholdSyntaxError';

  constructor(message: string) {
    super('threshold_syntax', message);
  }
}

const PATTERN = /^\s*(?:([A-Za-z_][\w.-]*)(?:\{\s*([A-Za-z_][\w.-]*)\s*:([^{}]*)\})?\s*:\s*)?(p\(\s*(\d+(?:\.\d+)?)\s*\)|avg|min|max|med|rate|count|value)\s*(<=|>=|==|!=|<|>)\s*(-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)\s*$/i;

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
 * Parses a k6-style threshold; throws a {@link ThresholdSyntaxError} naming a malformed one.
 *
 * @example
 * parseThreshold('p(99)<200');            // latency p99 below 200 ms
 * parseThreshold('rate<0.01');            // error rate below 1 %
 * parseThreshold('duplicates: count==0'); // a custom metric (counted by the engine or attached)
 * parseThreshold('latency{endpoint:GET /tasks}: p(99)<200'); // the iterations tagged endpoint=GET /tasks
 */
export function parseThreshold(expression: string): ParsedThreshold {
  const m = PATTERN.exec(expression);
  if (!m) {
    throw new ThresholdSyntaxError(
      `threshold "${expression}" is not valid: expected [metric[{tag:value}]:] p(N)|avg|min|max|med|rate|count|value <op> number, e.g. "p(99)<200" or "latency{endpoint:GET /tasks}: p(99)<200"`,
    );
  }
  const [, metricName, tagKey, tagValue, aggRaw = '', pct, operator, valueRaw = ''] = m;
  const aggregation = aggRaw.toLowerCase().startsWith('p(') ? 'p' : aggRaw.toLowerCase();
  const percentile = pct === undefined ? undefined : Number(pct);
  if (percentile !== undefined && (percentile < 0 || percentile > 100)) {
    throw new ThresholdSyntaxError(`threshold "${expression}": percentile must be within 0..100`);
  }
  const metric = metricName ?? DEFAULT_METRIC[aggregation] ?? 'latency';
  const tag = tagKey === undefined ? undefined : { key: tagKey, value: (tagValue ?? '').trim() };
  if (tag && !TAGGABLE_METRICS.includes(metric)) {
    throw new ThresholdSyntaxError(`threshold "${expression}": only ${TAGGABLE_METRICS.join(', ')} take a tag selector, not ${metric}`);
  }
  if (tag && tag.value === '') throw new ThresholdSyntaxError(`threshold "${expression}": the tag selector {${tag.key}:} names no value`);
  return {
    expression: expression.trim(),
    metric,
    ...(tag ? { tag } : {}),
    aggregation,
    ...(percentile === undefined ? {} : { percentile }),
    operator: operator as ThresholdOperator,
    value: Number(valueRaw),
  };
}

/**
 * Flattens a {@link ThresholdSpec} into expressions (`{ m: ['count==0'] }` → `'m: count==0'`),
 * validating each.
 *
 * @example
 * normalizeThresholds({ duplicates: ['count==0'], latency: ['p(95)<100'] }); // ['duplicates: count==0', 'latency: p(95)<100']
 */
export function normalizeThresholds(spec: ThresholdSpec | undefined): string[] {
  if (!spec) return [];
  const list = Array.isArray(spec)
    ? [...(spec as readonly string[])]
    : Object.entries(spec as Record<string, readonly string[]>).flatMap(([metric, exprs]) => exprs.map((e) => `${metric}: ${e.trim()}`));
  for (const e of list) parseThreshold(e);
  return list;
}
