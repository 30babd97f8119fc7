// POST /tasks at the target rate across the five projects, with every acknowledged write found in SQL.
import type { Verdict } from '@crucible/contracts';
import { constantArrivalRate, scenario, type ScenarioResult } from '@crucible/load-engine';
import { expectVerdict } from '@crucible/checkers';
import { scenarioReport } from '@crucible/reporting';
import type { SuiteKit, SuiteStep } from '@crucible/suite-kit';
import { keptValues, projectOf, requestAs, type StressContext } from './context.js';

/** What "a rate is sustained" means, written once: the step search and the judged step both read it. */
const sustainedThresholds = ['p(95)<500', 'rate<0.01', 'dropped_iterations: count==0'];

interface Write {
  readonly status: number;
  readonly project_id: string;
  readonly task_id: string;
}

/** The sustained thresholds evaluated on a step, with the figures they read. */
function judge(r: ScenarioResult) {
  const [p95, errorRate, dropped] = scenarioReport({ ...r, thresholds: sustainedThresholds }).thresholds;
  const held = [p95, errorRate, dropped].every((t) => t?.passed);
  const rate = Number(r.tags['rate']);
  const summary = `${rate}/s: p95 ${p95?.actual} ms, errors ${((errorRate?.actual ?? 0) * 100).toFixed(1)} %, ${dropped?.actual} dropped, achieved ${(r.requests / r.durationS).toFixed(0)}/s`;
  return { rate, held, summary, example: { rate, p95_ms: p95?.actual, error_rate: errorRate?.actual, dropped: r.dropped, achieved_rps: r.requests / r.durationS } };
}

/**
 * `POST /tasks` at the target rate (1,000/s by default) across the five projects: p95 < 500
 * ms, errors < 1 %, no dropped iteration, every acknowledged task in the database afterwards.
 * When the target is out of reach of this machine the rate steps down (75 %, 50 %, 25 %)
 * until one is sustained; that step carries the sustained thresholds, and the
 * `write-throughput-target` verdict says plainly (status `indeterminate`) that the target
 * was not reached and what was. Durability is checked at every step. If not even 25 % holds,
 * the run fails.
 */
export function writeThroughput(target: number): SuiteStep<StressContext> {
  return {
    name: `POST /tasks at ${target}/s`,
    async run(ctx, kit) {
      const duration = kit.args.profile === 'full' ? '30s' : '5s';
      const warmup = kit.args.profile === 'full' ? '3s' : '1s';
      const rates = [1, 0.75, 0.5, 0.25].map((f) => Math.round(target * f));
      const results: ScenarioResult[] = [];
      const judged: ReturnType<typeof judge>[] = [];
      for (const rate of rates) {
        const r = await writeStep(ctx, kit, rate, duration, warmup);
        results.push(r);
        judged.push(judge(r));
        if (judged[judged.length - 1]?.held) break;
      }
      const last = results.pop() as ScenarioResult;
      const sustained = judged[judged.length - 1] as ReturnType<typeof judge>;
      const reached = sustained.rate === target && sustained.held;
      const targetVerdict: Verdict = {
        checker: 'write-throughput-target',
        status: reached ? 'pass' : 'indeterminate',
        summary: reached
          ? `${target}/s sustained: ${sustained.summary}`
          : `${target}/s NOT sustained on this machine (${judged[0]?.summary}); highest step sustained: ${sustained.held ? sustained.summary : 'none'}`,
        counts: { target, sustained: sustained.held ? sustained.rate : 0, steps: judged.length },
        examples: judged.map((j) => j.example),
      };
      // The step the search settled on is the one judged by the sustained thresholds.
      return [...results, { ...last, thresholds: [...last.thresholds, ...sustainedThresholds], verdicts: [...last.verdicts, targetVerdict] }];
    },
  };
}

/** One constant-rate step of `POST /tasks`, with every acknowledged task looked up in the database. */
async function writeStep(ctx: StressContext, kit: SuiteKit, rate: number, duration: string, warmup: string): Promise<ScenarioResult> {
  // Client-chosen ids (as an importer sends them): generated ids serialise each project's
  // creators on its id_registry row, which the id-service suite measures on its own.
  const runTag = `${rate}-${Date.now().toString(36)}`;
  let n = 0;
  const result = await kit.runOne(
    scenario<Write>({
      name: `POST /tasks at ${rate}/s across 5 projects for ${duration}`,
      executor: constantArrivalRate({ rate, duration, preAllocatedVUs: 100, maxVUs: 600 }),
      warmup,
      keepResponses: true,
      tags: { endpoint: 'POST /tasks', projects: '5', rate: String(rate) },
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
