import type { ChaosProxy, FaultSpec, TimelineRun } from '@crucible/chaos';
import type { Verdict } from '@crucible/contracts';
import type { Database } from '@crucible/db';
import { type Sut } from '@crucible/testbed';
import type { Kysely } from 'kysely';
import type { Http, HttpCall } from '../calls.js';
import type { DroppedSecond } from '../phases.js';

/** What every fault step of a resilience suite is given. */
export interface ResilienceContext {
  readonly sut: Sut;
  /** Base URL of the app under test. */
  readonly url: string;
  /** Direct (unproxied) connection to the system's database, for SQL evidence. */
  readonly db: Kysely<Database>;
  /** The Toxiproxy proxy between the app under test and PostgreSQL. */
  readonly link: ChaosProxy;
}

/** The fault step a load runs under; an operation may vary by it (payload size, mix). */
export type ResilienceStepName = 'latency' | 'down' | 'reset-timeout' | 'pool' | 'degraded' | 'isolation' | 'dependency';

/** What {@link ResilienceWorkload.operation} is given for one iteration of the load. */
export interface OperationInput {
  readonly http: Http;
  readonly apiKey: string;
  readonly projectId: string;
  readonly step: ResilienceStepName;
  /** Iteration number within the step's load, and the virtual user running it. */
  readonly iteration: number;
  readonly vu: number;
  /**
   * How long the operation may retry a 503 or a lost answer (with the same key): 10 s in
   * the reset_peer/timeout step, 0 (one attempt) elsewhere. See `withRetries`.
   */
  readonly deadlineMs: number;
  /** Every HTTP attempt goes here: the phase reports are built from them. */
  readonly calls: HttpCall[];
}

/** What a fault step's load recorded. */
export interface FaultLoad<Op> {
  /** Every HTTP attempt, in the order they ended. */
  readonly calls: readonly HttpCall[];
  /** One entry per logical operation, however many attempts it took. */
  readonly ops: readonly Op[];
  readonly timeline: TimelineRun;
  /** Iterations the open-model executor could not start (no free VU). */
  readonly dropped: number;
  /** The same, per second of the load that had any (see `PhaseReportInput.dropped`). */
  readonly droppedBySecond: readonly DroppedSecond[];
}

/**
 * What a workload adds to one phase row of a step, next to the kit's own: thresholds, and
 * the metrics and verdicts they read, computed from the load. `calls` are the calls of the
 * row's phase (or, for a per-fault row, of that fault).
 */
export interface PhaseAdditions<Op> {
  readonly thresholds?: readonly string[];
  readonly metrics?: (load: FaultLoad<Op>, calls: readonly HttpCall[]) => Record<string, number>;
  readonly verdicts?: (load: FaultLoad<Op>) => readonly Verdict[] | Promise<readonly Verdict[]>;
}

/** Tuning of one fault step: how hard to drive it, how to describe it, what to add. */
export interface StepTuning<Op> {
  /** Replaces the workload's `load` in this step's executor description. */
  readonly load?: string;
  readonly during?: PhaseAdditions<Op>;
  readonly after?: PhaseAdditions<Op>;
}

/** An open-model step: arrivals per second. */
export interface RateTuning<Op> extends StepTuning<Op> {
  readonly rate: number;
}

/** The closed-model reset_peer/timeout step: concurrent clients, each retrying. */
export interface VusTuning<Op> extends StepTuning<Op> {
  readonly vus: number;
}

/** The degraded-link step: its three faults and what each per-fault row adds. */
export interface DegradedTuning<Op> extends Omit<StepTuning<Op>, 'during'> {
  /**
   * A bandwidth cap, a slicer and a limit_data, applied one after the other (3 s each, from
   * 1.5 s, 4 s apart) on the database link. Their stream says which way the damage goes.
   */
  readonly faults: readonly [bandwidth: FaultSpec, slicer: FaultSpec, limitData: FaultSpec];
  readonly rate?: number;
  /** Added to each per-fault row (`database link: <fault>`), the step's `during` rows. */
  readonly perFault?: PhaseAdditions<Op>;
}

/** One operation of the dependency-outage load as the step judges it. */
export interface DependencyCall {
  /** Its (last) HTTP attempt. */
  readonly call: HttpCall;
  /** Whether it could only succeed with the dependency (a create that needs a generated id). */
  readonly needsDependency: boolean;
}

/**
 * The dependency-outage step: the app under test calls `app` (a testbed `needs` link,
 * faulted through the `<app>-from-<app under test>` proxy). Operations that do not need it
 * must keep working; those that do must be refused fast with `refusal` and succeed again
 * soon after it returns.
 */
export interface DependencyTuning<Op> {
  /** The app depended on, e.g. `id-service`. */
  readonly app: string;
  /** The error code of a refusal for want of it, e.g. `dependency_unavailable`. */
  readonly refusal: string;
  /** Arrivals per second (default 30). */
  readonly rate?: number;
  /** The load, for the executor description. */
  readonly load?: string;
  /** Which call an operation made and whether it needed the dependency; `undefined` leaves it out. */
  split(op: Op): DependencyCall | undefined;
  /** Correctness verdicts over the outage (e.g. ids reconciled with the dependency's registry), on the `after` row. */
  verdicts?(ctx: ResilienceContext, projectId: string, ops: readonly Op[]): Promise<readonly Verdict[]>;
}

/**
 * What an app supplies to get the shared resilience suite: its names, one logical
 * operation, how to judge it, and the tuning of each fault step.
 *
 * @example
 * suiteMain(resilienceSuite<IdOperation>({
 *   app: 'id-service', peer: 'task-api', project: '@crucible/id-service-suites',
 *   warmPath: '/ids/registry', load: 'keyed POST /ids/reserve', operations: 'reservations',
 *   operation: (o) => reserveWithRetries(o.http, { ...o, type: 'US', count: 1, idempotent: true, attempts: o.calls }),
 *   isOk: (op) => op.outcome === 'ok',
 *   verdicts: async (ctx, projectId, ops) => [reconcile(ctx, projectId, ops)],
 *   steps: { latency: { rate: 12 }, resetTimeout: { vus: 8, load: '…' }, pool: { rate: 40 }, degraded: { faults: [bandwidth(8), slicer(16, 8, 500), limitData(3000)] } },
 * }));
 */
export interface ResilienceWorkload<Op> {
  /** The app under test, e.g. `id-service`; it runs behind Toxiproxy, with `peer`. */
  readonly app: string;
  /**
   * The other app. Without a `dependency`, the failure-isolation step kills it for 4 s and
   * starts it again (the app under test must not notice).
   */
  readonly peer: string;
  /** An app the app under test calls: the dependency-outage step replaces the peer kill. */
  readonly dependency?: DependencyTuning<Op>;
  /** Nx project the report belongs to when `NX_TASK_TARGET_PROJECT` is unset. */
  readonly project: string;
  /** A GET sent once per new key before its load, so no measured call pays the key's first verification. */
  readonly warmPath: string;
  /** The load, for executor descriptions, e.g. `keyed POST /ids/reserve`. */
  readonly load: string;
  /** What the operations are called in scenario names, e.g. `reservations`, `writes`. */
  readonly operations: string;
  /** One logical operation, every attempt pushed to `input.calls`; never throws for an HTTP failure. */
  operation(input: OperationInput): Promise<Op>;
  /** Whether an operation counts as a success for the load engine's error rate. */
  isOk(op: Op): boolean;
  /** The correctness verdicts of a step's operations (its project's state in the database), on every step's `after` row. */
  verdicts(ctx: ResilienceContext, projectId: string, ops: readonly Op[]): Promise<readonly Verdict[]>;
  readonly steps: {
    readonly latency: RateTuning<Op>;
    readonly down?: StepTuning<Op>;
    readonly resetTimeout: VusTuning<Op>;
    readonly pool: RateTuning<Op>;
    readonly degraded: DegradedTuning<Op>;
    readonly isolation?: StepTuning<Op>;
  };
}

/**
 * The apps' limits during a resilience suite: short client-side limits, so a silent link
 * turns into a fast 503, not a long wait.
 */
export const resilienceEnv: Readonly<Record<string, string>> = Object.freeze({
  LOG_LEVEL: 'warn',
  DB_POOL_MAX: '10',
  DB_ACQUIRE_TIMEOUT_MS: '1000',
  DB_STATEMENT_TIMEOUT_MS: '2000',
  DB_QUERY_TIMEOUT_MS: '2500',
});
