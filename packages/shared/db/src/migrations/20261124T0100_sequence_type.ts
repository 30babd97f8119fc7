import type { Kysely } from 'kysely';

// The ID registry numbers any kind of sequence (stories, bugs, generated task ids), not
// only artifacts: `artifact_type` becomes `sequence_type` in both ID tables. Renaming keeps
// the primary keys, which follow the column.
const tables = ['id_registry', 'id_reservations'] as const;

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const table of tables) await db.schema.alterTable(table).renameColumn('artifact_type', 'sequence_type').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of tables) await db.schema.alterTable(table).renameColumn('sequence_type', 'artifact_type').execute();
}
