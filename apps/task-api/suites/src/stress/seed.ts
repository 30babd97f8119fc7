// The task-api stress suite's data set (setup, not the thing under test).
import type { Database } from '@crucible/db';
import { sql, type Kysely } from 'kysely';
import { bearer, type Replicas, type WrittenIds } from './context.js';

/** How the seeded data set looks (the "realistic data"). */
export const seedShape = { tasksPerProject: 1000, registryRowsTotal: 100 } as const;

/**
 * The id of a project's n-th seeded task (`acme-0001`): ids differ between projects, so SQL
 * evidence can tell a row of one project from another's.
 */
export function seedTaskId(project: string, n: number): string {
  return `${project}-${String(n).padStart(4, '0')}`;
}

/**
 * Seeds realistic data straight into the database: per project `tasksPerProject` tasks (70 %
 * pending, 10 % in progress, 20 % done; priorities 0–9; created over the last day) and 100
 * `id_registry` rows spread over the projects. Resolves to the task ids seeded per project.
 */
export async function seedProjects(db: Kysely<Database>, projects: readonly string[], tasksPerProject: number = seedShape.tasksPerProject): Promise<WrittenIds> {
  for (const p of projects) {
    await sql`
      insert into tasks (project_id, task_id, title, status, priority, payload, claimed_by, created_at, updated_at)
      select ${p}, ${p} || '-' || lpad(g::text, 4, '0'), 'seeded task ' || g || ' of ' || ${p},
        case when g % 10 < 7 then 'pending' when g % 10 = 7 then 'in_progress' else 'done' end,
        (g * 7) % 10,
        jsonb_build_object('component', 'c' || (g % 12), 'estimate', g % 8),
        case when g % 10 = 7 then 'seed-worker' end,
        now() - make_interval(secs => (${tasksPerProject} - g) * 60),
        now() - make_interval(secs => (${tasksPerProject} - g) * 30)
      from generate_series(1, ${tasksPerProject}) g`.execute(db);
  }
  const perProject = Math.ceil(seedShape.registryRowsTotal / projects.length);
  const rows = projects.flatMap((p) =>
    Array.from({ length: perProject }, (_, i) => ({ project_id: p, sequence_type: `DOC${String(i).padStart(2, '0')}`, last_assigned_id: (i * 37) % 500 })),
  );
  await db.insertInto('id_registry').values(rows.slice(0, seedShape.registryRowsTotal)).execute();
  await sql`analyze tasks`.execute(db);
  await sql`analyze id_registry`.execute(db);
  return Object.fromEntries(projects.map((p) => [p, Array.from({ length: tasksPerProject }, (_, i) => seedTaskId(p, i + 1))]));
}

/**
 * Seeds the same task ids through `POST /tasks` instead, so a defect on the write path
 * reaches the data (the planted-defect tests of SQL isolation). The projects write in
 * turns, `concurrency` at a time. Resolves to the ids each project was answered 201 for.
 */
export async function seedThroughApi(
  replicas: Replicas,
  keys: Readonly<Record<string, string>>,
  projects: readonly string[],
  tasksPerProject: number,
  concurrency = 8,
): Promise<WrittenIds> {
  const jobs = projects.flatMap((p) => Array.from({ length: tasksPerProject }, (_, i) => ({ p, n: i + 1 })));
  const written: Record<string, string[]> = Object.fromEntries(projects.map((p) => [p, []]));
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let j = next++; j < jobs.length; j = next++) {
        const { p, n } = jobs[j] as { p: string; n: number };
        const task_id = seedTaskId(p, n);
        const status = n % 10 < 7 ? 'pending' : 'done';
        const res = await replicas.request(j, { method: 'POST', path: '/tasks', headers: bearer(keys[p] as string), body: { task_id, title: `seeded task ${n} of ${p}`, status, priority: (n * 7) % 10 } });
        if (res.status === 201) written[p]?.push(task_id);
      }
    }),
  );
  return written;
}
