import { compareFigures, DEFAULT_FIGURES, type FigureValues } from '@crucible/baseline';
import type { Database, HistoryScope } from '@crucible/db';
import { sql, type Kysely } from 'kysely';

/** Earlier runs a verdict needs: 3 × the MAD of fewer values is no estimate of the noise. */
export const minBaselineRuns = 3;
/** The range of `k` (how many earlier runs a run is compared with). */
export const kRange = { min: minBaselineRuns, max: 50, default: 5 } as const;

/** One ended run of a scenario, as the regression check reads it. */
export interface HistoryRun {
  run_id: string;
  started_at: Date;
  /** `pass`, `fail`, `inconclusive` (a starved load generator, usually), or null. */
  status: string | null;
  p50_ms: number | null;
  p95_ms: number | null;
  p99_ms: number | null;
  rps: number;
  error_rate: number;
}

/** A figure of a run worse than its earlier runs by more than their noise. */
export interface RegressedFigure {
  metric: string;
  /** Median of the earlier runs, and this run's value. */
  baseline: number;
  current: number;
  /** How much worse (in the figure's unit) and the largest change still counted as noise. */
  by: number;
  bound: number;
}

/** A run of a scenario compared with the last `k` ended runs of it on the same machine class. */
export interface Regression {
  /** False with fewer than {@link minBaselineRuns} earlier runs: no verdict, not a pass. */
  judged: boolean;
  /** The earlier runs compared with, newest first. */
  baseline_runs: string[];
  regressed: boolean;
  figures: RegressedFigure[];
  /** Figures one side could not measure (a starved generator's timing figures). */
  unjudged: { figure: string; why: string }[];
  reason?: string;
}

/**
 * The ended runs of `scenario` on `machine` (the run's machine class; null matches runs that
 * named none) in the key's project, newest first (the trend's order), optionally only those
 * before `before` in that order.
 */
export function scenarioHistoryQuery(db: Kysely<Database>, scope: HistoryScope, scenario: string, machine: string | null, limit: number, before?: { startedAt: Date; runId: string }) {
  return db
    .selectFrom('gateway_run_scenarios as s')
    .innerJoin('gateway_runs as r', (j) => j.onRef('r.project_id', '=', 's.project_id').onRef('r.run_id', '=', 's.run_id'))
    .select(['r.run_id', 'r.started_at', 's.status', 's.p50_ms', 's.p95_ms', 's.p99_ms', 's.rps', 's.error_rate'])
    .where('s.project_id', '=', scope.projectId)
    .where('s.scenario', '=', scenario)
    .where(sql<boolean>`r.machine is not distinct from ${machine}`)
    .$call((q) => (before ? q.where((eb) => eb.or([eb('r.started_at', '<', before.startedAt), eb.and([eb('r.started_at', '=', before.startedAt), eb('r.run_id', '>', before.runId)])])) : q))
    .orderBy('r.started_at', 'desc')
    .orderBy('r.run_id')
    .limit(limit);
}

const push = (row: Record<string, number[]>, figure: string, v: number | null) => {
  if (v !== null && Number.isFinite(v)) (row[figure] ??= []).push(v);
};

/**
 * Runs as repeated measurements of one scenario, one value a run per figure (the reports'
 * figure names). An inconclusive scenario gives only its error rate: its timing figures
 * measured a starved generator, as `collectFigures` of @crucible/baseline leaves them out.
 */
function figuresOf(runs: readonly HistoryRun[]): FigureValues {
  const row: Record<string, number[]> = {};
  for (const r of runs) {
    push(row, 'error_rate', r.error_rate);
    if (r.status === 'inconclusive') continue;
    push(row, 'latency_ms.p50', r.p50_ms);
    push(row, 'latency_ms.p95', r.p95_ms);
    push(row, 'latency_ms.p99', r.p99_ms);
    push(row, 'rps.achieved', r.rps);
  }
  return { scenario: row };
}

/**
 * `run` against `earlier` (its scenario's previous runs on its machine class) by the reports'
 * noise-aware rule (`compareFigures` of @crucible/baseline, the code `/api/v1/compare` and
 * `crucible compare` run): a figure regressed when it is worse than the earlier runs' median
 * by more than the largest of its relative floor, its absolute floor and 3 × their MAD.
 */
export function judgeRun(run: HistoryRun, earlier: readonly HistoryRun[]): Regression {
  const baseline_runs = earlier.map((r) => r.run_id);
  if (earlier.length < minBaselineRuns) {
    return { judged: false, baseline_runs, regressed: false, figures: [], unjudged: [], reason: `${earlier.length} earlier run(s) of this scenario on this machine class; a verdict needs ${minBaselineRuns}` };
  }
  const c = compareFigures(figuresOf(earlier), figuresOf([run]), DEFAULT_FIGURES);
  const figures = c.figures
    .filter((f) => f.regressed)
    .map((f) => ({ metric: f.figure, baseline: f.baseline, current: f.current, by: Math.round((f.worse_when === 'higher' ? f.current - f.baseline : f.baseline - f.current) * 1000) / 1000, bound: f.tolerance }));
  return { judged: true, baseline_runs, regressed: c.regressed, figures, unjudged: c.unjudged.map((u) => ({ figure: u.figure, why: u.why })) };
}

/**
 * Each of `runs` (newest first, one scenario, any machines) judged against its own machine
 * class's `k` earlier runs: one query per machine class for `runs.length + k` of its runs.
 */
export async function judgeRuns(db: Kysely<Database>, scope: HistoryScope, scenario: string, runs: readonly { run_id: string; machine: string | null }[], k: number): Promise<Map<string, Regression>> {
  const machines = [...new Set(runs.map((r) => r.machine))];
  const lists = await Promise.all(machines.map((m) => scenarioHistoryQuery(db, scope, scenario, m, runs.length + k).execute()));
  const byMachine = new Map(machines.map((m, i) => [m, lists[i] ?? []]));
  const out = new Map<string, Regression>();
  for (const run of runs) {
    const list = byMachine.get(run.machine) ?? [];
    const at = list.findIndex((r) => r.run_id === run.run_id);
    const self = list[at];
    if (self) out.set(run.run_id, judgeRun(self, list.slice(at + 1, at + 1 + k)));
  }
  return out;
}
