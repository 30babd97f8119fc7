import { down } from '@crucible/chaos';
import { constantArrivalRate } from '@crucible/load-engine';
import { healthStatus, hungCalls, uncleanFailures } from '../calls.js';
import { percentileOf, recoveryMs } from '../phases.js';
import { startProbe } from '../probe.js';
import type { SuiteStep } from '../suite.js';
import { databaseLogVerdict, replicaEvents } from './log-events.js';
import { callsAround, describeLoad, faultRows, loadUnderFaults, measured, stepOf } from './load.js';
import type { FaultLoad, ResilienceContext, ResilienceWorkload } from './workload.js';

/** How hard and how long the database-down step drives its load, and when the link is down. */
export interface DatabaseDownShape {
  /** The step's own project (a fresh one: its verdicts read only its rows). */
  readonly projectId: string;
  /** Arrivals per second. */
  readonly rate: number;
  readonly durationS: number;
  /** When the link goes down, from the start of the load, and for how long. */
  readonly downAtMs: number;
  readonly downForMs: number;
}

/** The suite's database-down step: 30/s for 16 s, the link down from 4 s for 5 s. */
export const databaseDownShape: DatabaseDownShape = Object.freeze({ projectId: 'res-down', rate: 30, durationS: 16, downAtMs: 4000, downForMs: 5000 });

/**
 * 2. The database down for 5 s of a 16 s load at 30/s: fast 503s with `Retry-After`, no
 * hang, `/health` says 503 within 5 s, and the service serves again within 10 s. The fault
 * must have taken effect: some requests refused with 503 and some `/health` answers 503 — a
 * detection or recovery time that was never observed is left out of the row, so its
 * threshold fails. The app's log must record the outage (`db_unreachable`, then
 * `db_recovered`, each within 1 s). `shape` resizes the step (a planted-defect test runs a few seconds of it).
 */
export function databaseDownStep<Op>(w: ResilienceWorkload<Op>, shape: DatabaseDownShape = databaseDownShape): SuiteStep<ResilienceContext> {
  const t = w.steps.down ?? {};
  const projectId = shape.projectId;
  const seconds = `${shape.downForMs / 1000} s`;
  return {
    name: 'database down',
    async run(ctx, kit) {
      const executor = constantArrivalRate({ rate: shape.rate, duration: `${shape.durationS}s`, preAllocatedVUs: shape.rate, maxVUs: 200 });
      const health = startProbe(() => healthStatus(ctx.url), 100);
      let load: FaultLoad<Op>;
      try {
        load = await loadUnderFaults(w, ctx, kit, { step: 'down', projectId, executor, faults: [{ at: shape.downAtMs, for: shape.downForMs, proxy: ctx.link, fault: down() }] });
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
      const unavailable = health.samples.filter((s) => s.at >= appliedAt && s.at < removedAt && s.value === 503).length;
      const recovery = recoveryMs(load.calls, removedAt);
      const ms = (x: number | null | undefined) => (x === null || x === undefined ? 'never' : `${Math.round(x)} ms`);
      kit.log(`down ${seconds}: /health 503 after ${ms(detected && detected.at - appliedAt)}, serving again after ${ms(recovery)} from the link's return`);
      return faultRows(w, ctx, projectId, t, load, {
        name: `database down ${seconds} during load`,
        executor: describeLoad(executor, t.load ?? w.load),
        step,
        targetRps: shape.rate,
        before: { thresholds: ['errors: rate<0.02'] },
        during: {
          thresholds: [
            'refusals_503: value>0',
            'health_unavailable_samples: value>0',
            'health_detect_ms: value<5000',
            'refusal_p99_ms: value<1000',
            'refusals_without_retry_after: value==0',
            'hung_requests: value==0',
            'unclean_failures: value==0',
          ],
          // The app's log records the outage: db_unreachable within 1 s of the fault, db_recovered within 1 s of its end.
          verdicts: [databaseLogVerdict(replicaEvents(ctx), step)],
          metrics: measured({
            health_detect_ms: detected && detected.at - appliedAt,
            health_unavailable_samples: unavailable,
            refusals_503: refusals.length,
            refusal_p99_ms: percentileOf(refusals, 99),
            refusals_without_retry_after: refusals.filter((c) => !c.retryAfter).length,
            hung_requests: hungCalls(during),
            unclean_failures: uncleanFailures(during),
          }),
        },
        after: {
          thresholds: ['recovery_ms: value<10000', 'health_recovery_ms: value<10000', 'hung_requests: value==0'],
          metrics: measured({ recovery_ms: recovery, health_recovery_ms: healthy && healthy.at - removedAt, hung_requests: hungCalls(load.calls) }),
        },
      });
    },
  };
}
