// POST /tasks at the target rate across the projects, with every acknowledged write found in SQL.
import type { Verdict } from '@crucible/contracts';
import { constantArrivalRate, scenario, type ScenarioResult } from '@crucible/load-engine';
import { expectVerdict } from '@crucible/checkers';
import { scenarioReport } from '@crucible/reporting';
import type { SuiteKit, SuiteStep } from '@crucible/suite-kit';
import { keptValues, projectOf, requestAs, type StressContext } from './context.js';

/** What "the rate is sustained" means, written once: the step's thresholds and the target verdict both read it. */
const sustainedThresholds = ['p(95)<500', 'rate<0.01', 'dropped_iterations: count==0'];

interface Write {
  readonly status: number;
  readonly project_id: string;
  readonly task_id: string;
}

/** How the write step runs (the suite's values by default; tests run a seconds-long version). */
export interface WriteThroughputOptions {
  /** Default 5 s (quick) or 30 s (full). */
  readonly duration?: string;
  /** Default 1 s (quick) or 3 s (full). */
  readonly warmup?: string;
  /** The most writes in flight at once; default 600. */
  readonly maxVUs?: number;
}

/**
 * `POST /tasks` at the target rate (1,000/s by default) across the projects: p95 < 500 ms,
 * errors < 1 %, no dropped iteration, every acknowledged task in the database afterwards.
 * The target is never lowered: when it is not sustained, `write-throughput-target` fails
 * and names the rate that was (answers per second, and 201s per second); when the load
 * generator itself was starved it is `indeterminate`, naming the generator's figures.
 */
export function writeThroughput(target: number, options: WriteThroughputOptions = {}): SuiteStep<StressContext> {
  return {
    name: `POST /tasks at ${target}/s`,
    async run(ctx, kit) {
      const duration = options.duration ?? (kit.args.profile === 'full' ? '30s' : '5s');
      const warmup = options.warmup ?? (kit.args.profile === 'full' ? '3s' : '1s');
      const result = await writeStep(ctx, kit, target, duration, warmup, options.maxVUs ?? 600);
      return { ...result, thresholds: [...result.thresholds, ...sustainedThresholds], verdicts: [...result.verdicts, targetVerdict(target, result)] };
    },
  };
}

// A threshold's outcome: `inconclusive` when the load generator was starved (older results carry `passed` only).
const outcome = (t: { passed: boolean; status?: string } | undefined): string => t?.status ?? (t?.passed ? 'pass' : 'fail');

/**
 * Whether the target rate was sustained (the sustained thresholds, evaluated here so the
 * verdict can name the figures): `fail` naming the rate sustained when one is missed,
 * `indeterminate` when none failed but the load generator was too starved to judge them.
 */
function targetVerdict(target: number, r: ScenarioResult): Verdict {
  const judged = scenarioReport({ ...r, thresholds: sustainedThresholds }).thresholds;
  const [p95, errorRate] = judged;
  const outcomes = judged.map(outcome);
  const status = outcomes.includes('fail') ? 'fail' : outcomes.every((o) => o === 'pass') ? 'pass' : 'indeterminate';
  const answered = r.requests / r.durationS;
  const created = r.successes / r.durationS;
  const rates = `${answered.toFixed(0)} answers/s, ${created.toFixed(0)} created/s`;
  const figures = `p95 ${p95?.actual} ms, errors ${((errorRate?.actual ?? 0) * 100).toFixed(1)} %, ${r.dropped} dropped`;
  const starved = judged.find((t) => outcome(t) === 'inconclusive')?.message;
  return {
    checker: 'write-throughput-target',
    status,
    summary:
      status === 'pass'
        ? `${target}/s sustained: ${rates}; ${figures}`
        : status === 'fail'
          ? `${target}/s NOT sustained: ${rates} sustained; ${figures} (needs ${sustainedThresholds.join(', ')})`
          : `${target}/s not judged: ${starved ?? 'a threshold was inconclusive'}; ${rates}; ${figures}`,
    counts: { target, sustained_rps: Math.round(answered), created_per_s: Math.round(created), dropped: r.dropped, ...(typeof p95?.actual === 'number' ? { p95_ms: p95.actual } : {}) },
    examples: [],
  };
}

/** One constant-rate step of `POST /tasks`, with every acknowledged task looked up in the database. */
async function writeStep(ctx: StressContext, kit: SuiteKit, rate: number, duration: string, warmup: string, maxVUs: number): Promise<ScenarioResult> {
  // Client-chosen ids (as an importer sends them): generated ids come from the ID service in
  // blocks, a dependency the resilience suite's dependency-outage step judges on its own.
  const runTag = `${rate}-${Date.now().toString(36)}`;
  let n = 0;
  const result = await kit.runOne(
    scenario<Write>({
      name: `POST /tasks at ${rate}/s across ${ctx.projects.length} projects for ${duration}`,
      executor: constantArrivalRate({ rate, duration, preAllocatedVUs: Math.min(100, maxVUs), maxVUs }),
      warmup,
      keepResponses: true,
      tags: { endpoint: 'POST /tasks', projects: String(ctx.projects.length), rate: String(rate) },
      request: async (it) => {
        const project_id = projectOf(ctx, it.iteration);
        const task_id = `load-${runTag}-${n++}`;
        // The ids are the client's, so the answer's body is not needed: skipping it leaves the
        // CPU (shared with the replicas and PostgreSQL) to the system under test.
        const res = await requestAs(ctx, it.iteration, project_id, {
          method: 'POST',
          path: '/tasks',
          body: { task_id, title: `load task ${task_id}`, priority: n % 10, payload: { source: 'stress', n } },
          discardBody: true,
        });
        return { status: res.status, project_id, task_id };
      },
      isSuccess: (w) => w.status === 201,
    }),
  );
  const acknowledged = keptValues<Write>(result).filter((w) => w.status === 201);
  // Free the kept answers: the report needs only the counts.
  result.outcomes.length = 0;
  const found = new Set<string>();
  for (const p of ctx.projects) {
    const ids = acknowledged.filter((t) => t.project_id === p).map((t) => t.task_id);
    for (let i = 0; i < ids.length; i += 1000) {
      const rows = await kit.db.selectFrom('tasks').select(['project_id', 'task_id']).where('project_id', '=', p).where('task_id', 'in', ids.slice(i, i + 1000)).execute();
      for (const r of rows) found.add(`${r.project_id}/${r.task_id}`);
    }
  }
  const lost = acknowledged.filter((t) => !found.has(`${t.project_id}/${t.task_id}`));
  result.verdicts.push(
    expectVerdict(
      'acknowledged-writes-durable',
      lost.length === 0 && acknowledged.length > 0,
      `${acknowledged.length - lost.length} of ${acknowledged.length} acknowledged tasks found in the database`,
      { acknowledged: acknowledged.length, found: acknowledged.length - lost.length, lost: lost.length },
      lost.slice(0, 10).map((t) => ({ project_id: t.project_id, task_id: t.task_id })),
    ),
  );
  return result;
}
