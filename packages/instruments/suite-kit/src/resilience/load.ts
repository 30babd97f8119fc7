import { phasesOf, withFaults, type FaultStep, type Phase, type StepRecord, type TimelineRun } from '@crucible/chaos';
import type { ScenarioReport } from '@crucible/contracts';
import { scenario, type ExecutorConfig } from '@crucible/load-engine';
import type { HttpCall } from '../calls.js';
import { callsIn, phaseReports, type PhaseExtras } from '../phases.js';
import type { SuiteKit } from '../suite.js';
import type { FaultLoad, PhaseAdditions, ResilienceContext, ResilienceStepName, ResilienceWorkload, StepTuning } from './workload.js';

/** How long the reset_peer/timeout step's operations may retry. */
const retryDeadlineMs = 10_000;

/**
 * Creates the step's project and sends one `warmPath` request with its key, so measured
 * calls do not include the key's first verification. Resolves to the key.
 */
export async function warmProject(w: Pick<ResilienceWorkload<unknown>, 'warmPath'>, ctx: ResilienceContext, projectId: string): Promise<string> {
  const { api_key } = await ctx.sut.createProject(projectId);
  await fetch(`${ctx.url}${w.warmPath}`, { headers: { authorization: `Bearer ${api_key}` } }).then((r) => r.arrayBuffer());
  return api_key;
}

/** What {@link loadUnderFaults} drives. */
export interface LoadPlan {
  readonly step: ResilienceStepName;
  /** The step's project (a fresh one, so its verdicts read only its own rows). */
  readonly projectId: string;
  readonly executor: ExecutorConfig;
  readonly faults: readonly FaultStep[];
  /** Retry each operation for up to 10 s (the reset_peer/timeout step). */
  readonly retry?: boolean;
  /** Runs beside the load, started with it (the failure-isolation step kills the peer in it). */
  readonly alongside?: () => Promise<void>;
}

/**
 * The workload's operations driven by the load engine (with the suite's sinks) on a fresh
 * project while `faults` act on the links; every attempt and every logical operation recorded.
 */
export async function loadUnderFaults<Op>(w: ResilienceWorkload<Op>, ctx: ResilienceContext, kit: SuiteKit, plan: LoadPlan): Promise<FaultLoad<Op>> {
  const apiKey = await warmProject(w, ctx, plan.projectId);
  const calls: HttpCall[] = [];
  const ops: Op[] = [];
  const s = scenario({
    name: plan.step,
    executor: plan.executor,
    gracefulStop: '12s',
    request: async (it) => {
      const op = await w.operation({
        http: it.http,
        apiKey,
        projectId: plan.projectId,
        step: plan.step,
        iteration: it.iteration,
        vu: it.vu,
        deadlineMs: plan.retry ? retryDeadlineMs : 0,
        calls,
      });
      ops.push(op);
      return op;
    },
    isSuccess: (op) => w.isOk(op),
  });
  const { result, timeline } = await withFaults(plan.faults, async (signal) => {
    const [results] = await Promise.all([kit.run(s, { baseUrl: ctx.url, signal }), plan.alongside?.()]);
    return results;
  });
  const run = result[0];
  if (!run) throw new Error(`the ${plan.step} load returned no result`);
  // The engine counts a dropped iteration in the second it was meant to start (from the measured phase's start).
  const t0 = Date.parse(run.startedAt);
  const droppedBySecond = run.series.filter((p) => p.dropped > 0).map((p) => ({ at: t0 + p.t * 1000, dropped: p.dropped }));
  return { calls, ops, timeline, dropped: run.dropped, droppedBySecond };
}

/** Step `i` of a timeline, which must have been applied and removed. */
export function stepOf(timeline: TimelineRun, i = 0): StepRecord {
  const step = timeline.steps[i];
  if (!step?.appliedAt || !step.removedAt) throw new Error(`fault step ${i} did not run: ${step?.error ?? 'missing'}`);
  return step;
}

/** The calls of each phase around `step` (see `callsIn`): before it, while it acted, after it. */
export function callsAround<Op>(load: FaultLoad<Op>, step: StepRecord): Record<Phase['name'], HttpCall[]> {
  const out: Record<Phase['name'], HttpCall[]> = { before: [], during: [], after: [] };
  for (const phase of phasesOf(step, load.timeline)) out[phase.name] = callsIn(load.calls, phase);
  return out;
}

/** The row of one phase among `phaseReports`' rows. */
export function phaseRow(rows: readonly ScenarioReport[], phase: Phase['name']): ScenarioReport {
  const row = rows.find((r) => r.tags['phase'] === phase);
  if (!row) throw new Error(`no ${phase} row among ${rows.map((r) => r.name).join(', ')}`);
  return row;
}

/**
 * Metrics as a report row takes them, whole numbers, leaving out every value that was not
 * observed (`null`/`undefined`: no sample, never detected, never recovered). A threshold on
 * a metric left out fails, naming it, so an unobserved value can never pass as a sentinel
 * would (`-1 < 5000`).
 *
 * @example
 * measured({ recovery_ms: null, refusals_503: 12.4 }); // { refusals_503: 12 }
 */
export function measured(values: Readonly<Record<string, number | null | undefined>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, v] of Object.entries(values)) if (v !== null && v !== undefined) out[name] = Math.round(v);
  return out;
}

/** Whether a process is still alive. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** `constant-arrival-rate 30/s, <load>` or `constant-vus 8, <load>`. */
export function describeLoad(executor: ExecutorConfig, load: string): string {
  const how =
    executor.type === 'constant-arrival-rate'
      ? `constant-arrival-rate ${(executor.rate * 1000) / executor.timeUnitMs}/s`
      : executor.type === 'constant-vus'
        ? `constant-vus ${executor.vus}`
        : executor.type;
  return `${how}, ${load}`;
}

/** The kit's extras of a phase row with the workload's additions after them. */
export async function withAdditions<Op>(base: PhaseExtras, add: PhaseAdditions<Op> | undefined, load: FaultLoad<Op>, calls: readonly HttpCall[]): Promise<PhaseExtras> {
  if (!add) return base;
  return {
    ...base,
    thresholds: [...(base.thresholds ?? []), ...(add.thresholds ?? [])],
    metrics: { ...base.metrics, ...add.metrics?.(load, calls) },
    verdicts: [...(base.verdicts ?? []), ...((await add.verdicts?.(load)) ?? [])],
  };
}

/** What a step's rows say before the workload adds to them. */
export interface FaultRowsInput {
  /** The fault scenario, e.g. `database down 5 s during load`. */
  readonly name: string;
  /** How the load was driven (see {@link describeLoad}). */
  readonly executor: string;
  /** The fault (or the span of several) the phases are cut around. */
  readonly step: StepRecord;
  readonly targetRps?: number;
  readonly before?: PhaseExtras;
  readonly during?: PhaseExtras;
  readonly after?: PhaseExtras;
}

/**
 * A step's before / during / after rows: the kit's extras, the workload's verdicts of the
 * step's project on the `after` row, and the step's `during` / `after` additions appended.
 */
export async function faultRows<Op>(
  w: ResilienceWorkload<Op>,
  ctx: ResilienceContext,
  projectId: string,
  tuning: Pick<StepTuning<Op>, 'during' | 'after'>,
  load: FaultLoad<Op>,
  rows: FaultRowsInput,
): Promise<ScenarioReport[]> {
  const phase = callsAround(load, rows.step);
  const after = rows.after ?? {};
  const verdicts = await w.verdicts(ctx, projectId, load.ops);
  return phaseReports(load.calls, {
    name: rows.name,
    dropped: load.droppedBySecond,
    executor: rows.executor,
    step: rows.step,
    run: load.timeline,
    ...(rows.targetRps === undefined ? {} : { targetRps: rows.targetRps }),
    before: rows.before ?? {},
    during: await withAdditions(rows.during ?? {}, tuning.during, load, phase.during),
    after: await withAdditions({ ...after, verdicts: [...(after.verdicts ?? []), ...verdicts] }, tuning.after, load, phase.after),
  });
}
