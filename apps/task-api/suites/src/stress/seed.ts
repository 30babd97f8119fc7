// The task-api stress suite's data set (setup, not the thing under test).
import type { Database } from '@crucible/db';
import { sql, type Kysely } from 'kysely';

/** How the seeded data set looks (the "realistic data"). */
export const seedShape = { tasksPerProject: 1000, registryRowsTotal: 100 } as const;

/**
 * Seeds realistic data straight into the database: per project 1,000 tasks (70 % pending,
 * 10 % in progress, 20 % done; priorities 0–9; created over the last day) and 100
 * `id_registry` rows spread over the projects.
 */
export async function seedProjects(db: Kysely<Database>, projects: readonly string[]): Promise<void> {
  for (const p of projects) {
    await sql`
      insert into tasks (project_id, task_id, title, status, priority, payload, claimed_by, created_at, updated_at)
      select ${p}, 'seed-' || lpad(g::text, 4, '0'), 'seeded task ' || g || ' of ' || ${p},
        case when g % 10 < 7 then 'pending' when g % 10 = 7 then 'in_progress' else 'done' end,
        (g * 7) % 10,
        jsonb_build_object('component', 'c' || (g % 12), 'estimate', g % 8),
        case when g % 10 = 7 then 'seed-worker' end,
        now() - make_interval(secs => (${seedShape.tasksPerProject} - g) * 60),
        now() - make_interval(secs => (${seedShape.tasksPerProject} - g) * 30)
      from generate_series(1, ${seedShape.tasksPerProject}) g`.execute(db);
  }
  const perProject = Math.ceil(seedShape.registryRowsTotal / projects.length);
  const rows = projects.flatMap((p) =>
    Array.from({ length: perProject }, (_, i) => ({ project_id: p, sequence_type: `DOC${String(i).padStart(2, '0')}`, last_assigned_id: (i * 37) % 500 })),
  );
  await db.insertInto('id_registry').values(rows.slice(0, seedShape.registryRowsTotal)).execute();
  await sql`analyze tasks`.execute(db);
  await sql`analyze id_registry`.execute(db);
}
