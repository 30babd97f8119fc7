// Time partitioning and retention of the run history's points, on a real PostgreSQL: the
// migration's upkeep function creates monthly partitions ahead, drops the months past the
// retention (the runs and their summaries stay), moves a default partition's rows into a
// month created later; and the real gateway process runs that upkeep itself.
import { createDb, createPool, type Database } from '@crucible/db';
import { startSut } from '@crucible/testbed';
import { testDatabase, testServer } from '@crucible/testbed/testing';
import { sql, type Kysely } from 'kysely';
import { describe, expect, it } from 'vitest';

const monthName = (d: Date) => `gateway_points_p${d.getUTCFullYear()}${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
const monthsFromNow = (n: number) => {
  const d = new Date();
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + n, 15));
};

async function partitions(db: Kysely<Database>): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`
    select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
    where i.inhparent = 'gateway_points'::regclass order by 1`.execute(db);
  return rows.map((r) => r.name);
}

/** A run started at `at` with `n` points, written as the store writes them (run first). */
async function runAt(db: Kysely<Database>, runId: string, at: Date, n = 3): Promise<void> {
  await db.insertInto('gateway_runs').values({ project_id: 'p', run_id: runId, started_at: at }).execute();
  await db
    .insertInto('gateway_points')
    .values(Array.from({ length: n }, (_, t) => ({ project_id: 'p', run_id: runId, scenario: 's', t, run_started_at: at, requests: 1, errors: 0, rps: 1, snapshot: '{}' })))
    .execute();
}

const pointsOf = async (db: Kysely<Database>, runId: string) => Number((await db.selectFrom('gateway_points').select((eb) => eb.fn.countAll().as('n')).where('run_id', '=', runId).executeTakeFirstOrThrow()).n);

describe('run history partitions and retention (real PostgreSQL)', () => {
  it('creates months ahead, drops the months past retention (runs stay), and moves default-partition rows into a month created later', async () => {
    const database = await testDatabase();
    const db = createDb(createPool({ connectionString: database.url, max: 1 }));
    try {
      await sql`select gateway_points_ensure(${monthsFromNow(-14)}, ${monthsFromNow(-14)})`.execute(db);
      await runAt(db, 'old', monthsFromNow(-14));
      await runAt(db, 'recent', monthsFromNow(-2));
      await runAt(db, 'now', new Date());
      // Past every month created: the default partition takes it, so the insert does not fail.
      await runAt(db, 'future', monthsFromNow(30));
      expect(await partitions(db)).toContain('gateway_points_default');

      const { rows } = await sql<{ action: string; partition: string }>`select * from gateway_points_maintain(3, 12)`.execute(db);
      expect(rows.filter((r) => r.action === 'dropped').map((r) => r.partition)).toEqual([monthName(monthsFromNow(-14))]);
      const parts = await partitions(db);
      for (const n of [0, 1, 2, 3]) expect(parts).toContain(monthName(monthsFromNow(n)));
      expect(parts).not.toContain(monthName(monthsFromNow(-14)));
      expect(await pointsOf(db, 'old')).toBe(0);
      expect(await pointsOf(db, 'recent')).toBe(3);
      expect(await pointsOf(db, 'now')).toBe(3);
      // The run and its row stay: retention drops points, not the history of what ran.
      expect(await db.selectFrom('gateway_runs').select('run_id').where('run_id', '=', 'old').execute()).toHaveLength(1);
      // Idempotent: a second upkeep creates and drops nothing.
      expect((await sql`select * from gateway_points_maintain(3, 12)`.execute(db)).rows).toEqual([]);

      await sql`select gateway_points_ensure(${monthsFromNow(30)}, ${monthsFromNow(30)})`.execute(db);
      const { rows: placed } = await sql<{ part: string; n: string }>`select tableoid::regclass::text as part, count(*) as n from gateway_points where run_id = 'future' group by 1`.execute(db);
      expect(placed).toEqual([{ part: `gateway_points_parts.${monthName(monthsFromNow(30))}`, n: '3' }]);

      await expect(sql`select * from gateway_points_maintain(3, 0)`.execute(db)).rejects.toThrow(/retain_months >= 1/);
    } finally {
      await db.destroy();
    }
  });

  it('the gateway keeps its partitions up by itself: a month past GATEWAY_HISTORY_RETAIN_MONTHS is dropped soon after start-up', async () => {
    await using sut = await startSut({ server: testServer(), apps: ['metrics-gateway'], env: { LOG_LEVEL: 'warn', GATEWAY_HISTORY_RETAIN_MONTHS: '2', GATEWAY_HISTORY_PARTITIONS_AHEAD: '5', GATEWAY_HISTORY_MAINTAIN_MS: '1000' } });
    const db = createDb(createPool({ connectionString: sut.databaseUrl, max: 1 }));
    try {
      await sql`select gateway_points_ensure(${monthsFromNow(-6)}, ${monthsFromNow(-6)})`.execute(db);
      await runAt(db, 'six-months-ago', monthsFromNow(-6));
      const deadline = Date.now() + 15_000;
      while ((await partitions(db)).includes(monthName(monthsFromNow(-6))) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      const parts = await partitions(db);
      expect(parts).not.toContain(monthName(monthsFromNow(-6)));
      expect(parts).toContain(monthName(monthsFromNow(5)));
      expect(await pointsOf(db, 'six-months-ago')).toBe(0);
    } finally {
      await db.destroy();
    }
  });
});
