// The id-service scale suite as a definition: scale.ts runs it, scale.defects.test.ts runs
// its step against replicas carrying a planted defect, or behind a skewed balancer.
import { checkIds, type IdOperation } from '@crucible/checkers';
import { constantArrivalRate, scenario } from '@crucible/load-engine';
import type { SuiteDefinition, SuiteStep } from '@crucible/suite-kit';
import { counterDeltas, replicaCounters, replicaShareVerdict } from '@crucible/testbed';
import { reserveWithRetries } from './resilience.support.js';
import { sqlVerdicts } from './stress/reservations.js';

/** What the step shares: the balancer in front of the replicas, and the replicas themselves. */
export interface IdScaleContext {
  readonly balancedUrl: string;
  readonly replicaUrls: readonly string[];
}

/** The shared sequences every replica reserves on. */
const types = ['US', 'BUG', 'EPIC'];

/** How the step runs; the defaults are the suite's. */
export interface SharedSequencesPlan {
  /** Reservations per second through the balancer (default 60). */
  readonly rate?: number;
  /** Default 5 s (quick) or 20 s (full). */
  readonly duration?: string;
}

/**
 * Keyed `POST /ids/reserve` (count 1–3, an `Idempotency-Key` each, retried on 503 or no
 * answer) through nginx on three sequences of one project that every replica allocates from.
 * Verdicts: `replica-shares` (each replica's share from its own `/metrics`, 33 % ± 5 points),
 * `ids` (no number answered twice, ranges contiguous, by `checkIds`), and the SQL verdicts
 * of the stress suite (`id-reconciliation`: every call accounted for; `api-isolation`).
 */
export function sharedSequences(plan: SharedSequencesPlan = {}): SuiteStep<IdScaleContext> {
  const rate = plan.rate ?? 60;
  return {
    name: `3 replicas reserving on shared sequences at ${rate}/s`,
    // A second run would reconcile the same project's sequences twice over.
    rerunWhenStarved: false,
    async run(ctx, kit) {
      const duration = plan.duration ?? (kit.args.profile === 'full' ? '20s' : '5s');
      const projectId = `shared-${Date.now().toString(36)}`;
      const apiKey = (await kit.sut.createProject(projectId)).api_key;
      const before = await replicaCounters(ctx.replicaUrls);
      const result = await kit.runOne(
        scenario<IdOperation>({
          name: `shared sequences: keyed POST /ids/reserve through nginx at ${rate}/s over ${ctx.replicaUrls.length} replicas, ${types.length} sequences`,
          executor: constantArrivalRate({ rate, duration, preAllocatedVUs: 20, maxVUs: 200 }),
          baseUrl: ctx.balancedUrl,
          keepResponses: true,
          tags: { endpoint: 'POST /ids/reserve', replicas: String(ctx.replicaUrls.length) },
          thresholds: ['rate<0.01'],
          request: (it) =>
            reserveWithRetries(it.http, { apiKey, projectId, type: types[it.iteration % types.length] as string, count: 1 + (it.iteration % 3), idempotent: true, attempts: [], process: `vu${it.vu}` }),
          isSuccess: (op) => op.outcome === 'ok',
        }),
      );
      const counted = counterDeltas(before, await replicaCounters(ctx.replicaUrls)).map((d) => d.requests);
      const history = [...result.outcomes].sort((a, b) => a.index - b.index).flatMap((o) => (o.value ? [o.value as IdOperation] : []));
      result.outcomes.length = 0;
      const { verdict, shares } = replicaShareVerdict(counted, result.requests, ctx.replicaUrls);
      result.metrics['replica_share_min_pct'] = Math.min(...shares);
      result.metrics['replica_share_max_pct'] = Math.max(...shares);
      result.verdicts.push(verdict, checkIds(history, { reconciledBy: 'id-reconciliation' }), ...(await sqlVerdicts(kit.db, history, [projectId])));
      return result;
    },
  };
}

const replicas = 3;

/** Three id-service replicas behind the testbed's nginx on the embedded PostgreSQL. */
export const idScaleSuite: SuiteDefinition<IdScaleContext> = {
  name: 'id-service scale',
  target: 'scale',
  project: '@crucible/id-service-suites',
  sut: { apps: ['id-service'], replicas: { 'id-service': replicas }, balance: ['id-service'], env: { LOG_LEVEL: 'warn' } },
  config: { replicas, balancer: 'nginx (round robin, keep-alive, max_fails=1 fail_timeout=5s)', sequences: types },
  setup(kit) {
    const lb = kit.sut.balancer('id-service');
    kit.log(`nginx at ${lb.url} in front of ${lb.upstreams.join(', ')}`);
    return { balancedUrl: lb.url, replicaUrls: lb.upstreams };
  },
  steps: [sharedSequences()],
};
