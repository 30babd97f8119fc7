import { createDb, createPool, type Database, claimedRowsFromDb } from '@crucible/db';
import { testDatabase } from '@crucible/testbed/testing';
import { sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkClaims, type ClaimAttempt } from './claims.checker.js';

type Claim = (db: Kysely<Database>, project: string, worker: string) => Promise<string | undefined>;

/** The service's way: one statement, the next pending task locked with SKIP LOCKED. */
const skipLockedClaim: Claim = async (db, project, worker) => {
  const { rows } = await sql<{ task_id: string }>`
    update tasks set status = 'in_progress', claimed_by = ${worker}, version = version + 1, updated_at = clock_timestamp()
    where (project_id, task_id) = (
      select project_id, task_id from tasks where project_id = ${project} and status = 'pending'
      order by priority desc, created_at limit 1 for update skip locked)
    returning task_id`.execute(db);
  return rows[0]?.task_id;
};

function barrier(parties: number): () => Promise<void> {
  let arrived = 0;
  let release!: () => void;
  const all = new Promise<void>((r) => (release = r));
  return () => {
    if (++arrived === parties) release();
    return all;
  };
}

/** Sabotage: look the next task up, then claim it by id without checking it is still pending. */
const lookThenClaim =
  (wait: () => Promise<void>): Claim =>
  async (db, project, worker) => {
    const next = await db
      .selectFrom('tasks')
      .select('task_id')
      .where('project_id', '=', project)
      .where('status', '=', 'pending')
      .orderBy('priority', 'desc')
      .orderBy('created_at')
      .executeTakeFirst();
    await wait();
    if (!next) return undefined;
    await db
      .updateTable('tasks')
      .set({ status: 'in_progress', claimed_by: worker })
      .where('project_id', '=', project)
      .where('task_id', '=', next.task_id)
      .execute();
    return next.task_id;
  };

async function seed(db: Kysely<Database>, project: string, pending: number): Promise<void> {
  await db.insertInto('projects').values({ id: project }).execute();
  await db
    .insertInto('tasks')
    .values(Array.from({ length: pending }, (_, i) => ({ project_id: project, task_id: `T-${i + 1}`, title: `task ${i + 1}`, status: 'pending', priority: i % 3 })))
    .execute();
}

async function runClaims(claim: Claim, db: Kysely<Database>, project: string, claimers: number): Promise<ClaimAttempt[]> {
  return Promise.all(
    Array.from({ length: claimers }, async (_, i): Promise<ClaimAttempt> => {
      const worker = `w${i}`;
      try {
        const task = await claim(db, project, worker);
        return task === undefined ? { project_id: project, worker, result: 'no_task', status: 404 } : { project_id: project, worker, result: 'claimed', task_id: task, status: 200 };
      } catch (err) {
        return { project_id: project, worker, result: 'error', error: String(err) };
      }
    }),
  );
}

describe('claim checker against claims run on the real PostgreSQL', () => {
  let db: Kysely<Database>;
  beforeAll(async () => {
    const database = await testDatabase();
    db = createDb(createPool({ connectionString: database.url, max: 25 }));
    await seed(db, 'good', 10);
    await seed(db, 'broken', 10);
  });
  afterAll(() => db?.destroy());

  it('passes SKIP LOCKED claims: 20 claimers on 10 tasks, 10 claimed once, 10 told no_task', async () => {
    const attempts = await runClaims(skipLockedClaim, db, 'good', 20);
    const v = checkClaims(attempts, { pending: 10, dbRows: await claimedRowsFromDb(db, ['good']) });
    expect(v.status).toBe('pass');
    expect(v.counts).toMatchObject({ claimers: 20, successes: 10, no_task: 10, double_assigned_tasks: 0, db_claimed_rows: 10, db_mismatches: 0 });
  });

  it('catches the look-then-claim sabotage: 20 racing claimers all get the same task', async () => {
    const attempts = await runClaims(lookThenClaim(barrier(20)), db, 'broken', 20);
    const v = checkClaims(attempts, { pending: 10, dbRows: await claimedRowsFromDb(db, ['broken']) });
    expect(v.status).toBe('fail');
    expect(v.counts).toMatchObject({
      claimers: 20,
      successes: 20,
      expected_successes: 10,
      no_task: 0,
      expected_no_task: 10,
      double_assigned_tasks: 1,
      extra_assignments: 19,
      db_claimed_rows: 1,
      // The row names only the last writer; the other 19 answers disagree with it.
      db_mismatches: 19,
    });
    expect(v.examples[0]).toMatchObject({ kind: 'double_assigned', project: 'broken', task_id: 'T-3' });
  });

  it('fails when a claimer got an error instead of no_task', () => {
    const v = checkClaims(
      [
        { project_id: 'p', worker: 'a', result: 'claimed', task_id: 'T-1' },
        { project_id: 'p', worker: 'b', result: 'error', status: 500 },
      ],
      { pending: 1 },
    );
    expect(v.status).toBe('fail');
    expect(v.counts).toMatchObject({ errors: 1, successes: 1, no_task: 0, expected_no_task: 1 });
  });
});
