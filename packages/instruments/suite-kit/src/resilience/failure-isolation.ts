import { down, type StepRecord } from '@crucible/chaos';
import { now } from '@crucible/instrument-kit';
import { constantArrivalRate } from '@crucible/load-engine';
import type { SuiteStep } from '../suite.js';
import { describeLoad, faultRows, loadUnderFaults } from './load.js';
import type { ResilienceContext, ResilienceWorkload } from './workload.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * 6. Failure isolation: 3 s into a 16 s load the peer app is killed, and started again 4 s
 * later; the app under test keeps serving (errors below 1 %, p95 below 1.5 s in every phase).
 */
export function failureIsolationStep<Op>(w: ResilienceWorkload<Op>): SuiteStep<ResilienceContext> {
  const t = w.steps.isolation ?? {};
  const projectId = 'res-isolation';
  return {
    name: 'failure isolation',
    async run(ctx, kit) {
      const peer = ctx.sut.apps[w.peer]?.[0];
      if (!peer) throw new Error(`${w.peer} is not running`);
      const step: StepRecord = { name: `${w.peer} down`, description: `at 3 s kill ${w.peer} for 4 s`, proxy: w.peer, fault: down() };
      const executor = constantArrivalRate({ rate: 20, duration: '16s', preAllocatedVUs: 20, maxVUs: 100 });
      const load = await loadUnderFaults(w, ctx, kit, {
        step: 'isolation',
        projectId,
        executor,
        faults: [],
        alongside: async () => {
          await sleep(3000);
          await peer.kill();
          step.appliedAt = now();
          await sleep(4000);
          await ctx.sut.startReplica(w.peer);
          step.removedAt = now();
        },
      });
      load.timeline.steps.push(step);
      // Killing and restarting the other app costs the shared 2 cores a few seconds of CPU.
      const thresholds = ['errors: rate<0.01', 'p(95)<1500'];
      return faultRows(w, ctx, projectId, t, load, {
        name: `failure isolation: ${w.peer} down, ${w.app} serving`,
        executor: describeLoad(executor, t.load ?? w.load),
        step,
        targetRps: 20,
        before: { thresholds },
        during: { thresholds },
        after: { thresholds },
      });
    },
  };
}
