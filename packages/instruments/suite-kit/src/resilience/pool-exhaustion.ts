import { latency } from '@crucible/chaos';
import { constantArrivalRate } from '@crucible/load-engine';
import { hungCalls, poolDrained, uncleanFailures } from '../calls.js';
import { percentileOf } from '../phases.js';
import type { SuiteStep } from '../suite.js';
import { callsAround, describeLoad, faultRows, isAlive, loadUnderFaults, measured, stepOf } from './load.js';
import { resilienceEnv, type ResilienceContext, type ResilienceWorkload } from './workload.js';

/** How long the pool-exhaustion step drives its load, when the queries are slow, and how long the pool may take to drain. */
export interface PoolExhaustionShape {
  /** The step's own project (a fresh one: its verdicts read only its rows). */
  readonly projectId: string;
  /** Arrivals per second; the workload's `steps.pool.rate` when left out. */
  readonly rate?: number;
  readonly durationS: number;
  /** When the database round trips turn slow (300 ms), from the start of the load, and for how long. */
  readonly slowAtMs: number;
  readonly slowForMs: number;
  /** How long the pool may take to be idle again after the load (past it, `pool_in_use`/`pool_waiting` are read as they are). */
  readonly drainWithinMs: number;
}

/** The suite's pool-exhaustion step: 10 s at the workload's rate, slow from 2 s for 5 s, 10 s to drain. */
export const poolExhaustionShape: PoolExhaustionShape = Object.freeze({ projectId: 'res-pool', durationS: 10, slowAtMs: 2000, slowForMs: 5000, drainWithinMs: 10_000 });

/**
 * 4. Slow queries (300 ms per database round trip for 5 s) and more concurrency than the
 * pool holds: fast 503 `pool_exhausted` after the acquire timeout, no hang, no crash, and
 * the pool idle again afterwards. `shape` resizes the step (a planted-defect test runs a few
 * seconds of it).
 */
export function poolExhaustionStep<Op>(w: ResilienceWorkload<Op>, shape: PoolExhaustionShape = poolExhaustionShape): SuiteStep<ResilienceContext> {
  const t = w.steps.pool;
  const projectId = shape.projectId;
  const rate = shape.rate ?? t.rate;
  return {
    name: 'pool exhaustion',
    async run(ctx, kit) {
      const executor = constantArrivalRate({ rate, duration: `${shape.durationS}s`, preAllocatedVUs: rate, maxVUs: 300 });
      const load = await loadUnderFaults(w, ctx, kit, { step: 'pool', projectId, executor, faults: [{ at: shape.slowAtMs, for: shape.slowForMs, proxy: ctx.link, fault: latency(300) }] });
      const step = stepOf(load.timeline);
      const during = callsAround(load, step).during;
      const exhausted = during.filter((c) => c.code === 'pool_exhausted');
      // The pool must drain: nothing in use, nobody waiting.
      const { pool, ms: drainedMs } = await poolDrained(ctx.url, shape.drainWithinMs);
      // Not idle by the deadline: no drain time at all, so `pool_drained_ms` fails naming it (not the give-up time).
      const drained = pool.total - pool.idle === 0 && pool.waiting === 0;
      // The process that took the load (a test's replica, or the suite's one): a replica stopped
      // before this step is no crash of this one.
      const serving = ctx.sut.apps[w.app]?.find((a) => a.url === ctx.url);
      const alive = serving !== undefined && isAlive(serving.pid);
      const limits = `DB_POOL_MAX ${resilienceEnv['DB_POOL_MAX']}, DB_ACQUIRE_TIMEOUT_MS ${resilienceEnv['DB_ACQUIRE_TIMEOUT_MS']}`;
      return faultRows(w, ctx, projectId, t, load, {
        name: 'pool exhaustion: slow queries, more concurrency than the pool',
        executor: `${describeLoad(executor, t.load ?? w.load)}, ${limits}`,
        step,
        targetRps: rate,
        before: { thresholds: ['errors: rate<0.05'] },
        during: {
          // 503 after the 1 s acquire timeout; the p99 bound leaves room for a CPU-starved event loop.
          thresholds: ['pool_exhausted: value>0', 'pool_exhausted_p50_ms: value<1500', 'pool_exhausted_p99_ms: value<3000', 'hung_requests: value==0', 'unclean_failures: value==0'],
          // No refusal leaves the p50/p99 out of the row: their thresholds fail with pool_exhausted's.
          metrics: measured({
            pool_exhausted: exhausted.length,
            pool_exhausted_p50_ms: percentileOf(exhausted, 50),
            pool_exhausted_p99_ms: percentileOf(exhausted, 99),
            pool_exhausted_without_retry_after: exhausted.filter((c) => !c.retryAfter).length,
            hung_requests: hungCalls(during),
            unclean_failures: uncleanFailures(during),
          }),
        },
        after: {
          thresholds: ['pool_in_use: value==0', 'pool_waiting: value==0', 'crashed: value==0', 'acquire_timeouts: value>0', `pool_drained_ms: value<${shape.drainWithinMs}`],
          // A service that does not report its acquire timeouts leaves them out: `acquire_timeouts: value>0` then fails.
          metrics: measured({
            pool_in_use: pool.total - pool.idle,
            pool_waiting: pool.waiting,
            pool_drained_ms: drained ? drainedMs : null,
            acquire_timeouts: pool.acquire_timeouts,
            pool_peak_in_use: pool.peak_in_use,
            crashed: alive ? 0 : 1,
          }),
          evidence: [{ title: 'pool after the fault (GET /health)', kind: 'json', content: pool }],
        },
      });
    },
  };
}
