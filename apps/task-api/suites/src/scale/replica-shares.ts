// Each replica's share of the traffic behind nginx, as each replica counted it itself.
import { constantArrivalRate, scenario } from '@crucible/load-engine';
import type { SuiteStep } from '@crucible/suite-kit';
import { counterDeltas, replicaCounters, replicaShareVerdict } from '@crucible/testbed';
import { bearer, type ScaleContext } from './context.js';

/** How the shares step runs; the defaults are the suite's. */
export interface ReplicaSharesPlan {
  /** `GET /tasks` per second through the balancer (default 100). */
  readonly rate?: number;
  /** Default 5 s (quick) or 20 s (full). */
  readonly duration?: string;
}

/**
 * `GET /tasks?limit=20` through nginx at a constant rate; each replica's share is the
 * requests its own `/metrics` counted during the run, over all replicas' count. The
 * `replica-shares` verdict (the testbed's `replicaShareVerdict`) holds each share within
 * 100/n % ± 5 points (33 % ± 5 with 3), with every request sent counted by some replica.
 * The row carries `replica_share_min_pct`
 * and `replica_share_max_pct`.
 */
export function replicaShares(plan: ReplicaSharesPlan = {}): SuiteStep<ScaleContext> {
  const rate = plan.rate ?? 100;
  return {
    name: `replica shares behind nginx at ${rate}/s`,
    async run(ctx, kit) {
      const duration = plan.duration ?? (kit.args.profile === 'full' ? '20s' : '5s');
      const n = ctx.replicaUrls.length;
      const project = ctx.projects[0] as string;
      const before = await replicaCounters(ctx.replicaUrls);
      const result = await kit.runOne(
        scenario({
          name: `replica shares: GET /tasks through nginx at ${rate}/s over ${n} replicas`,
          executor: constantArrivalRate({ rate, duration, preAllocatedVUs: 20, maxVUs: 200 }),
          baseUrl: ctx.balancedUrl,
          tags: { endpoint: 'GET /tasks', replicas: String(n) },
          request: (it) => it.http.request({ path: '/tasks?limit=20', headers: bearer(ctx, project), discardBody: true }),
          thresholds: ['rate<0.01'],
        }),
      );
      const counted = counterDeltas(before, await replicaCounters(ctx.replicaUrls)).map((d) => d.requests);
      const { verdict, shares } = replicaShareVerdict(counted, result.requests, ctx.replicaUrls);
      result.metrics['replica_share_min_pct'] = Math.min(...shares);
      result.metrics['replica_share_max_pct'] = Math.max(...shares);
      result.verdicts.push(verdict);
      return result;
    },
  };
}
