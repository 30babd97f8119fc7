import { createDb, createPool, type Database, idEvidenceFromDb } from '@crucible/db';
import { testDatabase } from '@crucible/testbed/testing';
import { sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reconcileIds } from './id-reconciliation.checker.js';
import { checkIds } from './ids.checker.js';
import type { IdOperation } from './ids.history.js';
import { classifyOutcome } from './outcome.js';

const ok = (project: string, first: number, last: number, extra: Partial<IdOperation> = {}): IdOperation => ({
  project_id: project,
  type: 'US',
  count: last - first + 1,
  outcome: 'ok',
  first,
  last,
  ...extra,
});

describe('classifyOutcome', () => {
  it('sorts answers the way Jepsen sorts operations', () => {
    expect(classifyOutcome({ status: 201 })).toBe('ok');
    expect(classifyOutcome({ status: 400, code: 'validation_failed' })).toBe('failed');
    expect(classifyOutcome({ status: 503, code: 'pool_exhausted' })).toBe('failed');
    expect(classifyOutcome({ status: 503, code: 'database_unavailable' })).toBe('indeterminate');
    expect(classifyOutcome({ status: 500, code: 'internal' })).toBe('indeterminate');
    expect(classifyOutcome({})).toBe('indeterminate');
  });
});

describe('checkIds on recorded histories', () => {
  it('passes unique contiguous sequences per project, each starting at 1', () => {
    const v = checkIds([ok('alpha', 1, 6), ok('beta', 1, 6), ok('alpha', 7, 12), ok('beta', 7, 7)]);
    expect(v.status).toBe('pass');
    expect(v.counts).toMatchObject({ sequences: 2, ids_acknowledged: 19, duplicate_ids: 0, unexplained_gap_ids: 0 });
  });

  it('counts each duplicated number once and names the calls that share it', () => {
    const v = checkIds([ok('alpha', 1, 6, { process: 'w1' }), ok('alpha', 5, 10), ok('alpha', 6, 6)]);
    expect(v.status).toBe('fail');
    expect(v.counts['duplicate_ids']).toBe(2);
    expect(v.examples).toContainEqual({ kind: 'duplicate', project_id: 'alpha', type: 'US', first: 6, last: 6, ops: [0, 1, 2] });
  });

  it('calls a hole explained only when unresolved calls could have taken exactly it', () => {
    const timedOut: IdOperation = { project_id: 'alpha', type: 'US', count: 6, outcome: 'indeterminate', error: 'timeout' };
    const explained = checkIds([ok('alpha', 1, 6), timedOut, ok('alpha', 13, 18)]);
    expect(explained.status).toBe('indeterminate');
    expect(explained.counts).toMatchObject({ explained_gap_ids: 6, unexplained_gap_ids: 0, ops_indeterminate: 1 });
    const failedCall: IdOperation = { ...timedOut, outcome: 'failed' };
    const lost = checkIds([ok('alpha', 1, 6), failedCall, ok('alpha', 13, 18)]);
    expect(lost.status).toBe('fail');
    expect(lost.counts).toMatchObject({ unexplained_gap_ids: 6, ops_failed: 1 });
  });

  it('leaves indeterminate calls to the reconciling verdict it names, and still fails on what it can see', () => {
    const timedOut: IdOperation = { project_id: 'alpha', type: 'US', count: 6, outcome: 'indeterminate', error: 'timeout' };
    const left = checkIds([ok('alpha', 1, 6), timedOut, ok('alpha', 13, 18)], { reconciledBy: 'id-reconciliation' });
    expect(left.status).toBe('pass');
    expect(left.summary).toBe('12 acknowledged IDs unique; 1 indeterminate calls left to id-reconciliation (reconciled against the database)');
    const dup = checkIds([ok('alpha', 1, 6), timedOut, ok('alpha', 6, 11)], { reconciledBy: 'id-reconciliation' });
    expect(dup.status).toBe('fail');
  });

  it('flags an answer whose range is not the size asked for', () => {
    const v = checkIds([{ ...ok('alpha', 1, 5), count: 6 }]);
    expect(v.status).toBe('fail');
    expect(v.counts['malformed_ranges']).toBe(1);
  });

  it('starts each sequence at its baseline', () => {
    expect(checkIds([ok('alpha', 11, 12)], { baseline: { 'alpha/US': 10 } }).status).toBe('pass');
    expect(checkIds([ok('alpha', 11, 12)]).counts['unexplained_gap_ids']).toBe(10);
  });
});

// --- Sabotage against the real PostgreSQL -------------------------------------------------

type Allocator = (db: Kysely<Database>, project: string, type: string, count: number, key: string) => Promise<{ first: number; last: number }>;

/** The service's way: one atomic upsert under the row lock, the reservation in the same transaction. */
const atomicAllocator =
  (pauseBeforeCommitS = 0, failAfterWork = false): Allocator =>
  (db, project, type, count, key) =>
    db.transaction().execute(async (trx) => {
      const { rows } = await sql<{ last: string }>`
        insert into id_registry (project_id, sequence_type, last_assigned_id) values (${project}, ${type}, ${count})
        on conflict (project_id, sequence_type) do update set last_assigned_id = id_registry.last_assigned_id + excluded.last_assigned_id
        returning last_assigned_id::text as last`.execute(trx);
      const last = Number(rows[0]?.last);
      const first = last - count + 1;
      await trx
        .insertInto('id_reservations')
        .values({ project_id: project, idempotency_key: key, sequence_type: type, request_hash: 'h', first_id: first, last_id: last })
        .execute();
      if (pauseBeforeCommitS > 0) await sql`select pg_sleep(${pauseBeforeCommitS})`.execute(trx);
      if (failAfterWork) throw new Error('connection lost before commit');
      return { first, last };
    });

/** Sabotage 1: an off-by-one in the increment, so each range starts on the previous range's last ID. */
const offByOneAllocator: Allocator = async (db, project, type, count) => {
  const { rows } = await sql<{ last: string }>`
    insert into id_registry (project_id, sequence_type, last_assigned_id) values (${project}, ${type}, ${count})
    on conflict (project_id, sequence_type) do update set last_assigned_id = id_registry.last_assigned_id + excluded.last_assigned_id - 1
    returning last_assigned_id::text as last`.execute(db);
  const last = Number(rows[0]?.last);
  return { first: last - count + 1, last };
};

/** A point every caller reaches before any goes on, so a race happens on every run. */
function barrier(parties: number): () => Promise<void> {
  let arrived = 0;
  let release!: () => void;
  const all = new Promise<void>((r) => (release = r));
  return () => {
    if (++arrived === parties) release();
    return all;
  };
}

/** Sabotage 2: read, then write what was read plus count: the lost update every reviewer warns about. */
const readThenWriteAllocator =
  (wait: () => Promise<void>): Allocator =>
  async (db, project, type, count) => {
    const row = await db
      .selectFrom('id_registry')
      .select('last_assigned_id')
      .where('project_id', '=', project)
      .where('sequence_type', '=', type)
      .executeTakeFirst();
    const current = Number(row?.last_assigned_id ?? 0);
    await wait();
    await db
      .updateTable('id_registry')
      .set({ last_assigned_id: current + count })
      .where('project_id', '=', project)
      .where('sequence_type', '=', type)
      .execute();
    return { first: current + 1, last: current + count };
  };

/** Runs one reservation the way a client records it: ok with its range, or indeterminate when the client gave up first. */
async function recordCall(
  allocate: Allocator,
  db: Kysely<Database>,
  project: string,
  count: number,
  key: string,
  clientTimeoutMs = 5000,
): Promise<{ op: IdOperation; settled: Promise<unknown> }> {
  const call = allocate(db, project, 'US', count, key);
  const settled = call.catch(() => undefined);
  const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), clientTimeoutMs).unref());
  const base = { project_id: project, type: 'US', count, idempotency_key: key };
  try {
    const result = await Promise.race([call, timeout]);
    if (result === 'timeout') return { op: { ...base, outcome: 'indeterminate', error: 'timeout' }, settled };
    return { op: { ...base, outcome: 'ok', ...result }, settled };
  } catch (err) {
    return { op: { ...base, outcome: 'indeterminate', error: String(err) }, settled };
  }
}

describe('ID checkers against allocators run on the real PostgreSQL', () => {
  let db: Kysely<Database>;
  beforeAll(async () => {
    const database = await testDatabase();
    db = createDb(createPool({ connectionString: database.url, max: 30 }));
    await db
      .insertInto('projects')
      .values(['good', 'offbyone', 'race', 'faults', 'rollback'].map((id) => ({ id })))
      .execute();
  });
  afterAll(() => db?.destroy());

  it('passes 50 concurrent reservations of 6 from the atomic allocator, registry 300', async () => {
    const calls = await Promise.all(Array.from({ length: 50 }, (_, i) => recordCall(atomicAllocator(), db, 'good', 6, `k${i}`)));
    const history = calls.map((c) => c.op);
    expect(checkIds(history).status).toBe('pass');
    const { registry, reservations } = await idEvidenceFromDb(db, ['good']);
    const r = reconcileIds(history, registry, reservations);
    expect(r.verdict.status).toBe('pass');
    expect(r.verdict.counts).toMatchObject({ ids_acknowledged: 300, registry_ids: 300, duplicate_ids: 0, lost_acknowledged_ids: 0, unexplained_gap_ids: 0 });
  });

  it('catches the off-by-one allocator: 5 sequential reservations of 6 share 4 IDs', async () => {
    const history: IdOperation[] = [];
    for (let i = 0; i < 5; i++) history.push((await recordCall(offByOneAllocator, db, 'offbyone', 6, `o${i}`)).op);
    const v = checkIds(history);
    expect(v.status).toBe('fail');
    expect(v.counts).toMatchObject({ ops_ok: 5, ids_acknowledged: 30, duplicate_ids: 4 });
    expect(v.examples).toContainEqual(expect.objectContaining({ kind: 'duplicate', first: 6, last: 6, ops: [0, 1] }));
    const { registry } = await idEvidenceFromDb(db, ['offbyone']);
    // No reservation rows: this allocator never wrote them, so keyed calls are not expected to have any.
    const r = reconcileIds(history, registry, [], { reservationsForKeyedCalls: false });
    expect(r.verdict.counts).toMatchObject({ duplicate_ids: 4, registry_ids: 26, lost_acknowledged_ids: 0 });
  });

  it('catches the read-then-write allocator: 5 racing reservations of 6 all get 1..6', async () => {
    await db.insertInto('id_registry').values({ project_id: 'race', sequence_type: 'US', last_assigned_id: 0 }).execute();
    const allocate = readThenWriteAllocator(barrier(5));
    const history = (await Promise.all(Array.from({ length: 5 }, (_, i) => recordCall(allocate, db, 'race', 6, `r${i}`)))).map((c) => c.op);
    const v = checkIds(history);
    expect(v.status).toBe('fail');
    expect(v.counts).toMatchObject({ ops_ok: 5, ids_acknowledged: 30, duplicate_ids: 6 });
    expect(v.examples[0]).toMatchObject({ kind: 'duplicate', first: 1, last: 6, ops: [0, 1, 2, 3, 4] });
  });

  it('resolves timed-out calls through their reservation rows', async () => {
    const history: IdOperation[] = [];
    history.push((await recordCall(atomicAllocator(), db, 'faults', 6, 'f1')).op);
    // The client gives up after 100 ms; the transaction commits at ~400 ms and took 7..12.
    const slow = await recordCall(atomicAllocator(0.4), db, 'faults', 6, 'f2', 100);
    history.push(slow.op);
    await slow.settled;
    // This one times out too but rolls back: it took nothing.
    const doomed = await recordCall(atomicAllocator(0.4, true), db, 'faults', 6, 'f3', 100);
    history.push(doomed.op);
    await doomed.settled;
    history.push((await recordCall(atomicAllocator(), db, 'faults', 6, 'f4')).op);
    expect(history.map((o) => o.outcome)).toEqual(['ok', 'indeterminate', 'indeterminate', 'ok']);

    // On its own the history cannot tell: two calls might each have taken the hole.
    expect(checkIds(history).status).toBe('indeterminate');
    const { registry, reservations } = await idEvidenceFromDb(db, ['faults']);
    const r = reconcileIds(history, registry, reservations);
    expect(r.verdict.status).toBe('pass');
    expect(r.verdict.counts).toMatchObject({
      indeterminate_applied: 1,
      indeterminate_not_applied: 1,
      explained_gap_ids: 6,
      unexplained_gap_ids: 0,
      registry_ids: 18,
    });
    expect(r.explainedGaps).toEqual([{ project_id: 'faults', type: 'US', first: 7, last: 12, ops: [1] }]);
  });

  it('reports acknowledged ranges lost when the registry goes backwards', async () => {
    const history: IdOperation[] = [];
    for (let i = 0; i < 3; i++) history.push((await recordCall(atomicAllocator(), db, 'rollback', 6, `b${i}`)).op);
    // Sabotage 3: a restore from an old backup puts the registry back to 12.
    await db.updateTable('id_registry').set({ last_assigned_id: 12 }).where('project_id', '=', 'rollback').execute();
    await db.deleteFrom('id_reservations').where('project_id', '=', 'rollback').where('idempotency_key', '=', 'b2').execute();
    const { registry, reservations } = await idEvidenceFromDb(db, ['rollback']);
    const r = reconcileIds(history, registry, reservations);
    expect(r.verdict.status).toBe('fail');
    expect(r.verdict.counts).toMatchObject({ lost_acknowledged_ids: 6, duplicate_ids: 0 });
    expect(r.lost).toEqual([{ project_id: 'rollback', type: 'US', first: 13, last: 18, ops: [2] }]);
  });

  it('finds a duplicate between a recorded call and a reservation no recorded call made', () => {
    const r = reconcileIds(
      [ok('alpha', 1, 6, { idempotency_key: 'a' })],
      [{ project_id: 'alpha', sequence_type: 'US', last_assigned_id: '6' }],
      [
        { project_id: 'alpha', idempotency_key: 'a', sequence_type: 'US', first_id: '1', last_id: '6' },
        { project_id: 'alpha', idempotency_key: 'other-client', sequence_type: 'US', first_id: '4', last_id: '6' },
      ],
    );
    expect(r.verdict.counts['duplicate_ids']).toBe(3);
    expect(r.duplicates[0]?.ops).toEqual([0, 'reservation:other-client']);
  });

  it('reports numbers below the registry that nothing took as unexplained gaps', () => {
    const r = reconcileIds([ok('alpha', 1, 6)], [{ project_id: 'alpha', sequence_type: 'US', last_assigned_id: 10 }], []);
    expect(r.verdict.status).toBe('fail');
    expect(r.unexplainedGaps).toEqual([{ project_id: 'alpha', type: 'US', first: 7, last: 10, ops: [] }]);
  });
});
