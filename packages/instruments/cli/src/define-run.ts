import type { Verdict } from '@crucible/contracts';
import type { ChaosSpec } from './chaos-run.js';
import type { Duration, IterationContext, IterationOutcome, MetricDeclarations, ScenarioDefinition } from '@crucible/load-engine';

/**
 * The shape of a scenario file: `export default defineRun({ scenarios, thresholds })`. Types
 * catch what they can before anything runs — a threshold expression's syntax, a run-level
 * threshold's metric, a `ctx.count` name the scenario did not declare; `crucible run`
 * checks the rest (a metric a threshold names, unknown keys in a `.js` file) before the run
 * starts and exits 2 naming it.
 */

/** Metrics every scenario report has (see `@crucible/reporting`'s `BUILTIN_METRICS`). */
export type BuiltinMetric = 'latency' | 'errors' | 'requests' | 'dropped_iterations' | 'checks' | 'schedule_lag';

type Operator = '<' | '<=' | '>' | '>=' | '==' | '!=';
type Aggregation = 'avg' | 'min' | 'max' | 'med' | 'rate' | 'count' | 'value' | `p(${number})`;

/** One threshold expression without a metric: `p(99)<200`, `rate < 0.01`, `count==0`, `p(99) over 10s < 300`. */
export type ThresholdExpression =
  | `${Aggregation}${Operator}${number}`
  | `${Aggregation} ${Operator} ${number}`
  | `${Aggregation} over ${number}${'s' | 'm'} ${Operator} ${number}`
  | `${Aggregation} over ${number}${'s' | 'm'}${Operator}${number}`;

/** A metric narrowed to one tag value of the breakdown: `latency{endpoint:GET /items}`. */
export type TaggedMetric = `${'latency' | 'errors' | 'requests'}{${string}:${string}}`;

/** A threshold naming its metric (`errors: rate<0.01`), or one that reads the default metric. */
export type NamedThreshold<M extends string> = ThresholdExpression | `${M | TaggedMetric}: ${ThresholdExpression}` | `${M | TaggedMetric}:${ThresholdExpression}`;

/** A threshold that stops the scenario the first second it fails (from `delayAbortEval` on). */
export interface AbortingThreshold<E extends string> {
  readonly threshold: E;
  readonly abortOnFail?: boolean;
  readonly delayAbortEval?: Duration;
}

/** Thresholds as a list (`['p(99)<200', 'errors: rate<0.01']`) or k6's map (`{ latency: ['p(99)<200'] }`). */
export type Thresholds<M extends string> =
  | readonly (NamedThreshold<M> | AbortingThreshold<NamedThreshold<M>>)[]
  | { readonly [K in M | TaggedMetric]?: readonly (ThresholdExpression | AbortingThreshold<ThresholdExpression>)[] };

/**
 * One scenario of a run, keyed by its name in `scenarios`: the options of the load engine's
 * `scenario()` (executor, request, checks, metrics, warm-up, tags …). `metrics` types the names
 * `ctx.count`/`ctx.rate` accept and the custom metrics `thresholds` may name.
 */
export interface ScenarioSpec<D extends MetricDeclarations = MetricDeclarations> extends Omit<ScenarioDefinition<unknown, D>, 'name' | 'request' | 'checks' | 'isSuccess' | 'thresholds' | 'metrics'> {
  readonly metrics?: D;
  /** One iteration; what it returns is what `checks` receive. */
  // The result is `any`: a per-scenario result type cannot be inferred through a keyed map of scenarios.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly request: (ctx: IterationContext<D>) => Promise<any>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly checks?: Readonly<Record<string, (result: any) => boolean>>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly isSuccess?: (result: any) => boolean;
  // NoInfer: the declared `metrics` decide which names a threshold may use, not the other way round.
  readonly thresholds?: NoInfer<Thresholds<BuiltinMetric | (keyof D & string)>>;
  /**
   * Correctness after the run: receives every iteration's outcome (what `request` returned,
   * whether it succeeded) and returns verdicts — e.g. `checkIds` of `@crucible/cli` on the ids
   * a user's own endpoint handed out. A failed verdict fails the run (exit 1), an
   * `indeterminate` one makes it inconclusive (exit 4). Setting it keeps every outcome.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly verify?: (outcomes: readonly IterationOutcome<any>[]) => Verdict | readonly Verdict[] | Promise<Verdict | readonly Verdict[]>;
}

/** What a scenario file defines. */
export interface RunDefinition<M extends Record<string, MetricDeclarations> = Record<string, MetricDeclarations>> {
  /** Scenarios by name (names appear in every report). */
  readonly scenarios: { readonly [K in keyof M]: ScenarioSpec<M[K]> };
  /**
   * Thresholds on built-in metrics that every scenario must meet, e.g. `{ errors: ['rate<0.01'] }`
   * (a scenario's own `thresholds` add to them; `crucible run --threshold` adds more).
   */
  readonly thresholds?: Thresholds<BuiltinMetric>;
  /** Base URL of `ctx.http` for scenarios that set none; `--base-url` wins. */
  readonly baseUrl?: string;
  /** Run the scenarios one after another instead of together. */
  readonly sequential?: boolean;
  /**
   * A chaos timeline through a real Toxiproxy in front of the service (any TCP upstream): the
   * load goes through the proxy, each fault acts on time, and the report gets rows before,
   * during each fault and after them, with their own thresholds.
   */
  readonly chaos?: ChaosSpec;
}

/** Marks a value as {@link defineRun}'s, across copies of this module (a `Symbol.for` key). */
export const RUN_DEFINITION: unique symbol = Symbol.for('@crucible/cli.run-definition') as never;

/** A run definition as {@link defineRun} returns it: the file's default export. */
export interface DefinedRun {
  readonly [RUN_DEFINITION]: true;
  readonly definition: RunDefinition;
}

/**
 * Declares a scenario file's run; export it as the default export and run it with
 * `crucible run <file>`. Nothing is validated here (the CLI validates the whole run with the
 * command line's `--threshold`s, and exits 2 naming the problem before any request is sent).
 *
 * @example
 * import { constantArrivalRate, defineRun } from '@crucible/cli';
 *
 * export default defineRun({
 *   scenarios: {
 *     'list items': {
 *       executor: constantArrivalRate({ rate: 50, duration: '10s', preAllocatedVUs: 10 }),
 *       metrics: { empty_page: 'counter' },
 *       request: async (ctx) => {
 *         const res = await ctx.http.request({ path: '/items', tags: { endpoint: 'GET /items' } });
 *         if (res.json<unknown[]>().length === 0) ctx.count('empty_page');
 *         return res;
 *       },
 *       checks: { 'status is 200': (res) => res.status === 200 },
 *       thresholds: ['p(99)<200', 'empty_page: count==0'],
 *     },
 *   },
 *   thresholds: { errors: ['rate<0.01'] },
 * });
 */
export function defineRun<const M extends Record<string, MetricDeclarations>>(definition: RunDefinition<M>): DefinedRun {
  return Object.freeze({ [RUN_DEFINITION]: true as const, definition: definition as unknown as RunDefinition });
}

/** Whether a module's export is a {@link defineRun} value. */
export function isDefinedRun(value: unknown): value is DefinedRun {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[RUN_DEFINITION] === true;
}

/** Re-exported so a scenario file needs one import. */
export type { Duration };
