import { latency } from '@crucible/chaos';
import { constantArrivalRate } from '@crucible/load-engine';
import { percentileOf } from '../phases.js';
import type { SuiteStep } from '../suite.js';
import { callsAround, describeLoad, faultRows, loadUnderFaults, stepOf } from './load.js';
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
      const p50Before = percentileOf(phase.before, 50) ?? 0;
      const p50During = percentileOf(phase.during, 50) ?? 0;
      return faultRows(w, ctx, projectId, t, load, {
        name: 'database latency 100±20 ms during load',
        executor: describeLoad(executor, t.load ?? w.load),
        step,
        targetRps: t.rate,
        // Latency bounds are loose (a shared, loaded 2-core machine); errors and the shift are the test.
        before: { thresholds: ['errors: rate<0.02'] },
        during: {
          thresholds: ['errors: rate<0.02', 'latency_shift_p50_ms: value>=80', 'p(99)<5000'],
          metrics: { latency_shift_p50_ms: Math.round(p50During - p50Before), p50_before_ms: Math.round(p50Before), p50_during_ms: Math.round(p50During) },
        },
        after: { thresholds: ['errors: rate<0.02', 'dropped_iterations: value==0'], metrics: { dropped_iterations: load.dropped } },
      });
    },
  };
}
