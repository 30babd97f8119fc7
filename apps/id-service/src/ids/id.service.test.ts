// The coalescing reserver against the real PostgreSQL: batches hand out disjoint,
// contiguous ranges in arrival order, a failing batch fails every caller in it and leaves
// nothing behind, and keyed retries get their range back.
import { createDb, createPool, type Database } from '@crucible/db';
import { ServiceError } from '@crucible/service-kit';
import { testDatabase } from '@crucible/testbed/testing';
import type { Kysely } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findReservations, listSequences } from './id.repository.js';
import { IdReserver, type Reservation } from './id.service.js';

let url: string;
let db: Kysely<Database>;
const alpha = { projectId: 'alpha' };
const beta = { projectId: 'beta' };

beforeAll(async () => {
  url = (await testDatabase()).url;
  db = createDb(createPool({ connectionString: url, max: 10, acquireTimeoutMs: 10_000 }));
  await db.insertInto('projects').values([{ id: 'alpha' }, { id: 'beta' }]).execute();
});
afterAll(() => db?.destroy());

const lastOf = async (scope: { projectId: string }, type: string) => (await listSequences(db, scope)).find((s) => s.type === type)?.last_assigned_id ?? 0;

/** Checks that `ranges` (in arrival order) tile `start+1 .. start+sum(counts)` with no gap or overlap. */
function expectTiled(ranges: readonly Reservation[], counts: readonly number[], start = 0) {
  let next = start + 1;
  ranges.forEach((r, i) => {
    expect({ first: r.first, last: r.last }).toEqual({ first: next, last: next + (counts[i] as number) - 1 });
    next = r.last + 1;
  });
}

describe('IdReserver: coalesced allocation', () => {
  it('gives 200 concurrent callers of one sequence disjoint contiguous ranges in arrival order, in a few statements', async () => {
    const reserver = new IdReserver(db);
    const counts = Array.from({ length: 200 }, (_, i) => (i % 5) + 1);
    const ranges = await Promise.all(counts.map((count) => reserver.reserve(alpha, { op: 'reserve', type: 'ORD', count })));
    expectTiled(ranges, counts);
    expect(ranges.every((r) => r.type === 'ORD' && !r.replayed)).toBe(true);
    expect(await lastOf(alpha, 'ORD')).toBe(counts.reduce((a, b) => a + b, 0));
    // The first caller goes alone; everyone who arrived while it ran shares the next statement.
    expect(reserver.stats).toEqual({ batches: 2, items: 200 });
  });

  it('keeps sequences apart: each project and type is its own lane, each from 1', async () => {
    const reserver = new IdReserver(db);
    const calls = Array.from({ length: 60 }, (_, i) => ({ scope: i % 2 ? alpha : beta, type: i % 3 ? 'LA' : 'LB' }));
    const ranges = await Promise.all(calls.map((c) => reserver.reserve(c.scope, { op: 'next', type: c.type, count: 1 })));
    for (const scope of [alpha, beta]) {
      for (const type of ['LA', 'LB']) {
        const mine = ranges.filter((_, i) => calls[i]?.scope === scope && calls[i]?.type === type);
        expectTiled(mine, mine.map(() => 1));
        expect(await lastOf(scope, type)).toBe(mine.length);
      }
    }
  });

  it('mixes keyed and unkeyed calls in one batch; keyed retries, in a batch or across reservers, return the same range and allocate nothing', async () => {
    const reserver = new IdReserver(db);
    const calls = Array.from({ length: 40 }, (_, i) => ({ count: (i % 3) + 1, key: i % 2 ? `mix-${i}` : undefined }));
    const first = await Promise.all(calls.map((c) => reserver.reserve(alpha, { op: 'reserve', type: 'MIX', count: c.count }, c.key)));
    expectTiled(first, calls.map((c) => c.count));
    const high = await lastOf(alpha, 'MIX');
    // Every keyed range is recorded under its key, exactly as answered.
    const stored = await findReservations(db, alpha, calls.flatMap((c) => (c.key ? [c.key] : [])));
    expect(stored.size).toBe(20);
    calls.forEach((c, i) => c.key && expect(stored.get(c.key)).toMatchObject({ first: first[i]?.first, last: first[i]?.last }));

    // Retries of every key at once, twice each, through a second reserver (another process).
    const other = new IdReserver(db);
    const keyed = calls.flatMap((c, i) => (c.key ? [{ ...c, i }, { ...c, i }] : []));
    const retries = await Promise.all(keyed.map((c) => other.reserve(alpha, { op: 'reserve', type: 'MIX', count: c.count }, c.key)));
    retries.forEach((r, k) => expect(r).toEqual({ ...first[keyed[k]?.i as number], replayed: true }));
    expect(await lastOf(alpha, 'MIX')).toBe(high);
  });

  it('answers one key sent twice in one batch once: the same range, the second a replay; another request under the key is a 422 for that caller alone', async () => {
    const reserver = new IdReserver(db);
    const before = await lastOf(beta, 'DUP');
    const [a, b, c, d] = await Promise.allSettled([
      reserver.reserve(beta, { op: 'reserve', type: 'DUP', count: 1 }),
      reserver.reserve(beta, { op: 'reserve', type: 'DUP', count: 4 }, 'dup-1'),
      reserver.reserve(beta, { op: 'reserve', type: 'DUP', count: 4 }, 'dup-1'),
      reserver.reserve(beta, { op: 'reserve', type: 'DUP', count: 2 }, 'dup-1'),
    ]);
    expect(a?.status).toBe('fulfilled');
    const ok = (s: PromiseSettledResult<Reservation> | undefined) => (s?.status === 'fulfilled' ? s.value : undefined);
    expect(ok(b)).toMatchObject({ first: before + 2, last: before + 5, replayed: false });
    expect(ok(c)).toEqual({ ...ok(b), replayed: true });
    expect(d?.status === 'rejected' && d.reason instanceof ServiceError && d.reason.code).toBe('idempotency_conflict');
    expect(await lastOf(beta, 'DUP')).toBe(before + 5);
  });

  it('fails every caller of a batch whose statement fails, commits none of it, and a keyed retry then succeeds', async () => {
    // A statement timeout of 300 ms and the sequence's row held from outside: every batch fails.
    const shortDb = createDb(createPool({ connectionString: url, max: 2, acquireTimeoutMs: 5000, statementTimeoutMs: 300 }));
    const locker = new pg.Client({ connectionString: url });
    await locker.connect();
    try {
      const reserver = new IdReserver(shortDb);
      await reserver.reserve(alpha, { op: 'reserve', type: 'FAIL', count: 1 });
      await locker.query('begin');
      await locker.query(`select 1 from id_registry where project_id = 'alpha' and sequence_type = 'FAIL' for update`);
      const calls = Array.from({ length: 20 }, (_, i) => ({ count: 2, key: i % 2 ? `fail-${i}` : undefined }));
      const settled = await Promise.allSettled(calls.map((c) => reserver.reserve(alpha, { op: 'reserve', type: 'FAIL', count: c.count }, c.key)));
      expect(settled.map((s) => s.status)).toEqual(Array(20).fill('rejected'));
      // A statement timeout: the error edge answers it as 503 database_unavailable.
      expect(settled.map((s) => (s.status === 'rejected' ? (s.reason as { code?: string }).code : undefined))).toEqual(Array(20).fill('57014'));
      await locker.query('commit');
      expect(await lastOf(alpha, 'FAIL')).toBe(1);
      expect((await findReservations(db, alpha, calls.flatMap((c) => (c.key ? [c.key] : [])))).size).toBe(0);
      // Nothing was recorded, so the retries allocate, contiguous from where the sequence stood.
      const retried = await Promise.all(calls.map((c) => reserver.reserve(alpha, { op: 'reserve', type: 'FAIL', count: c.count }, c.key)));
      expectTiled(retried, calls.map((c) => c.count), 1);
      expect(retried.every((r) => !r.replayed)).toBe(true);
    } finally {
      await locker.end();
      await shortDb.destroy();
    }
  });
});
