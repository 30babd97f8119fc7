import { createDb, createPool, migrateDown, migrateToEmpty, migrateToLatest, migrationNames } from '@crucible/db';
import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { createDatabase } from './databases.js';
import { testServer } from './testing/index.js';

async function tables(db: ReturnType<typeof createDb>): Promise<string[]> {
  const { rows } = await sql<{ t: string }>`select tablename as t from pg_tables where schemaname = 'public' and tablename not like 'kysely%' order by 1`.execute(db);
  return rows.map((r) => r.t);
}

it('runs every migration up, down and up again on a real PostgreSQL', async () => {
  await using empty = await createDatabase(testServer(), 'template0', 'crucible_migrate');
  const db = createDb(createPool({ connectionString: empty.url, max: 1 }));
  try {
    expect(await migrateToLatest(db)).toEqual(migrationNames);
    expect(await tables(db)).toEqual(['api_keys', 'artifacts', 'gateway_points', 'gateway_run_scenarios', 'gateway_runs', 'id_registry', 'id_reservations', 'id_retirements', 'projects', 'tasks']);
    expect(await migrateDown(db)).toEqual([migrationNames.at(-1)]);
    // Down reverted exactly the last migration: going up again re-applies only that one.
    expect(await migrateToLatest(db)).toEqual([migrationNames.at(-1)]);
    await migrateToEmpty(db);
    expect(await tables(db)).toEqual([]);
    expect(await migrateToLatest(db)).toEqual(migrationNames);
    expect(await tables(db)).toHaveLength(10);
    const { rows } = await sql<{ indexdef: string }>`select indexdef from pg_indexes where indexname = 'tasks_queue_idx'`.execute(db);
    expect(rows[0]?.indexdef).toContain('(project_id, status, priority DESC, created_at)');
  } finally {
    await db.destroy();
  }
});
