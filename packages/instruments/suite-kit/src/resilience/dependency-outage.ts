import { down, latency, resetPeer, spanOf, timeout, type FaultSpec, type StepRecord } from '@crucible/chaos';
import type { ScenarioReport, Verdict } from '@crucible/contracts';
import type { AppLogEvent } from '@crucible/testbed';
import { constantArrivalRate } from '@crucible/load-engine';
import { hungCalls, uncleanFailures, type HttpCall } from '../calls.js';
import { latencyOf, percentileOf, phaseReports } from '../phases.js';
import type { SuiteStep } from '../suite.js';
import { clockSlackMs, outageLogEvidence, outageLogVerdict, replicaEvents, type OutageLogSpec } from './log-events.js';
import { describeLoad, faultRows, loadUnderFaults, measured, phaseRow, withAdditions } from './load.js';
import type { DependencyCall, DependencyTuning, FaultLoad, ResilienceContext, ResilienceWorkload } from './workload.js';

/** How the dependency-outage step drives its load and when each fault acts on the link. */
export interface DependencyOutageShape {
  /** The step's own project (a fresh one: its verdicts read only its rows). */
  readonly projectId: string;
  /** Arrivals per second; the workload's `dependency.rate` (else 30) when left out. */
  readonly rate?: number;
  readonly durationS: number;
  /**
   * The faults on the link, one after the other: each acts `for` ms from `at` ms. `expect`:
   * `refused` (default) for a fault that takes the dependency away (down, frozen, reset), whose
   * row requires refusals, fast ones, and recovery; `served` for one that only slows it
   * (latency within the app's deadline), whose row requires that nothing failed or waited.
   */
  readonly faults: readonly { readonly at: number; readonly for: number; readonly fault: FaultSpec; readonly expect?: 'refused' | 'served' }[];
}

/**
 * The suite's step: 31 s of load; on the link to the dependency, 4 s each, 7 s apart from
 * 2 s: down (connections refused), frozen (a `timeout 0` toxic: connections accepted, nothing
 * answered), reset_peer (every connection reset as data arrives), and 250 ms of latency
 * (slow, within the app's deadline). 4 s, so the block of ids the app holds runs out inside
 * each fault that takes the dependency away.
 */
export const dependencyOutageShape: DependencyOutageShape = Object.freeze({
  projectId: 'res-dependency',
  durationS: 31,
  faults: [
    { at: 2000, for: 4000, fault: down() },
    { at: 9000, for: 4000, fault: timeout(0) },
    { at: 16_000, for: 4000, fault: resetPeer(0) },
    { at: 23_000, for: 4000, fault: latency(250), expect: 'served' as const },
  ],
});

/** What one fault row of the step checks, with what each threshold means. */
const faultThresholds = [
  // Reads, claims and creates with the client's own id never needed the dependency.
  'independent_error_pct: value<1',
  // The fault took effect: some creates that needed it were refused (else nothing was shown).
  'refusals: value>0',
  // Refused fast: within 1.5 s even before the breaker opened, within 100 ms once it had.
  'refusal_max_ms: value<1500',
  'open_refusal_p99_ms: value<100',
  'refusals_without_retry_after: value==0',
  // No create that needed the dependency waited past 1.5 s, whatever its answer.
  'dependent_over_1500ms: value==0',
  // Those creates succeed again within 2 s of the dependency's return.
  'recovery_ms: value<2000',
  'unclean_failures: value==0',
  'hung_requests: value==0',
];

/** What a row of a fault that only slows the dependency checks: nothing failed, nothing waited. */
const servedThresholds = [
  'independent_error_pct: value<1',
  'dependent_calls: value>0',
  'dependent_over_1500ms: value==0',
  'unclean_failures: value==0',
  'hung_requests: value==0',
];

function circuitOf(call: HttpCall): unknown {
  const error = (call.body as { error?: { details?: { circuit?: unknown } } } | undefined)?.error;
  return error?.details?.circuit;
}

/** The figures of one fault: isolation while it acted, recovery after it was removed. */
export function isolationFigures(split: readonly DependencyCall[], step: StepRecord, refusal: string): Record<string, number> {
  const from = step.appliedAt as number;
  const to = step.removedAt as number;
  const during = split.filter((d) => d.call.end >= from && d.call.start < to);
  const independent = during.filter((d) => !d.needsDependency).map((d) => d.call);
  const dependent = during.filter((d) => d.needsDependency).map((d) => d.call);
  const refused = dependent.filter((c) => c.code === refusal);
  const firstBack = split
    .filter((d) => d.needsDependency && d.call.ok && d.call.start >= to)
    .map((d) => d.call.end)
    .sort((a, b) => a - b)[0];
  const all = during.map((d) => d.call);
  const independentFailures = independent.filter((c) => !c.ok).length;
  return {
    ...measured({
      independent_calls: independent.length,
      independent_failures: independentFailures,
      dependent_calls: dependent.length,
      refusals: refused.length,
      refusal_max_ms: refused.length ? Math.max(...refused.map(latencyOf)) : null,
      // Refusals the app answered with its breaker not closed (open, or half-open with its probe
      // out): it says so in the envelope's details. These must cost no call to the dependency.
      open_refusal_p99_ms: percentileOf(refused.filter((c) => circuitOf(c) === 'open' || circuitOf(c) === 'half-open'), 99),
      refusals_without_retry_after: refused.filter((c) => c.retryAfter === undefined).length,
      dependent_over_1500ms: dependent.filter((c) => latencyOf(c) > 1500).length,
      recovery_ms: firstBack === undefined ? null : firstBack - to,
      unclean_failures: uncleanFailures(all),
      hung_requests: hungCalls(all),
    }),
    // Two decimals, not a whole number: the threshold is 1 %. Left out (so it fails) with no such calls.
    ...(independent.length ? { independent_error_pct: Math.round((10_000 * independentFailures) / independent.length) / 100 } : {}),
  };
}

/**
 * 6. Failure isolation from a dependency: while the app's link to the app it calls is down,
 * then frozen, everything that does not need it keeps working (errors < 1 %), what needs it
 * is refused fast (503 `refusal` with `Retry-After`: < 1.5 s, < 100 ms once the breaker is
 * open), and works again within 2 s of its return; the app's log records detection and
 * recovery (`dependency_down` / `dependency_up`) in order with the fault; the workload's
 * verdicts (ids reconciled with the dependency's registry) on the `after` row. Reported as the calm before, one row
 * per fault, and the calm after. `shape` resizes the step (a planted-defect test runs less).
 */
export function dependencyOutageStep<Op>(w: ResilienceWorkload<Op>, shape: DependencyOutageShape = dependencyOutageShape): SuiteStep<ResilienceContext> {
  const dep = w.dependency;
  if (!dep) throw new Error(`${w.app} declares no dependency: use the failure-isolation step`);
  const projectId = shape.projectId;
  return {
    name: `${dep.app} link: ${shape.faults.map((f) => f.fault.type).join(', ')}`,
    async run(ctx, kit): Promise<ScenarioReport[]> {
      const chaos = ctx.sut.chaos;
      if (!chaos) throw new Error('chaos was not started');
      const link = chaos.link(w.app, dep.app);
      const rate = shape.rate ?? dep.rate ?? 30;
      const executor = constantArrivalRate({ rate, duration: `${shape.durationS}s`, preAllocatedVUs: Math.max(20, rate), maxVUs: 150 });
      const faults = shape.faults.map((f) => ({ at: f.at, for: f.for, proxy: link, fault: f.fault }));
      const load = await loadUnderFaults(w, ctx, kit, { step: 'dependency', projectId, executor, faults });
      const description = describeLoad(executor, dep.load ?? w.load);
      const split = load.ops.map((op) => dep.split(op)).filter((d): d is DependencyCall => d !== undefined);
      const calm = await faultRows(withDependencyVerdicts(w, dep), ctx, projectId, {}, load, {
        name: `${w.app} → ${dep.app} link faults`,
        executor: description,
        step: spanOf(load.timeline),
        targetRps: rate,
        before: { thresholds: ['errors: rate<0.01'] },
        // No error rate after: the first refusals after the fault are the recovery, which each fault row times.
      });
      const perFault: ScenarioReport[] = [];
      for (const [i, step] of load.timeline.steps.entries()) {
        if (!step.appliedAt || !step.removedAt) throw new Error(`fault step did not run: ${step.description}: ${step.error ?? ''}`);
        const served = shape.faults[i]?.expect === 'served';
        const what = step.fault.type === 'down' ? 'down (connections refused)' : step.description.replace(/^at [\d.]+ s add /, '').replace(/ on [^ ]+ for .*$/, '');
        // A slowed dependency is never down: no outage to log, nothing to recover from.
        const verdicts = served ? [] : [logEventsVerdict(replicaEvents(ctx), step, split, dep.app)];
        const thresholds = served ? servedThresholds : faultThresholds;
        const during = await withAdditions({ thresholds, metrics: isolationFigures(split, step, dep.refusal), verdicts }, undefined, load as FaultLoad<Op>, []);
        const rows = phaseReports(load.calls, { name: `${w.app} → ${dep.app} link: ${what}`, executor: description, step, run: load.timeline, dropped: load.droppedBySecond, during });
        perFault.push(phaseRow(rows, 'during'));
      }
      return [phaseRow(calm, 'before'), ...perFault, phaseRow(calm, 'after')];
    },
  };
}

/**
 * The app's log as evidence of one fault: a `dependency_down` event for `dependency` while
 * the fault acted and no later than the first refusal (it refused, so it had detected), and
 * after it a `dependency_up` once the fault was removed, no later than the first success
 * after it and within 2 s of the removal. Fails when either is missing or out of order.
 */
export function logEventsVerdict(events: readonly AppLogEvent[], step: StepRecord, split: readonly DependencyCall[], dependency: string): Verdict {
  const spec: OutageLogSpec = { checker: 'dependency-log-events', down: 'dependency_down', up: 'dependency_up', subject: dependency, match: (e) => e.fields['dependency'] === dependency, recoverWithinMs: 2000 };
  const evidence = outageLogEvidence(events, step, spec);
  const { down, up } = evidence;
  const from = step.appliedAt as number;
  const to = step.removedAt as number;
  const firstRefusal = split.filter((d) => d.needsDependency && !d.call.ok && d.call.end >= from && d.call.start < to).map((d) => d.call.end).sort((a, b) => a - b)[0];
  const firstBack = split.filter((d) => d.needsDependency && d.call.ok && d.call.start >= to).map((d) => d.call.end).sort((a, b) => a - b)[0];
  return outageLogVerdict(evidence, spec, [
    ...(down && firstRefusal !== undefined && down.at > firstRefusal + clockSlackMs ? [`dependency_down logged ${Math.round(down.at - firstRefusal)} ms after the first refusal`] : []),
    ...(up && firstBack !== undefined && up.at > firstBack + clockSlackMs ? [`dependency_up logged ${Math.round(up.at - firstBack)} ms after the first success`] : []),
  ]);
}

// The workload's verdicts of the step's project, and the dependency's own beside them.
function withDependencyVerdicts<Op>(w: ResilienceWorkload<Op>, dep: DependencyTuning<Op>): ResilienceWorkload<Op> {
  if (!dep.verdicts) return w;
  const own = dep.verdicts.bind(dep);
  return { ...w, verdicts: async (ctx, projectId, ops) => [...(await w.verdicts(ctx, projectId, ops)), ...(await own(ctx, projectId, ops))] };
}
