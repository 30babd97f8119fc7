import { classifyDbError, createDb, createPool } from '@crucible/db';
import { sql } from 'kysely';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ChaosProxy } from './client.js';
import { startToxiproxyServer, type ToxiproxyServer } from './server.js';
import { down, latency, resetPeer } from './toxics.js';

// The database link of a service, for real: the run's PostgreSQL (vitest global setup)
// behind a toxiproxy proxy, through the pool factory every Crucible service uses.
declare module 'vitest' {
  export interface ProvidedContext {
    crucibleAdminUrl: string;
  }
}

let toxiproxy: ToxiproxyServer;
let link: ChaosProxy;
let viaProxy: string;
const pools: pg.Pool[] = [];
const poolThroughProxy = (options: { max?: number; queryTimeoutMs?: number } = {}) => {
  const pool = createPool({ connectionString: viaProxy, max: 2, acquireTimeoutMs: 1000, statementTimeoutMs: 3000, ...options });
  pools.push(pool);
  return pool;
};
const timed = async <T>(fn: () => Promise<T>) => {
  const t0 = performance.now();
  const value = await fn().then(
    (v) => ({ ok: true as const, v }),
    (e: unknown) => ({ ok: false as const, e }),
  );
  return { ...value, ms: performance.now() - t0 };
};

beforeAll(async () => {
  toxiproxy = await startToxiproxyServer();
  const direct = new URL(inject('crucibleAdminUrl'));
  link = await toxiproxy.chaos.createProxy({ name: 'postgres', upstream: `${direct.hostname}:${direct.port}` });
  const proxied = new URL(direct);
  proxied.hostname = link.host;
  proxied.port = String(link.port);
  viaProxy = proxied.toString();
});
afterAll(async () => {
  await Promise.allSettled(pools.map((p) => p.end()));
  await toxiproxy?.stop();
});

describe('PostgreSQL behind toxiproxy', () => {
  it('latency 100±20 ms on the link shows in every query, and is gone after removal', async () => {
    const pool = poolThroughProxy();
    await pool.query('select 1');
    const before = await timed(() => pool.query('select 1'));
    let during: Array<Awaited<ReturnType<typeof timed>>> = [];
    await link.withFault(latency(100, 20), async () => {
      for (let i = 0; i < 5; i++) during.push(await timed(() => pool.query('select 1')));
    });
    const after = await timed(() => pool.query('select 1'));
    during = during.filter((d) => d.ok);
    expect(during).toHaveLength(5);
    for (const d of during) expect(d.ms).toBeGreaterThanOrEqual(75);
    expect(before.ms).toBeLessThan(60);
    expect(after.ms).toBeLessThan(60);
  });

  it('down: queries fail fast as database_unavailable, and the pool serves again once it is up', async () => {
    const pool = poolThroughProxy();
    await pool.query('select 1');
    await link.withFault(down(), async () => {
      const r = await timed(() => pool.query('select 1'));
      expect(r.ok).toBe(false);
      if (!r.ok) expect(classifyDbError(r.e)).toBe('database_unavailable');
      expect(r.ms).toBeLessThan(2000);
    });
    const back = await timed(() => pool.query('select 1 as x'));
    expect(back.ok).toBe(true);
  });

  it('reset_peer on a checked-out connection: the query fails cleanly, the process survives, the next query gets a fresh connection', async () => {
    const pool = poolThroughProxy({ max: 1 });
    const client = await pool.connect();
    await client.query('select 1');
    let outcome: unknown;
    await link.withFault(resetPeer(), async () => {
      outcome = await client.query('select pg_sleep(0.05)').catch((e: unknown) => e);
      // Before the fix in @crucible/db the client's 'error' event had no listener here and
      // killed the process (Vitest reports that as an unhandled error).
      await new Promise((r) => setTimeout(r, 200));
    });
    client.release();
    expect(classifyDbError(outcome)).toBe('database_unavailable');
    const next = await timed(() => pool.query<{ x: number }>('select 7 as x'));
    expect(next.ok && next.v.rows[0]?.x).toBe(7);
  });

  it('a query that hit query_timeout does not leave its connection to the next request', async () => {
    // Kysely releases connections without an error, so a client whose query timed out went
    // back to the pool still waiting for the stale answer: the next request queued behind it.
    const pool = poolThroughProxy({ max: 1, queryTimeoutMs: 300 });
    const db = createDb(pool);
    await sql`select 1`.execute(db);
    // A slow answer (here a slow statement; a slow link acts the same until the toxic goes).
    const stuck = await timed(() => sql`select pg_sleep(1.5)`.execute(db));
    expect(stuck.ok).toBe(false);
    if (!stuck.ok) expect((stuck.e as Error).message).toMatch(/Query read timeout/);
    expect(stuck.ms).toBeLessThan(1000);
    const next = await timed(() => sql<{ x: number }>`select 8 as x`.execute(db));
    expect(next.ok && next.v.rows[0]?.x).toBe(8);
    expect(next.ms).toBeLessThan(250);
  });
});
