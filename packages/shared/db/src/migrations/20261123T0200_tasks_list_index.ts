import { sql, type Kysely } from 'kysely';

// `GET /tasks` pages through a project's tasks oldest first with a keyset on
// (created_at, task_id): both are immutable, so a row cannot move between pages while
// others are inserted or updated. This index serves that order without a sort.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create index tasks_list_idx on tasks (project_id, created_at, task_id)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index tasks_list_idx`.execute(db);
}
