// The API-key cache against a real PostgreSQL: what it answers from memory, when it asks
// again, and that a revoked key is refused within the TTL.
import { createDb, createPool, type Database } from '@crucible/db';
import { testDatabase } from '@crucible/testbed/testing';
import { sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyVerifier, generateApiKey, hashApiKey } from './auth.js';

let db: Kysely<Database>;
beforeAll(async () => {
  db = createDb(createPool({ connectionString: (await testDatabase()).url, max: 4 }));
  await db.insertInto('projects').values({ id: 'auth-p' }).execute();
});
afterAll(() => db?.destroy());

async function newKey(): Promise<string> {
  const key = generateApiKey();
  await db.insertInto('api_keys').values({ project_id: 'auth-p', key_hash: hashApiKey(key), key_prefix: key.slice(0, 8) }).execute();
  return key;
}
const revoke = (key: string) => db.updateTable('api_keys').set({ revoked_at: sql`now()` }).where('key_hash', '=', hashApiKey(key)).execute();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('ApiKeyVerifier', () => {
  it('asks the database once for concurrent first requests of a key, then answers from memory', async () => {
    const verifier = new ApiKeyVerifier(db, { ttlMs: 60_000 });
    const key = await newKey();
    const first = verifier.verify(key);
    expect(first).toBeInstanceOf(Promise);
    // Fifty requests arriving while the lookup runs share it.
    for (let i = 0; i < 50; i++) expect(verifier.verify(key)).toBe(first);
    expect(await first).toEqual({ projectId: 'auth-p' });
    expect(verifier.verify(key)).toEqual({ projectId: 'auth-p' });
    expect(await verifier.verify(generateApiKey())).toBeUndefined();
  });

  // A TTL of 2 s: its last quarter starts at 1.5 s, and a refresh has half a second to land on a loaded machine.
  const ttlMs = 2000;

  it('verifies a busy key again before it expires, so no request waits for it past the TTL', async () => {
    const verifier = new ApiKeyVerifier(db, { ttlMs });
    const key = await newKey();
    await verifier.verify(key);
    await sleep(1600);
    // In the last quarter of the TTL: answered from memory, and a lookup started behind it.
    expect(verifier.verify(key)).toEqual({ projectId: 'auth-p' });
    await sleep(600);
    // Past the first verification's expiry, still answered from memory: it was refreshed.
    expect(verifier.verify(key)).toEqual({ projectId: 'auth-p' });
  });

  it('refuses a revoked key once a refresh finds it gone, and at the latest when its TTL ends', async () => {
    const verifier = new ApiKeyVerifier(db, { ttlMs });
    const refreshed = await newKey();
    const idle = await newKey();
    const verifiedAt = Date.now();
    await Promise.all([verifier.verify(refreshed), verifier.verify(idle)]);
    await revoke(refreshed);
    await revoke(idle);
    // Within the TTL a revoked key may still pass from memory: the documented bound.
    expect(verifier.verify(idle)).toEqual({ projectId: 'auth-p' });
    await sleep(1600);
    // Used in the last quarter: refreshed in the background, and refused as soon as that lookup lands.
    let answer = verifier.verify(refreshed);
    while (!(answer instanceof Promise) && Date.now() - verifiedAt < ttlMs) {
      await sleep(10);
      answer = verifier.verify(refreshed);
    }
    expect(Date.now() - verifiedAt, 'refused before the TTL ran out').toBeLessThan(ttlMs);
    expect(await answer).toBeUndefined();
    await sleep(verifiedAt + ttlMs + 50 - Date.now());
    // Never used in its last quarter, so never refreshed: refused once the TTL ended.
    const late = verifier.verify(idle);
    expect(late).toBeInstanceOf(Promise);
    expect(await late).toBeUndefined();
  });

  it('with ttlMs 0 asks the database on every request', async () => {
    const verifier = new ApiKeyVerifier(db, { ttlMs: 0 });
    const key = await newKey();
    expect(await verifier.verify(key)).toEqual({ projectId: 'auth-p' });
    expect(verifier.verify(key)).toBeInstanceOf(Promise);
  });
});
