import { createDb, createPool, type Database } from '@crucible/db';
import { testDatabase } from '@crucible/testbed/testing';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allocateRange, allocateRecordedRange, claimIdempotencyKey, findReservation, listSequences } from './id.repository.js';
import { requestHash } from './id.service.js';

let db: Kysely<Database>;
const alpha = { projectId: 'alpha' };
const beta = { projectId: 'beta' };

beforeAll(async () => {
  const t = await testDatabase();
  db = createDb(createPool({ connectionString: t.url, max: 10, acquireTimeoutMs: 10_000 }));
  await db.insertInto('projects').values([{ id: 'alpha' }, { id: 'beta' }]).execute();
});
afterAll(() => db?.destroy());

/** Resolves to 'pending' if `p` has not settled within `ms`. */
const settledWithin = <T>(p: Promise<T>, ms: number) => Promise.race([p.then(() => 'settled' as const), new Promise<'pending'>((r) => setTimeout(() => r('pending'), ms))]);

describe('allocateRange', () => {
  it('creates a sequence at count, then adds to it, per project and type', async () => {
    expect(await allocateRange(db, alpha, 'US', 3)).toEqual({ type: 'US', first: 1, last: 3 });
    expect(await allocateRange(db, alpha, 'US', 2)).toEqual({ type: 'US', first: 4, last: 5 });
    expect(await allocateRange(db, beta, 'US', 1)).toEqual({ type: 'US', first: 1, last: 1 });
    expect(await allocateRange(db, alpha, 'BUG', 10_000)).toEqual({ type: 'BUG', first: 1, last: 10_000 });
    expect(await listSequences(db, alpha)).toEqual([
      { type: 'BUG', last_assigned_id: 10_000 },
      { type: 'US', last_assigned_id: 5 },
    ]);
    expect(await listSequences(db, beta)).toEqual([{ type: 'US', last_assigned_id: 1 }]);
  });

  it('hands out disjoint ranges to 40 callers racing on one row', async () => {
    const ranges = await Promise.all(Array.from({ length: 40 }, (_, i) => allocateRange(db, beta, 'RACE', (i % 4) + 1)));
    const numbers = ranges.flatMap((r) => Array.from({ length: r.last - r.first + 1 }, (_, k) => r.first + k)).sort((a, b) => a - b);
    const total = ranges.reduce((s, r) => s + r.last - r.first + 1, 0);
    expect(numbers).toEqual(Array.from({ length: total }, (_, i) => i + 1));
  });
});

describe('idempotency claims', () => {
  it('makes a concurrent claim of the same key wait for the first transaction, then see its range', async () => {
    const hash = requestHash({ op: 'reserve', type: 'US', count: 2 });
    let releaseFirst!: () => void;
    const firstMayCommit = new Promise<void>((r) => (releaseFirst = r));
    let firstClaimed!: () => void;
    const claimed = new Promise<void>((r) => (firstClaimed = r));

    const first = db.transaction().execute(async (trx) => {
      expect(await claimIdempotencyKey(trx, alpha, 'k1', 'US', hash)).toBe(true);
      firstClaimed();
      await firstMayCommit;
      return allocateRecordedRange(trx, alpha, 'k1', 'US', 2);
    });
    await claimed;
    const second = db.transaction().execute(async (trx) => claimIdempotencyKey(trx, alpha, 'k1', 'US', hash));
    // The second claim blocks on the key's unique index while the first is open.
    expect(await settledWithin(second, 300)).toBe('pending');
    releaseFirst();
    const range = await first;
    expect(await second).toBe(false);
    expect(await findReservation(db, alpha, 'k1')).toEqual({ ...range, requestHash: hash });
    // The same key is free in another project.
    expect(await db.transaction().execute((trx) => claimIdempotencyKey(trx, beta, 'k1', 'US', hash))).toBe(true);
  });

  it('lets a waiting claim take the key when the first transaction rolls back, leaving nothing behind', async () => {
    const hash = requestHash({ op: 'next', type: 'US', count: 1 });
    const before = await listSequences(db, alpha);
    let releaseFirst!: () => void;
    const firstMayEnd = new Promise<void>((r) => (releaseFirst = r));
    let firstClaimed!: () => void;
    const claimed = new Promise<void>((r) => (firstClaimed = r));
    const first = db.transaction().execute(async (trx) => {
      await claimIdempotencyKey(trx, alpha, 'k2', 'US', hash);
      await allocateRecordedRange(trx, alpha, 'k2', 'US', 1);
      firstClaimed();
      await firstMayEnd;
      throw new Error('crash before commit');
    });
    await claimed;
    const second = db.transaction().execute(async (trx) => claimIdempotencyKey(trx, alpha, 'k2', 'US', hash));
    expect(await settledWithin(second, 300)).toBe('pending');
    releaseFirst();
    await expect(first).rejects.toThrow('crash before commit');
    expect(await second).toBe(true);
    // The rolled-back allocation is gone with its transaction.
    expect(await listSequences(db, alpha)).toEqual(before);
  });

  it('fingerprints requests by route, type and count', () => {
    const base = requestHash({ op: 'reserve', type: 'US', count: 2 });
    expect(requestHash({ op: 'reserve', type: 'US', count: 2 })).toBe(base);
    expect(new Set([base, requestHash({ op: 'next', type: 'US', count: 2 }), requestHash({ op: 'reserve', type: 'BUG', count: 2 }), requestHash({ op: 'reserve', type: 'US', count: 3 })]).size).toBe(4);
  });
});
