import { InstrumentError, parseThreshold, thresholdRules, type NormalizedThreshold, type ThresholdSpec } from '@crucible/instrument-kit';
import { judgedLive } from './abort-watch.js';
import type { Duration } from './duration.js';
import { toMs } from './duration.js';
import type { ExecutorConfig } from './executors.js';
import type { HttpRequest, HttpResponse } from './http-client.js';
import type { WebSocketClient } from './ws-client.js';

/**
 * Kinds of custom metric a scenario declares, as k6 declares `new Counter()` / `new Rate()`:
 * a `counter` adds up (`ctx.count`), a `rate` is the fraction of true samples (`ctx.rate`).
 */
export type MetricKind = 'counter' | 'rate';

/** A scenario's custom metrics by name: `{ pool_exhausted_503: 'counter', cache_hit: 'rate' }`. */
export type MetricDeclarations = Readonly<Record<string, MetricKind>>;

/** No custom metrics: `ctx.count` and `ctx.rate` accept no name. */
export type NoMetrics = Readonly<Record<never, MetricKind>>;

/** Names of the metrics of kind `K` in `D` (every string when `D` is not known). */
export type MetricNames<D extends MetricDeclarations, K extends MetricKind> = { [N in keyof D]: K extends D[N] ? N : never }[keyof D] & string;

/** What an iteration's request function receives; `D` types the names `count` and `rate` accept. */
export interface IterationContext<D extends MetricDeclarations = MetricDeclarations> {
  /** Scenario name. */
  readonly scenario: string;
  /** Virtual user number (unique within the scenario across segments). */
  readonly vu: number;
  /** Iteration index: the global schedule index in open models, the VU's own counter in closed ones. */
  readonly iteration: number;
  /** HTTP through the scenario's connection pool (the engine's HTTP/1.1 client); `tags` of a request land on the iteration's sample. */
  readonly http: { request(req: HttpRequest): Promise<HttpResponse> };
  /** WebSocket connections (closed when the VU stops). */
  readonly ws: WebSocketClient;
  /** State that lives as long as the VU (e.g. an open socket, a counter). */
  readonly vars: Record<string, unknown>;
  /** Aborted when the scenario is stopped past its graceful stop. */
  readonly signal: AbortSignal;
  /** Adds a tag to this iteration's sample. */
  tag(key: string, value: string): void;
  /**
   * Adds `n` (default 1) to a counter the scenario declared in `metrics`; it is reported under
   * `metrics` and read by thresholds such as `pool_exhausted_503: count==0`. An undeclared
   * name throws an `InstrumentError` (`invalid_scenario`) and stops the run.
   */
  count(metric: MetricNames<D, 'counter'>, n?: number): void;
  /** Adds a sample to a rate the scenario declared in `metrics` (`cache_hit: rate>0.9` reads the fraction of `true`). */
  rate(metric: MetricNames<D, 'rate'>, ok: boolean): void;
  /** Waits (closed-model pacing). */
  sleep(duration: Duration): Promise<void>;
}

/** A scenario as written by a suite; see {@link scenario}. */
export interface ScenarioDefinition<R, D extends MetricDeclarations = MetricDeclarations> {
  /** Unique within a run; names the scenario in every report. */
  readonly name: string;
  readonly executor: ExecutorConfig;
  /** One iteration. Throwing counts as an error (its `code`/`name` is the error kind). */
  readonly request: (ctx: IterationContext<D>) => Promise<R>;
  /** Named checks of the iteration's result; a failing check fails the iteration. */
  readonly checks?: Readonly<Record<string, (result: R) => boolean>>;
  /** Whether a result counts as a success when no check says otherwise (default: `status < 400` if it has a status). */
  readonly isSuccess?: (result: R) => boolean;
  /** Tags on every sample of the scenario (`scenario` is added). */
  readonly tags?: Readonly<Record<string, string>>;
  /** k6-style thresholds: `['p(99)<200', 'rate<0.01']` or `{ duplicates: ['count==0'] }`. */
  readonly thresholds?: ThresholdSpec;
  /**
   * Custom metrics the engine counts, declared next to the thresholds that read them. A
   * declared counter nobody incremented reads 0, so `name: count==0` is judged on a real count.
   */
  readonly metrics?: D;
  /** Time run at the executor's load before measuring; not counted. */
  readonly warmup?: Duration;
  /** Base URL of `ctx.http` (default: the run's `baseUrl`). */
  readonly baseUrl?: string;
  /** HTTP connections of the scenario's pool (default: maxVUs of open models, VUs of closed models, requests of a burst; at most 1024). */
  readonly connections?: number;
  /** Delay from the run start (scenarios of a run start together unless `sequential`). */
  readonly startTime?: Duration;
  /** How long in-flight iterations may finish after the schedule ends (default 10 s); then they are aborted. */
  readonly gracefulStop?: Duration;
  /**
   * Tag whose values split the report (requests, errors, latency per value); default
   * `endpoint`. Set it with `ctx.http.request({ …, tags: { endpoint: 'GET /tasks' } })` or `ctx.tag`.
   */
  readonly breakdownBy?: string;
  /** Keep every iteration's result in `ScenarioResult.outcomes` (default: true for bursts). */
  readonly keepResponses?: boolean;
}

/** A validated scenario, ready for {@link run}. */
export interface Scenario<R = unknown, D extends MetricDeclarations = MetricDeclarations> extends Omit<ScenarioDefinition<R, D>, 'thresholds' | 'metrics'> {
  readonly thresholds: readonly string[];
  /** The thresholds with `abortOnFail`, judged every second while the scenario runs. */
  readonly abortOn: readonly NormalizedThreshold[];
  readonly metrics: D;
  readonly warmupMs: number;
  readonly startTimeMs: number;
  readonly gracefulStopMs: number;
  readonly tags: Readonly<Record<string, string>>;
}

/** Built-in metric names a custom metric may not take (reports already have them). */
const BUILTIN_METRICS: ReadonlySet<string> = new Set(['latency', 'errors', 'requests', 'dropped_iterations', 'checks', 'schedule_lag']);
const METRIC_NAME = /^[A-Za-z_][\w.-]*$/;
/** Aggregations that read each kind of custom metric. */
const READS: Record<MetricKind, readonly string[]> = { counter: ['count', 'value'], rate: ['rate', 'value'] };

function invalid(name: string, why: string): InstrumentError<'invalid_scenario'> {
  return new InstrumentError('invalid_scenario', `scenario "${name}": ${why}`);
}

function checkMetrics(name: string, metrics: MetricDeclarations, thresholds: readonly string[], breakdownBy: string): void {
  for (const [metric, kind] of Object.entries(metrics)) {
    if (!METRIC_NAME.test(metric)) throw invalid(name, `metric name "${metric}" is not valid (letters, digits, _ . -; it must start with a letter or _)`);
    if (BUILTIN_METRICS.has(metric)) throw invalid(name, `metric "${metric}" is built in; declare a custom metric under another name`);
    if (kind !== 'counter' && kind !== 'rate') throw invalid(name, `metric "${metric}" has kind "${String(kind)}" (use 'counter' or 'rate')`);
  }
  for (const expression of thresholds) {
    const t = parseThreshold(expression);
    const kind = metrics[t.metric];
    if (kind && !READS[kind].includes(t.aggregation)) throw invalid(name, `threshold "${expression}" reads ${kind} "${t.metric}" with "${t.aggregation}" (a ${kind} takes ${READS[kind].join(' or ')})`);
    // The report splits by one tag only: a selector on another could never be measured.
    if (t.tag && t.tag.key !== breakdownBy) throw invalid(name, `threshold "${expression}" selects tag "${t.tag.key}", but the scenario breaks down by "${breakdownBy}" (set breakdownBy: '${t.tag.key}')`);
  }
}

/**
 * Declares a scenario. Throws at once (an `InstrumentError`: `invalid_scenario`, or
 * `threshold_syntax`) on a bad name, a malformed threshold, a bad duration, or a custom metric
 * a threshold reads the wrong way, so a typo never turns into a silent pass. `metrics` types
 * the names `ctx.count` and `ctx.rate` accept.
 *
 * @example
 * const reserve = scenario({
 *   name: 'reserve ids',
 *   executor: constantArrivalRate({ rate: 100, duration: '10s', preAllocatedVUs: 20, maxVUs: 200 }),
 *   warmup: '2s',
 *   tags: { endpoint: 'POST /ids/reserve' },
 *   request: (ctx) => ctx.http.request({ method: 'POST', path: '/ids/reserve', headers: { authorization: `Bearer ${key}` }, body: { type: 'US', count: 1 } }),
 *   checks: { 'status is 201': (res) => res.status === 201 },
 *   thresholds: ['p(99)<200', 'rate<0.01', 'pool_exhausted_503: count==0'],
 *   metrics: { pool_exhausted_503: 'counter' },
 * });
 * // in request: if (res.status === 503) ctx.count('pool_exhausted_503');
 */
export function scenario<R, const D extends MetricDeclarations = NoMetrics>(def: ScenarioDefinition<R, D>): Scenario<R, D> {
  if (!def.name || typeof def.name !== 'string') throw new InstrumentError('invalid_scenario', 'scenario name must be a non-empty string');
  if (typeof def.request !== 'function') throw invalid(def.name, 'request must be a function');
  if (def.warmup !== undefined && def.executor.type === 'burst') throw invalid(def.name, 'a burst has no warm-up (it would send the burst twice)');
  const rules = thresholdRules(def.thresholds);
  const thresholds = rules.map((r) => r.expression);
  const metrics = Object.freeze({ ...def.metrics }) as D;
  checkMetrics(def.name, metrics, thresholds, def.breakdownBy ?? 'endpoint');
  const abortOn = rules.filter((r) => r.abortOnFail);
  for (const r of abortOn) {
    if (!judgedLive(parseThreshold(r.expression), metrics)) throw invalid(def.name, `threshold "${r.expression}" cannot abort the run: abortOnFail judges latency, errors, requests or a declared custom metric while the run goes (no tag selector)`);
  }
  return Object.freeze({
    ...def,
    thresholds,
    abortOn,
    metrics,
    warmupMs: def.warmup === undefined ? 0 : toMs(def.warmup),
    startTimeMs: def.startTime === undefined ? 0 : toMs(def.startTime),
    gracefulStopMs: def.gracefulStop === undefined ? 10_000 : toMs(def.gracefulStop),
    tags: { ...def.tags },
  });
}
