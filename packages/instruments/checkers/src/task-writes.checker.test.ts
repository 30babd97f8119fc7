import { createHash } from 'node:crypto';
import { createDb, createPool, type Database, taskRowsFromDb } from '@crucible/db';
import { testDatabase } from '@crucible/testbed/testing';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkTaskWrites, type TaskWrite } from './task-writes.checker.js';

type Sent = Omit<TaskWrite, 'outcome'>;

/** What a resilience client sends: a payload that carries a hash of itself. */
function taskFor(project: string, n: number): Sent {
  const pad = 'x'.repeat(500);
  return { task_id: `${project}-${n}`, title: `task ${n}`, payload: { n, pad, sha: createHash('sha256').update(`${project}:${n}:${pad}`).digest('hex') } };
}

/** Stores a task the way the service does: one INSERT, committed. */
async function store(db: Kysely<Database>, project: string, task: Sent, payload: unknown = task.payload): Promise<void> {
  await db.insertInto('tasks').values({ project_id: project, task_id: task.task_id, title: task.title, status: 'pending', payload: JSON.stringify(payload) }).execute();
}

/**
 * A clean history on the real PostgreSQL: 10 writes acknowledged and stored, 2 refused
 * before any work (not stored), 2 indeterminate of which one landed.
 */
async function cleanHistory(db: Kysely<Database>, project: string): Promise<TaskWrite[]> {
  await db.insertInto('projects').values({ id: project }).execute();
  const writes: TaskWrite[] = [];
  for (let n = 0; n < 14; n++) {
    const task = taskFor(project, n);
    const outcome = n < 10 ? 'ok' : n < 12 ? 'failed' : 'indeterminate';
    if (outcome === 'ok' || n === 12) await store(db, project, task);
    writes.push({ ...task, outcome });
  }
  return writes;
}

describe('task-writes checker against writes stored in the real PostgreSQL', () => {
  let db: Kysely<Database>;
  beforeAll(async () => {
    const database = await testDatabase();
    db = createDb(createPool({ connectionString: database.url, max: 4 }));
  });
  afterAll(() => db?.destroy());

  it('passes a clean history: acknowledged writes stored as sent, one indeterminate write landed', async () => {
    const writes = await cleanHistory(db, 'clean');
    const v = checkTaskWrites(writes, await taskRowsFromDb(db, 'clean'));
    expect(v.status).toBe('pass');
    expect(v.counts).toEqual({
      writes: 14,
      acknowledged: 10,
      failed: 2,
      indeterminate: 2,
      indeterminate_applied: 1,
      stored: 11,
      lost_acknowledged: 0,
      failed_but_stored: 0,
      half_written: 0,
      phantom: 0,
    });
  });

  it('catches an acknowledged write that is not stored (answered before the commit, then rolled back)', async () => {
    const writes = await cleanHistory(db, 'lost');
    const task = taskFor('lost', 99);
    await db
      .transaction()
      .execute(async (trx) => {
        await store(trx, 'lost', task);
        throw new Error('connection lost before commit');
      })
      .catch(() => undefined);
    const v = checkTaskWrites([...writes, { ...task, outcome: 'ok' }], await taskRowsFromDb(db, 'lost'));
    expect(v.status).toBe('fail');
    expect(v.counts).toMatchObject({ lost_acknowledged: 1, half_written: 0, failed_but_stored: 0, phantom: 0 });
    expect(v.examples).toContainEqual({ kind: 'lost', task_id: 'lost-99' });
  });

  it('catches a half-written row: the payload cut short on the way to the database', async () => {
    const writes = await cleanHistory(db, 'half');
    const task = taskFor('half', 99);
    const payload = task.payload as { n: number; pad: string; sha: string };
    await store(db, 'half', task, { ...payload, pad: payload.pad.slice(0, 100) });
    const v = checkTaskWrites([...writes, { ...task, outcome: 'ok' }], await taskRowsFromDb(db, 'half'));
    expect(v.status).toBe('fail');
    expect(v.counts).toMatchObject({ half_written: 1, lost_acknowledged: 0, failed_but_stored: 0, phantom: 0 });
    expect(v.examples).toContainEqual({ kind: 'half_written', task_id: 'half-99' });
  });

  it('catches a write the client was told failed that is stored anyway', async () => {
    const writes = await cleanHistory(db, 'failed');
    const task = taskFor('failed', 99);
    await store(db, 'failed', task);
    const v = checkTaskWrites([...writes, { ...task, outcome: 'failed' }], await taskRowsFromDb(db, 'failed'));
    expect(v.status).toBe('fail');
    expect(v.counts).toMatchObject({ failed_but_stored: 1, lost_acknowledged: 0, half_written: 0, phantom: 0 });
    expect(v.examples).toContainEqual({ kind: 'failed_but_stored', task_id: 'failed-99' });
  });

  it('catches a phantom row that no client sent', async () => {
    const writes = await cleanHistory(db, 'phantom');
    await store(db, 'phantom', taskFor('phantom', 99));
    const v = checkTaskWrites(writes, await taskRowsFromDb(db, 'phantom'));
    expect(v.status).toBe('fail');
    expect(v.counts).toMatchObject({ phantom: 1, stored: 12, lost_acknowledged: 0, half_written: 0, failed_but_stored: 0 });
    expect(v.examples).toContainEqual({ kind: 'phantom', task_id: 'phantom-99' });
  });

  it('reads only the asked project: another project\'s tasks are neither phantoms nor evidence', async () => {
    const writes = await cleanHistory(db, 'mine');
    await db.insertInto('projects').values({ id: 'theirs' }).execute();
    await store(db, 'theirs', taskFor('theirs', 1));
    expect(checkTaskWrites(writes, await taskRowsFromDb(db, 'mine')).status).toBe('pass');
  });
});
