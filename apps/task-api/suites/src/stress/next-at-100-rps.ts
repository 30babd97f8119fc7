// GET /tasks/next at 100 requests per second across the five projects.
import type { HealthResponse, Verdict } from '@crucible/contracts';
import { constantArrivalRate, scenario } from '@crucible/load-engine';
import { expectVerdict } from '@crucible/checkers';
import type { SuiteStep } from '@crucible/suite-kit';
import { codeOf, healthOf, projectOf, requestAs, type StressContext } from './context.js';

/**
 * 100 requests per second (constant arrival rate, open model) on `GET /tasks/next` across the
 * five projects, after a warm-up: errors < 1 %, p99 < 200 ms, and the pool never ran out: no
 * 503 `pool_exhausted` answer (counted per answer) and no acquire timeout on any replica
 * (`/health` before and after). All connections busy at a peak is only reported.
 */
export const nextAt100Rps: SuiteStep<StressContext> = {
  name: 'GET /tasks/next at 100 RPS',
  async run(ctx, kit) {
    const duration = kit.args.profile === 'full' ? '60s' : '10s';
    const before = await healthOf(ctx.replicas.urls);
    const result = await kit.runOne(
      scenario({
        name: `GET /tasks/next at 100 RPS for ${duration}`,
        executor: constantArrivalRate({ rate: 100, duration, preAllocatedVUs: 20, maxVUs: 200 }),
        warmup: '5s',
        tags: { endpoint: 'GET /tasks/next', projects: '5' },
        metrics: { pool_exhausted_503: 'counter' },
        thresholds: ['p(99)<200', 'rate<0.01', 'pool_exhausted_503: count==0'],
        request: async (it) => {
          const res = await requestAs(ctx, it.iteration, projectOf(ctx, it.iteration), { path: '/tasks/next' });
          if (res.status === 503 && codeOf(res) === 'pool_exhausted') it.count('pool_exhausted_503');
          return res;
        },
        isSuccess: (res) => res.status === 200,
      }),
    );
    const after = await healthOf(ctx.replicas.urls);
    result.verdicts.push(poolNotExhausted(before, after));
    result.evidence.push({ title: 'Database pool per replica after the 100 RPS run (GET /health)', kind: 'json', content: after.map((h) => h.pool) });
    return result;
  },
};

/**
 * Pool exhaustion = a request that could not get a connection in time (an acquire timeout,
 * answered 503 `pool_exhausted`); the counter lives in each replica, so it is read before
 * and after. The peak is since start and this step runs first, so it is this step's peak.
 */
function poolNotExhausted(before: readonly HealthResponse[], after: readonly HealthResponse[]): Verdict {
  const timeouts = (hs: readonly HealthResponse[]) => hs.reduce((n, h) => n + (h.pool.acquire_timeouts ?? 0), 0);
  const during = timeouts(after) - timeouts(before);
  const peak = Math.max(...after.map((h) => h.pool.peak_in_use ?? 0));
  const max = Math.min(...after.map((h) => h.pool.max));
  return expectVerdict(
    'pool-not-exhausted',
    during === 0,
    `${during} acquire timeouts on ${after.length} replicas during the run (GET /health before and after); peak ${peak} of ${max} connections in use`,
    { pool_acquire_timeouts: during, pool_peak_in_use: peak, pool_max: max },
  );
}
