import { latency } from '@crucible/chaos';
import { constantArrivalRate } from '@crucible/load-engine';
import { percentileOf } from '../phases.js';
import type { SuiteStep } from '../suite.js';
import { callsAround, describeLoad, faultRows, loadUnderFaults, measured, stepOf } from './load.js';
import type { ResilienceContext, ResilienceWorkload } from './workload.js';

/**
 * 1. Latency 100±20 ms on the database link for 6 s of a 14 s load: no errors, and the
 * shift of the median visible (every request makes several round trips to the database).
 */
export function databaseLatencyStep<Op>(w: ResilienceWorkload<Op>): SuiteStep<ResilienceContext> {
  const t = w.steps.latency;
  const projectId = 'res-latency';
  return {
    name: 'database latency',
    async run(ctx, kit) {
      const executor = constantArrivalRate({ rate: t.rate, duration: '14s', preAllocatedVUs: 20, maxVUs: 120 });
      const load = await loadUnderFaults(w, ctx, kit, { step: 'latency', projectId, executor, faults: [{ at: 4000, for: 6000, proxy: ctx.link, fault: latency(100, 20) }] });
      const step = stepOf(load.timeline);
      const phase = callsAround(load, step);
      // No calls in a phase: no p50, so no shift, and `latency_shift_p50_ms: value>=80` fails.
      const p50Before = percentileOf(phase.before, 50);
      const p50During = percentileOf(phase.during, 50);
      return faultRows(w, ctx, projectId, t, load, {
        name: 'database latency 100±20 ms during load',
        executor: describeLoad(executor, t.load ?? w.load),
        step,
        targetRps: t.rate,
        // Latency bounds are loose (a shared, loaded 2-core machine); errors and the shift are the test.
        before: { thresholds: ['errors: rate<0.02', 'dropped_iterations: value==0'] },
        during: {
          thresholds: ['errors: rate<0.02', 'dropped_iterations: value==0', 'latency_shift_p50_ms: value>=80', 'p(99)<5000'],
          metrics: measured({ latency_shift_p50_ms: p50Before === null || p50During === null ? null : p50During - p50Before, p50_before_ms: p50Before, p50_during_ms: p50During }),
        },
        // dropped_iterations: each row's own count, the iterations the engine could not start on time in that phase.
        after: { thresholds: ['errors: rate<0.02', 'dropped_iterations: value==0'] },
      });
    },
  };
}
