import { errorEnvelopeSchema, healthResponseSchema, taskSchema } from '@crucible/contracts';
import { sql } from 'kysely';
import { Pool } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiClient, type ServiceTestContext } from '@crucible/testbed/testing';
import { startTaskApi } from '../../tests/with-id-service.js';

// Flash sale: N pending tasks, M > N claimers at once. The service gets a pool of 20 and a
// 10 s acquire timeout: 500 claims of a few milliseconds each queue for well under a
// second on 20 connections, so no claim may be answered 503 pool_exhausted.
const poolMax = 20;
const acquireTimeoutMs = 10_000;

let api: ServiceTestContext;
beforeAll(async () => {
  api = await startTaskApi({ env: { DB_POOL_MAX: String(poolMax), DB_ACQUIRE_TIMEOUT_MS: String(acquireTimeoutMs) } });
});
afterAll(() => api?.close());

async function seedPending(project: string, n: number): Promise<void> {
  await sql`insert into tasks (project_id, task_id, title, priority)
            select ${project}, 'sale-' || i, 'item ' || i, i % 3 from generate_series(1, ${n}) as i`.execute(api.db);
}

/** Fires `m` claims at once over `m` separate connections and returns every answer. */
async function burst(client: ApiClient, m: number): Promise<{ status: number; body: unknown; worker: string }[]> {
  const http = new Pool(api.url, { connections: m, pipelining: 1 });
  try {
    // Connect every socket first (with a request that touches no database: no key, 401)
    // so the claims themselves leave together.
    await Promise.all(Array.from({ length: m }, () => http.request({ method: 'GET', path: '/tasks/next' }).then((r) => r.body.dump())));
    return await Promise.all(
      Array.from({ length: m }, async (_, i) => {
        const worker = `worker-${i}`;
        const res = await http.request({
          method: 'POST',
          path: '/tasks/claim',
          headers: { authorization: `Bearer ${client.key}`, 'content-type': 'application/json' },
          body: JSON.stringify({ worker }),
        });
        return { status: res.statusCode, body: await res.body.json(), worker };
      }),
    );
  } finally {
    await http.close();
  }
}

describe('exactly-once claims under a flash sale', () => {
  for (const [n, m] of [
    [10, 100],
    [20, 200],
    [50, 500],
  ] as const) {
    it(`${n} pending tasks, ${m} concurrent claims: exactly ${n} succeed, ${m - n} get no_task, none twice`, async () => {
      const project = `sale-${n}`;
      const client = await api.project(project);
      await seedPending(project, n);
      // Warm the key cache so the burst measures claims, not key look-ups.
      expect((await client.request('GET', '/tasks/next')).status).toBe(200);

      const answers = await burst(client, m);
      const statuses = answers.map((a) => a.status);
      expect(statuses.filter((s) => s === 503)).toEqual([]); // the pool always handed out a connection
      const won = answers.filter((a) => a.status === 200);
      const lost = answers.filter((a) => a.status === 404);
      expect(won).toHaveLength(n);
      expect(lost).toHaveLength(m - n);
      for (const a of lost) expect(errorEnvelopeSchema.parse(a.body).error.code).toBe('no_task');

      const claimed = won.map((a) => ({ ...taskSchema.parse(a.body), worker: a.worker }));
      expect(new Set(claimed.map((t) => t.task_id)).size).toBe(n); // no task claimed twice
      for (const t of claimed) expect(t).toMatchObject({ project_id: project, status: 'in_progress', claimed_by: t.worker, version: 2 });

      // The table agrees: every task claimed once, by the worker the API told.
      const { rows } = await sql<{ task_id: string; status: string; claimed_by: string | null; version: number }>`
        select task_id, status, claimed_by, version from tasks where project_id = ${project} order by task_id`.execute(api.db);
      expect(rows).toHaveLength(n);
      expect(rows.every((r) => r.status === 'in_progress' && r.version === 2)).toBe(true);
      expect(Object.fromEntries(rows.map((r) => [r.task_id, r.claimed_by]))).toEqual(Object.fromEntries(claimed.map((t) => [t.task_id, t.worker])));

      const health = healthResponseSchema.parse((await client.request('GET', '/health')).body);
      expect(health.pool.acquire_timeouts).toBe(0);
      expect(health.pool.max).toBe(poolMax);
    });
  }
});
