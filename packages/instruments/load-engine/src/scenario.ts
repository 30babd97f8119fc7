import { normalizeThresholds, type ThresholdSpec } from '@crucible/reporting';
import type { Duration } from './duration.js';
import { toMs } from './duration.js';
import type { ExecutorConfig } from './executors.js';
import type { HttpRequest, HttpResponse } from './http-client.js';
import type { WebSocketClient } from './ws-client.js';

/** What an iteration's request function receives. */
export interface IterationContext {
  /** Scenario name. */
  readonly scenario: string;
  /** Virtual user number (unique within the scenario across segments). */
  readonly vu: number;
  /** Iteration index: the global schedule index in open models, the VU's own counter in closed ones. */
  readonly iteration: number;
  /** HTTP through the scenario's undici Pool; `tags` of a request land on the iteration's sample. */
  readonly http: { request(req: HttpRequest): Promise<HttpResponse> };
  /** WebSocket connections (closed when the VU stops). */
  readonly ws: WebSocketClient;
  /** State that lives as long as the VU (e.g. an open socket, a counter). */
  readonly vars: Record<string, unknown>;
  /** Aborted when the scenario is stopped past its graceful stop. */
  readonly signal: AbortSignal;
  /** Adds a tag to this iteration's sample. */
  tag(key: string, value: string): void;
  /** Adds to a custom counter metric of the scenario (reported under `metrics`, usable in thresholds). */
  count(metric: string, value?: number): void;
  /** Waits (closed-model pacing). */
  sleep(duration: Duration): Promise<void>;
}

/** A scenario as written by a suite; see {@link scenario}. */
export interface ScenarioDefinition<R> {
  /** Unique within a run; names the scenario in every report. */
  readonly name: string;
  readonly executor: ExecutorConfig;
  /** One iteration. Throwing counts as an error (its `code`/`name` is the error kind). */
  readonly request: (ctx: IterationContext) => Promise<R>;
  /** Named checks of the iteration's result; a failing check fails the iteration. */
  readonly checks?: Readonly<Record<string, (result: R) => boolean>>;
  /** Whether a result counts as a success when no check says otherwise (default: `status < 400` if it has a status). */
  readonly isSuccess?: (result: R) => boolean;
  /** Tags on every sample of the scenario (`scenario` is added). */
  readonly tags?: Readonly<Record<string, string>>;
  /** k6-style thresholds: `['p(99)<200', 'rate<0.01']` or `{ duplicates: ['count==0'] }`. */
  readonly thresholds?: ThresholdSpec;
  /** Time run at the executor's load before measuring; not counted. */
  readonly warmup?: Duration;
  /** Base URL of `ctx.http` (default: the run's `baseUrl`). */
  readonly baseUrl?: string;
  /** undici Pool connections (default: maxVUs of open models, VUs of closed models, requests of a burst; at most 1024). */
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
export interface Scenario<R = unknown> extends Omit<ScenarioDefinition<R>, 'thresholds'> {
  readonly thresholds: readonly string[];
  readonly warmupMs: number;
  readonly startTimeMs: number;
  readonly gracefulStopMs: number;
  readonly tags: Readonly<Record<string, string>>;
}

/**
 * Declares a scenario. Throws at once on a bad name, a malformed threshold or a bad duration,
 * so a typo never turns into a silent pass.
 *
 * @example
 * const reserve = scenario({
 *   name: 'reserve ids',
 *   executor: constantArrivalRate({ rate: 100, duration: '10s', preAllocatedVUs: 20, maxVUs: 200 }),
 *   warmup: '2s',
 *   tags: { endpoint: 'POST /ids/reserve' },
 *   request: (ctx) => ctx.http.request({ method: 'POST', path: '/ids/reserve', headers: { authorization: `Bearer ${key}` }, body: { type: 'US', count: 1 } }),
 *   checks: { 'status is 201': (res) => res.status === 201 },
 *   thresholds: ['p(99)<200', 'rate<0.01'],
 * });
 */
export function scenario<R>(def: ScenarioDefinition<R>): Scenario<R> {
  if (!def.name || typeof def.name !== 'string') throw new TypeError('scenario name must be a non-empty string');
  if (typeof def.request !== 'function') throw new TypeError(`scenario "${def.name}": request must be a function`);
  if (def.warmup !== undefined && def.executor.type === 'burst') throw new TypeError(`scenario "${def.name}": a burst has no warm-up (it would send the burst twice)`);
  return Object.freeze({
    ...def,
    thresholds: normalizeThresholds(def.thresholds),
    warmupMs: def.warmup === undefined ? 0 : toMs(def.warmup),
    startTimeMs: def.startTime === undefined ? 0 : toMs(def.startTime),
    gracefulStopMs: def.gracefulStop === undefined ? 10_000 : toMs(def.gracefulStop),
    tags: { ...def.tags },
  });
}
