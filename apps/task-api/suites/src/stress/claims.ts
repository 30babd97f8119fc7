// Flash-sale claims: many concurrent claimers for a few pending tasks.
import { checkClaims, type ClaimAttempt } from '@crucible/checkers';
import { claimedRowsFromDb } from '@crucible/db';
import type { Task } from '@crucible/contracts';
import { burst, scenario, type HttpResponse } from '@crucible/load-engine';
import type { SuiteStep } from '@crucible/suite-kit';
import { bearer, codeOf, type StressContext } from './context.js';

/** What one `POST /tasks/claim` answer means: the one reading both the engine and the checker use. */
function claimAttempt(project_id: string, worker: string, res: HttpResponse): ClaimAttempt {
  if (res.status === 200) return { project_id, worker, result: 'claimed', task_id: (res.json() as Task).task_id, status: 200 };
  if (res.status === 404 && codeOf(res) === 'no_task') return { project_id, worker, result: 'no_task', status: 404 };
  return { project_id, worker, result: 'error', status: res.status };
}

/**
 * `pending` tasks and `claimers` concurrent claimers (one burst): exactly min(pending,
 * claimers) claims succeed and no task is handed out twice (both counted answer by answer),
 * every other claimer gets `no_task`, and the `exactly-once-claims` checker agrees, with
 * `claimed_by` in the database matching the answers. `options.project` names the project
 * the step creates (default `claims-<pending>-of-<claimers>`).
 */
export function claims(pending: number, claimers: number, options: { project?: string } = {}): SuiteStep<StressContext> {
  return {
    name: `claims: ${claimers} claimers for ${pending} tasks`,
    async run(ctx, kit) {
      // A project of its own (created here), so the counts are this burst's alone.
      const project = options.project ?? `claims-${pending}-of-${claimers}`;
      const { api_key: key } = await kit.sut.createProject(project);
      await kit.db
        .insertInto('tasks')
        .values(Array.from({ length: pending }, (_, i) => ({ project_id: project, task_id: `job-${i + 1}`, title: `job ${i + 1}`, status: 'pending', priority: i % 5 })))
        .execute();
      const worker = (i: number) => `worker-${i}`;
      const handedOut = new Map<string, number>();
      const result = await kit.runOne(
        scenario({
          name: `claims: ${claimers} concurrent claimers for ${pending} tasks`,
          executor: burst({ requests: claimers }),
          tags: { pending: String(pending), claimers: String(claimers) },
          metrics: { successful_claims: 'counter', double_assigned_tasks: 'counter' },
          thresholds: ['rate==0', 'double_assigned_tasks: count==0', `successful_claims: count==${Math.min(pending, claimers)}`],
          request: async (it) => {
            const res = await ctx.replicas.request(it.iteration, { method: 'POST', path: '/tasks/claim', headers: bearer(key), body: { worker: worker(it.iteration) } });
            const attempt = claimAttempt(project, worker(it.iteration), res);
            if (attempt.result === 'claimed') {
              it.count('successful_claims');
              const holders = (handedOut.get(attempt.task_id as string) ?? 0) + 1;
              handedOut.set(attempt.task_id as string, holders);
              // A task handed out a second time is one double-assigned task, however many more follow.
              if (holders === 2) it.count('double_assigned_tasks');
            }
            return attempt;
          },
          isSuccess: (attempt) => attempt.result !== 'error',
        }),
      );
      const attempts = result.outcomes.map(
        (o): ClaimAttempt => (o.value as ClaimAttempt | undefined) ?? { project_id: project, worker: worker(o.index), result: 'error', error: o.error ?? 'no answer' },
      );
      result.verdicts.push(checkClaims(attempts, { pending, dbRows: await claimedRowsFromDb(kit.db, [project]) }));
      return result;
    },
  };
}
