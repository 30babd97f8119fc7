import { down } from '@crucible/chaos';
import { constantArrivalRate } from '@crucible/load-engine';
import { healthStatus, hungCalls, uncleanFailures } from '../calls.js';
import { percentileOf, recoveryMs } from '../phases.js';
import { startProbe } from '../probe.js';
import type { SuiteStep } from '../suite.js';
import { callsAround, describeLoad, faultRows, loadUnderFaults, round, stepOf } from './load.js';
import type { FaultLoad, ResilienceContext, ResilienceWorkload } from './workload.js';

/**
 * 2. The database down for 5 s of a 16 s load at 30/s: fast 503s with `Retry-After`, no
 * hang, `/health` says 503 within 5 s, and the service serves again within 10 s.
 */
export function databaseDownStep<Op>(w: ResilienceWorkload<Op>): SuiteStep<ResilienceContext> {
  const t = w.steps.down ?? {};
  const projectId = 'res-down';
  return {
    name: 'database down',
    async run(ctx, kit) {
      const executor = constantArrivalRate({ rate: 30, duration: '16s', preAllocatedVUs: 30, maxVUs: 200 });
      const health = startProbe(() => healthStatus(ctx.url), 100);
      let load: FaultLoad<Op>;
      try {
        load = await loadUnderFaults(w, ctx, kit, { step: 'down', projectId, executor, faults: [{ at: 4000, for: 5000, proxy: ctx.link, fault: down() }] });
      } finally {
        await health.stop();
      }
      const step = stepOf(load.timeline);
      const appliedAt = step.appliedAt as number;
      const removedAt = step.removedAt as number;
      const during = callsAround(load, step).during;
      const refusals = during.filter((c) => c.status === 503);
      const detected = health.firstAfter(appliedAt, (s) => s === 503);
      const healthy = health.firstAfter(removedAt, (s) => s === 200);
      const recovery = recoveryMs(load.calls, removedAt);
      kit.log(`down 5 s: /health 503 after ${round(detected ? detected.at - appliedAt : null)} ms, serving again ${round(recovery)} ms after the link returned`);
      return faultRows(w, ctx, projectId, t, load, {
        name: 'database down 5 s during load',
        executor: describeLoad(executor, t.load ?? w.load),
        step,
        targetRps: 30,
        before: { thresholds: ['errors: rate<0.02'] },
        during: {
          thresholds: ['health_detect_ms: value<5000', 'refusal_p99_ms: value<1000', 'refusals_without_retry_after: value==0', 'hung_requests: value==0', 'unclean_failures: value==0'],
          metrics: {
            health_detect_ms: round(detected ? detected.at - appliedAt : null),
            refusals_503: refusals.length,
            refusal_p99_ms: round(percentileOf(refusals, 99)),
            refusals_without_retry_after: refusals.filter((c) => !c.retryAfter).length,
            hung_requests: hungCalls(during),
            unclean_failures: uncleanFailures(during),
          },
        },
        after: {
          thresholds: ['recovery_ms: value<10000', 'recovery_ms: value>=0', 'health_recovery_ms: value<10000', 'hung_requests: value==0'],
          metrics: { recovery_ms: round(recovery), health_recovery_ms: round(healthy ? healthy.at - removedAt : null), hung_requests: hungCalls(load.calls) },
        },
      });
    },
  };
}
