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
  /**
   * `p(99) over 10s < 300`: judged on every sliding window of this many whole seconds of the
   * run (per-second points), not on the totals — a bad 10 s the total would hide still fails.
   */
  readonly windowS?: number;
}

/** Metrics a sliding window (`… over 10s …`) may read: the ones each per-second point carries. */
export const WINDOWED_METRICS: readonly string[] = ['latency', 'errors', 'requests'];

/** Metrics a tag selector (`metric{key:value}`) may narrow: the ones a scenario breaks down by tag. */
export const TAGGABLE_METRICS: readonly string[] = ['latency', 'errors', 'requests'];

/**
 * A threshold that can stop the run (k6's form): when `abortOnFail`, the engine judges it
 * every second while the scenario runs, from `delayAbortEval` on (a duration: `'10s'`, or ms),
 * and stops the scenario the first second it fails; the report names it.
 */
export interface ThresholdRule {
  readonly threshold: string;
  readonly abortOnFail?: boolean;
  readonly delayAbortEval?: string | number;
}

/** One entry of a threshold list: an expression, or a {@link ThresholdRule}. */
export type ThresholdEntry = string | ThresholdRule;

/** Thresholds as a scenario declares them: a list, or k6's `{ metric: [expressions] }`. */
export type ThresholdSpec = readonly ThresholdEntry[] | Readonly<Record<string, readonly ThresholdEntry[]>>;

/** A threshold with its abort settings, validated: what {@link thresholdRules} returns. */
export interface NormalizedThreshold {
  readonly expression: string;
  readonly abortOnFail: boolean;
  /** From when (ms into the measured phase) an abort may act. */
  readonly delayAbortEvalMs: number;
}

/** Thrown for a threshold that cannot be parsed; its message names the expression. */
export class ThresholdSyntaxError extends InstrumentError<'threshold_syntax'> {
  override name = 'ThresholdSyntaxError';

  constructor(message: string) {
    super('threshold_syntax', message);
  }
}

const PATTERN = /^\s*(?:([A-Za-z_][\w.-]*)(?:\{\s*([A-Za-z_][\w.-]*)\s*:([^{}]*)\})?\s*:\s*)?(p\(\s*(\d+(?:\.\d+)?)\s*\)|avg|min|max|med|rate|count|value)(?:\s+over\s+(\d+)\s*(s|m))?\s*(<=|>=|==|!=|<|>)\s*(-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)\s*$/i;

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
 * parseThreshold('p(99) over 10s < 300');  // every sliding 10 s window of the run
 */
export function parseThreshold(expression: string): ParsedThreshold {
  const m = PATTERN.exec(expression);
  if (!m) {
    throw new ThresholdSyntaxError(
      `threshold "${expression}" is not valid: expected [metric[{tag:value}]:] p(N)|avg|min|max|med|rate|count|value [over Ns] <op> number, e.g. "p(99)<200", "latency{endpoint:GET /tasks}: p(99)<200" or "p(99) over 10s < 300"`,
    );
  }
  const [, metricName, tagKey, tagValue, aggRaw = '', pct, windowN, windowUnit, operator, valueRaw = ''] = m;
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
  const windowS = windowN === undefined ? undefined : Number(windowN) * (windowUnit === 'm' ? 60 : 1);
  if (windowS !== undefined) {
    if (windowS < 1) throw new ThresholdSyntaxError(`threshold "${expression}": a window is at least 1 s`);
    if (!WINDOWED_METRICS.includes(metric)) throw new ThresholdSyntaxError(`threshold "${expression}": only ${WINDOWED_METRICS.join(', ')} take a sliding window, not ${metric}`);
    // Per-second points carry no tag breakdown, so a window over one tag value cannot be measured.
    if (tag) throw new ThresholdSyntaxError(`threshold "${expression}": a sliding window reads the per-second points, which carry no tags; drop the tag or the window`);
  }
  return {
    expression: expression.trim(),
    metric,
    ...(tag ? { tag } : {}),
    ...(windowS === undefined ? {} : { windowS }),
    aggregation,
    ...(percentile === undefined ? {} : { percentile }),
    operator: operator as ThresholdOperator,
    value: Number(valueRaw),
  };
}

const DELAY = /^(\d+(?:\.\d+)?)(ms|s|m)$/;

function delayMs(raw: string | number | undefined, expression: string): number {
  if (raw === undefined) return 0;
  if (typeof raw === 'number' && Number.isFinite(raw) && raw >= 0) return raw;
  const m = typeof raw === 'string' ? DELAY.exec(raw.trim()) : null;
  if (!m) throw new ThresholdSyntaxError(`threshold "${expression}": delayAbortEval ${JSON.stringify(raw)} is not a duration (e.g. '10s', '500ms', or ms as a number)`);
  return Number(m[1]) * ({ ms: 1, s: 1000, m: 60_000 } as const)[m[2] as 'ms' | 's' | 'm'];
}

const RULE_KEYS = new Set(['threshold', 'abortOnFail', 'delayAbortEval']);

function ruleOf(entry: ThresholdEntry, metric: string | undefined): NormalizedThreshold {
  const prefix = (e: string) => (metric === undefined ? e : `${metric}: ${e.trim()}`);
  if (typeof entry === 'string') return { expression: prefix(entry), abortOnFail: false, delayAbortEvalMs: 0 };
  if (typeof entry !== 'object' || entry === null || typeof entry.threshold !== 'string') {
    throw new ThresholdSyntaxError(`threshold entry ${JSON.stringify(entry)} is neither an expression nor { threshold, abortOnFail?, delayAbortEval? }`);
  }
  const unknown = Object.keys(entry).filter((k) => !RULE_KEYS.has(k));
  if (unknown.length > 0) throw new ThresholdSyntaxError(`threshold "${entry.threshold}": unknown option ${unknown.map((k) => `"${k}"`).join(', ')} (known: ${[...RULE_KEYS].join(', ')})`);
  const expression = prefix(entry.threshold);
  return { expression, abortOnFail: entry.abortOnFail === true, delayAbortEvalMs: delayMs(entry.delayAbortEval, expression) };
}

/**
 * Flattens a {@link ThresholdSpec} into validated thresholds with their abort settings
 * (`{ m: ['count==0'] }` → `'m: count==0'`).
 *
 * @example
 * thresholdRules({ latency: [{ threshold: 'p(99) over 10s < 300', abortOnFail: true, delayAbortEval: '10s' }] });
 * // [{ expression: 'latency: p(99) over 10s < 300', abortOnFail: true, delayAbortEvalMs: 10000 }]
 */
export function thresholdRules(spec: ThresholdSpec | undefined): NormalizedThreshold[] {
  if (!spec) return [];
  const list = Array.isArray(spec)
    ? (spec as readonly ThresholdEntry[]).map((e) => ruleOf(e, undefined))
    : Object.entries(spec as Record<string, readonly ThresholdEntry[]>).flatMap(([metric, entries]) => entries.map((e) => ruleOf(e, metric)));
  for (const r of list) parseThreshold(r.expression);
  return list;
}

/**
 * Flattens a {@link ThresholdSpec} into expressions (`{ m: ['count==0'] }` → `'m: count==0'`),
 * validating each.
 *
 * @example
 * normalizeThresholds({ duplicates: ['count==0'], latency: ['p(95)<100'] }); // ['duplicates: count==0', 'latency: p(95)<100']
 */
export function normalizeThresholds(spec: ThresholdSpec | undefined): string[] {
  return thresholdRules(spec).map((r) => r.expression);
}
