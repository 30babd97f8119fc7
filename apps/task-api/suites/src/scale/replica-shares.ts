// Each replica's share of the traffic behind nginx, as each replica counted it itself.
import { expectVerdict } from '@crucible/checkers';
import { constantArrivalRate, scenario } from '@crucible/load-engine';
import type { SuiteStep } from '@crucible/suite-kit';
import { counterDeltas, replicaCounters } from '@crucible/testbed';
import { bearer, type ScaleContext } from './context.js';

/** The fair share of each of n replicas, and how far from it a share may be (percentage points). */
export const shareTolerancePoints = 5;

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
 * `replica-shares` verdict holds each share within 100/n % ± 5 points (33 % ± 5 with 3),
 * and needs every request the load sent to have been counted by some replica (a replica
 * that is not counted cannot hide in the shares). The row carries `replica_share_min_pct`
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
      const total = counted.reduce((a, b) => a + b, 0);
      const shares = counted.map((c) => (total ? Math.round((c / total) * 1000) / 10 : 0));
      const fair = 100 / n;
      const off = shares.map((s, i) => ({ replica: i, url: ctx.replicaUrls[i], share_pct: s })).filter((s) => Math.abs(s.share_pct - fair) > shareTolerancePoints);
      // Every answered request (the warm-up included) went through some replica's counter.
      const sent = result.requests;
      const counts = Object.fromEntries([...shares.map((s, i) => [`replica_${i}_share_pct`, s]), ...counted.map((c, i) => [`replica_${i}_requests`, c]), ['counted', total], ['sent', sent]]);
      result.metrics['replica_share_min_pct'] = Math.min(...shares);
      result.metrics['replica_share_max_pct'] = Math.max(...shares);
      result.verdicts.push(
        expectVerdict(
          'replica-shares',
          off.length === 0 && total >= sent && sent > 0,
          `shares ${shares.map((s) => `${s} %`).join(' / ')} of ${total} requests counted by the ${n} replicas' own /metrics (${sent} sent); each must be ${fair.toFixed(1)} % ± ${shareTolerancePoints} points`,
          counts,
          off,
        ),
      );
      return result;
    },
  };
}
