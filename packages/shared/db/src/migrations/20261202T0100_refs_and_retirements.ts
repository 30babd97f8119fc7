import { sql, type Kysely } from 'kysely';

// Entity references between the two apps. The ID service records the ids it retired, one
// row each (an id is issued when its number is at most its sequence's high-water mark in
// id_registry, so only retirement needs rows of its own). The task API stores each task's
// references as the ids given; their staleness is the ID service's answer at read time.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('id_retirements')
    .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id').onDelete('cascade'))
    .addColumn('sequence_type', 'text', (c) => c.notNull())
    .addColumn('number', 'bigint', (c) => c.notNull().check(sql`number >= 1`))
    .addColumn('retired_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('id_retirements_pkey', ['project_id', 'sequence_type', 'number'])
    .execute();
  await db.schema.alterTable('tasks').addColumn('refs', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'::text[]`)).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('tasks').dropColumn('refs').execute();
  await db.schema.dropTable('id_retirements').execute();
}
