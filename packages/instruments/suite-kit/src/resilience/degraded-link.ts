import { spanOf } from '@crucible/chaos';
import type { ScenarioReport } from '@crucible/contracts';
import { constantArrivalRate } from '@crucible/load-engine';
import { hungCalls, uncleanFailures } from '../calls.js';
import { phaseReports } from '../phases.js';
import type { SuiteStep } from '../suite.js';
import { callsAround, describeLoad, faultRows, loadUnderFaults, phaseRow, withAdditions } from './load.js';
import type { ResilienceContext, ResilienceWorkload } from './workload.js';

/** How hard and how long the degraded-link step drives its load, and when each of its three faults acts. */
export interface DegradedLinkShape {
  /** The step's own project (a fresh one: its verdicts read only its rows). */
  readonly projectId: string;
  /** Arrivals per second; the workload's `steps.degraded.rate` (else 12) when left out. */
  readonly rate?: number;
  readonly durationS: number;
  /** The first fault's start, how long each acts, and how far apart they start. */
  readonly firstAtMs: number;
  readonly faultForMs: number;
  readonly everyMs: number;
}

/** The suite's degraded-link step: 15 s, the faults 3 s each from 1.5 s, 4 s apart. */
export const degradedLinkShape: DegradedLinkShape = Object.freeze({ projectId: 'res-degraded', durationS: 15, firstAtMs: 1500, faultForMs: 3000, everyMs: 4000 });

/**
 * 5. A bandwidth cap, a slicer and a limit_data on the database link, one after the other,
 * during a 15 s load: every answer correct or a clean failure, nothing hung, nothing
 * half-written. Reported as the calm before, one row per fault, and the calm after.
 * `shape` resizes the step (a planted-defect test runs a few seconds of it).
 */
export function degradedLinkStep<Op>(w: ResilienceWorkload<Op>, shape: DegradedLinkShape = degradedLinkShape): SuiteStep<ResilienceContext> {
  const t = w.steps.degraded;
  const projectId = shape.projectId;
  return {
    name: 'bandwidth / slicer / limit_data',
    async run(ctx, kit): Promise<ScenarioReport[]> {
      const rate = shape.rate ?? t.rate ?? 12;
      const executor = constantArrivalRate({ rate, duration: `${shape.durationS}s`, preAllocatedVUs: Math.max(20, rate), maxVUs: 150 });
      const faults = t.faults.map((fault, i) => ({ at: shape.firstAtMs + shape.everyMs * i, for: shape.faultForMs, proxy: ctx.link, fault }));
      const load = await loadUnderFaults(w, ctx, kit, { step: 'degraded', projectId, executor, faults });
      const description = describeLoad(executor, t.load ?? w.load);
      const streams = new Set(t.faults.map((f) => (f.type === 'down' ? 'downstream' : (f.stream ?? 'downstream'))));
      const direction = streams.size === 1 && streams.has('upstream') ? ' (upstream)' : '';
      const calm = await faultRows(w, ctx, projectId, t, load, {
        name: `bandwidth, slicer, limit_data on the database link${direction}`,
        executor: description,
        step: spanOf(load.timeline),
        before: { thresholds: ['errors: rate<0.02'] },
        after: { thresholds: ['errors: rate<0.02'] },
      });
      const perFault: ScenarioReport[] = [];
      for (const step of load.timeline.steps) {
        if (!step.appliedAt || !step.removedAt) throw new Error(`fault step did not run: ${step.description}: ${step.error ?? ''}`);
        const mine = callsAround(load, step).during;
        const what = step.description.replace(/^at [\d.]+ s add /, '').replace(/ on [^ ]+ for .*$/, '');
        const during = await withAdditions(
          { thresholds: ['unclean_failures: value==0', 'hung_requests: value==0'], metrics: { unclean_failures: uncleanFailures(mine), hung_requests: hungCalls(mine) } },
          t.perFault,
          load,
          mine,
        );
        perFault.push(phaseRow(phaseReports(load.calls, { name: `database link: ${what}`, executor: description, step, run: load.timeline, dropped: load.droppedBySecond, during }), 'during'));
      }
      return [phaseRow(calm, 'before'), ...perFault, phaseRow(calm, 'after')];
    },
  };
}
