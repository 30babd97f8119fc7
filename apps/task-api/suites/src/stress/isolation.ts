// The projects query at once: isolation through the API and in SQL.
import { checkApiLeakage, checkSqlIsolation, type ApiObservation } from '@crucible/checkers';
import type { ListTasksResponse, Task } from '@crucible/contracts';
import { constantArrivalRate, scenario, type ScenarioResult } from '@crucible/load-engine';
import { withSql, type SuiteKit, type SuiteStep } from '@crucible/suite-kit';
import { keptValues, requestAs, type StressContext } from './context.js';

/** Rows of another project in one answer, or rows for a foreign request: the checker's own count. */
function leaksIn(o: ApiObservation): number {
  const { counts } = checkApiLeakage([o]);
  return (counts['leaked_items'] ?? 0) + (counts['unscoped_items'] ?? 0) + (counts['foreign_requests_with_rows'] ?? 0);
}

/** How long and how hard the projects query (the suite's values by default; tests run shorter). */
export interface IsolationOptions {
  /** Default 5 s (quick) or 20 s (full). */
  readonly duration?: string;
  /** Requests per second over all projects; default 100. */
  readonly rate?: number;
}

/**
 * The projects query at once (lists, next, and every tenth request a foreign `?project=`):
 * every row of every answer belongs to the asking project (`leaked_items`, counted per
 * answer), foreign requests get 404 or no rows, and a complete listing of each project
 * afterwards matches SQL row for row, with every seeded row still under the project that
 * wrote it (the ids differ between projects, so SQL can tell whose a row is).
 */
export function isolation(options: IsolationOptions = {}): SuiteStep<StressContext> {
  return { name: 'isolation across the projects', run: (ctx, kit) => runIsolation(ctx, kit, options) };
}

async function runIsolation(ctx: StressContext, kit: SuiteKit, options: IsolationOptions): Promise<ScenarioResult> {
  const n = ctx.projects.length;
  const duration = options.duration ?? (kit.args.profile === 'full' ? '20s' : '5s');
  const result = await kit.runOne(
    scenario({
      name: `${n} projects querying concurrently: isolation`,
      executor: constantArrivalRate({ rate: options.rate ?? 100, duration, preAllocatedVUs: 20, maxVUs: 200 }),
      keepResponses: true,
      tags: { projects: String(n) },
      metrics: { leaked_items: 'counter' },
      thresholds: ['rate<0.01', 'leaked_items: count==0'],
      request: async (it): Promise<ApiObservation> => {
        const project = ctx.projects[it.iteration % n] as string;
        const kind = it.iteration % 10;
        const requested = kind === 9 ? (ctx.projects[(it.iteration + 1) % n] as string) : undefined;
        const path = requested ? `/tasks?project=${requested}` : kind % 2 ? '/tasks/next' : `/tasks?limit=50&status=${kind % 4 ? 'pending' : 'done'}`;
        const res = await requestAs(ctx, it.iteration, project, { path });
        const body = res.status === 200 ? (res.json() as ListTasksResponse | Task) : undefined;
        const items = body === undefined ? [] : 'items' in body ? body.items : [body];
        const observation = { asking_project: project, requested_project: requested, endpoint: `GET ${path.split('?')[0]}`, status: res.status, items };
        it.count('leaked_items', leaksIn(observation));
        return observation;
      },
      // Another project's listing: a 404 or an empty page, never rows.
      isSuccess: (o) => (o.requested_project ? o.status === 404 || (o.status === 200 && o.items.length === 0) : o.status === 200),
    }),
  );
  const observations = keptValues<ApiObservation>(result);
  const listed = await listEveryProject(ctx, observations);
  result.verdicts.push(checkApiLeakage(observations), ...(await withSql(kit, ['sql-isolation:tasks'], async (db) => [await checkSqlIsolation(db, { table: 'tasks', listed, complete: true, written: ctx.seeded })])));
  return result;
}

/** A complete listing of every project, page by page (each page also observed for leaks). */
async function listEveryProject(ctx: StressContext, observations: ApiObservation[]): Promise<Record<string, string[]>> {
  const listed: Record<string, string[]> = {};
  await Promise.all(
    ctx.projects.map(async (p, i) => {
      const ids: string[] = [];
      let cursor: string | null = null;
      do {
        const res = await requestAs(ctx, i, p, { path: `/tasks?limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}` });
        const page = res.json() as ListTasksResponse;
        observations.push({ asking_project: p, endpoint: 'GET /tasks (full listing)', status: res.status, items: page.items });
        ids.push(...page.items.map((t) => t.task_id));
        cursor = page.next_cursor;
      } while (cursor);
      listed[p] = ids;
    }),
  );
  return listed;
}
