import { resetPeer, spanOf, timeout } from '@crucible/chaos';
import { constantVUs } from '@crucible/load-engine';
import { uncleanFailures } from '../calls.js';
import { recoveryMs } from '../phases.js';
import type { SuiteStep } from '../suite.js';
import { callsAround, describeLoad, faultRows, loadUnderFaults, round, stepOf } from './load.js';
import type { ResilienceContext, ResilienceWorkload } from './workload.js';

/**
 * 3. reset_peer for 3 s, then a silent link for 2.5 s, under concurrent clients that retry
 * each operation (idempotently) for up to 10 s: the faults make attempts fail, nothing fails
 * uncleanly, the service recovers within 10 s, and the workload's verdicts hold.
 */
export function resetTimeoutStep<Op>(w: ResilienceWorkload<Op>): SuiteStep<ResilienceContext> {
  const t = w.steps.resetTimeout;
  const projectId = 'res-retry';
  return {
    name: 'reset_peer + timeout with idempotent retries',
    async run(ctx, kit) {
      const executor = constantVUs({ vus: t.vus, duration: '14s' });
      const faults = [
        { at: 2000, for: 3000, proxy: ctx.link, fault: resetPeer() },
        { at: 7000, for: 2500, proxy: ctx.link, fault: timeout(0) },
      ];
      const load = await loadUnderFaults(w, ctx, kit, { step: 'reset-timeout', projectId, executor, faults, retry: true });
      stepOf(load.timeline, 0);
      stepOf(load.timeline, 1);
      const span = spanOf(load.timeline, 'reset_peer 3 s, then silent 2.5 s');
      const during = callsAround(load, span).during;
      return faultRows(w, ctx, projectId, t, load, {
        name: `reset_peer and timeout during concurrent ${w.operations}, idempotent retries`,
        executor: describeLoad(executor, t.load ?? `${w.load}, retried`),
        step: span,
        before: { thresholds: ['errors: rate<0.02'] },
        // The faults must really have acted: some attempts failed while they were on.
        during: { thresholds: ['failed_attempts: value>0', 'unclean_failures: value==0'], metrics: { failed_attempts: during.filter((c) => !c.ok).length, unclean_failures: uncleanFailures(load.calls) } },
        after: {
          thresholds: ['errors: rate<0.02', 'recovery_ms: value<10000', 'recovery_ms: value>=0'],
          metrics: { recovery_ms: round(recoveryMs(load.calls, span.removedAt ?? 0)), attempts: load.calls.length },
        },
      });
    },
  };
}
