import { sql, type Kysely } from 'kysely';

// POST /tasks with an Idempotency-Key: the key is stored on the task it created, unique per
// project, so a retried create (a client that never saw the answer, a replica killed mid-call)
// finds its task instead of making a second one. Keys are optional: the index is partial.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('tasks').addColumn('idempotency_key', 'text').execute();
  await sql`create unique index tasks_idempotency_idx on tasks (project_id, idempotency_key) where idempotency_key is not null`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index if exists tasks_idempotency_idx`.execute(db);
  await db.schema.alterTable('tasks').dropColumn('idempotency_key').execute();
}
