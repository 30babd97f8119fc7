// Generated task ids from the real ID service over HTTP: blocks, uniqueness under
// concurrency, and the breaker's open → half-open → closed cycle against a real ID service
// process that is frozen (SIGSTOP), then stopped, then started again.
import type { HealthResponse, Task } from '@crucible/contracts';
import { envelope, type Answer, type ApiClient, type ServiceTestContext } from '@crucible/testbed/testing';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTaskApi, type TaskApiUnderTest } from '../../tests/with-id-service.js';

let api: ServiceTestContext<TaskApiUnderTest>;

beforeAll(async () => {
  // 300 ms per call, 2 attempts, open after 3 failures for 500 ms: the defaults but a shorter deadline.
  api = await startTaskApi({ env: { ID_SERVICE_TIMEOUT_MS: '300' } });
});
afterAll(() => api?.close());

const timed = async <T>(work: () => Promise<T>): Promise<{ ms: number; value: T }> => {
  const t0 = performance.now();
  const value = await work();
  return { ms: performance.now() - t0, value };
};
const generated = (client: ApiClient) => timed(() => client.request<Task>('POST', '/tasks', { json: { title: 'generated' } }));
const circuit = async () => {
  const h = (await fetch(`${api.url}/health`).then((r) => r.json())) as HealthResponse;
  return (h.extra?.['id_service'] as { circuit?: string } | undefined)?.circuit ?? JSON.stringify(h);
};
const registry = async (project: string) => {
  const { rows } = await sql<{ n: string }>`select last_assigned_id::text as n from id_registry where project_id = ${project} and sequence_type = 'TASK'`.execute(api.db);
  return Number(rows[0]?.n ?? 0);
};

describe('task ids from the ID service', () => {
  it('gives 200 concurrent creates 200 distinct ids, every one issued by the ID service, in blocks of 32 or more', async () => {
    const alpha = await api.project('blocks');
    const answers = await Promise.all(Array.from({ length: 200 }, () => alpha.request<Task>('POST', '/tasks', { json: { title: 'burst' } })));
    expect(answers.map((a) => a.status)).toEqual(Array(200).fill(201));
    const ids = answers.map((a) => (a.body as Task).task_id);
    expect(new Set(ids).size).toBe(200);
    const numbers = ids.map((id) => Number(id.slice('TASK-'.length))).sort((a, b) => a - b);
    const issued = await registry('blocks');
    // Every id was issued (≤ the registry's last number), in blocks of at least 32.
    expect(numbers.at(-1)).toBeLessThanOrEqual(issued);
    const { rows: blocks } = await sql<{ n: string; smallest: string }>`
      select count(*)::text as n, min(last_id - first_id + 1)::text as smallest from id_reservations where project_id = 'blocks' and sequence_type = 'TASK'`.execute(api.db);
    expect(Number(blocks[0]?.smallest)).toBeGreaterThanOrEqual(32);
    // A crowd grows the blocks (twice what it took during one round trip), so it needs no more
    // reservations than fixed blocks of 32 would; refilled ahead of need, but not wildly.
    expect(Number(blocks[0]?.n)).toBeLessThanOrEqual(Math.ceil(200 / 32) + 1);
    expect(issued).toBeLessThanOrEqual(3 * 200);
    // In the database as answered, once each.
    const { rows } = await sql<{ n: string }>`select count(distinct task_id)::text as n from tasks where project_id = 'blocks'`.execute(api.db);
    expect(Number(rows[0]?.n)).toBe(200);
  });

  it('costs one reservation per block, not one per create: 64 sequential creates make 2 keyed reservations (3 with the one ahead of need)', async () => {
    const seq = await api.project('per-block');
    for (let i = 0; i < 64; i++) expect((await seq.request('POST', '/tasks', { json: { title: `t${i}` } })).status).toBe(201);
    const { rows } = await sql<{ n: string; keys: string }>`
      select count(*)::text as n, count(distinct idempotency_key)::text as keys from id_reservations where project_id = 'per-block' and sequence_type = 'TASK'`.execute(api.db);
    expect(Number(rows[0]?.n)).toBeGreaterThanOrEqual(2);
    expect(Number(rows[0]?.n)).toBeLessThanOrEqual(3);
    // Each reservation under a key of its own: a retry would have replayed, not added a row.
    expect(rows[0]?.keys).toBe(rows[0]?.n);
  });

  it('opens the breaker on a frozen ID service (fast 503 dependency_unavailable with Retry-After), half-opens, and closes when it is back', async () => {
    const beta = await api.project('breaker');
    const ids = api.service.idService;
    expect(await circuit()).toBe('closed');
    process.kill(ids.pid, 'SIGSTOP');
    try {
      // A fresh project has no block yet: the first create must ask, and waits out 2 × 300 ms.
      const first = await generated(beta);
      expect(first.value.status).toBe(503);
      expect(envelope(first.value).code).toBe('dependency_unavailable');
      expect(first.value.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(first.ms).toBeLessThan(1500);
      // The third failed call opens it; from then on refusals cost no call at all.
      const second = await generated(beta);
      expect(second.value.status).toBe(503);
      expect(await circuit()).toBe('open');
      const open = await generated(beta);
      expect(open.value.status).toBe(503);
      expect(envelope(open.value)).toMatchObject({ code: 'dependency_unavailable', details: { dependency: 'id-service', circuit: 'open' } });
      expect(open.ms).toBeLessThan(100);
      // Isolation: reads and creates with the client's own id never needed the ID service.
      const given = await beta.request('POST', '/tasks', { json: { task_id: 'own-1', title: 'mine' } });
      expect(given.status).toBe(201);
      expect((await beta.request('GET', '/tasks?limit=5')).status).toBe(200);
      await new Promise((r) => setTimeout(r, 600));
      expect(await circuit()).toBe('half-open');
    } finally {
      process.kill(ids.pid, 'SIGCONT');
    }
    // The next create sends the probe (and is refused at once, not made to wait on it); the
    // probe reaches the ID service, succeeds and closes the breaker; creates work again.
    const probing = await generated(beta);
    expect(probing.ms).toBeLessThan(100);
    const returned = performance.now();
    let back = probing.value;
    while (back.status !== 201 && performance.now() - returned < 2000) {
      await new Promise((r) => setTimeout(r, 50));
      back = (await generated(beta)).value;
    }
    expect(back.status, JSON.stringify(back.body)).toBe(201);
    expect(await circuit()).toBe('closed');
  });

  it('refuses fast while the ID service is stopped, and creates again within 2 s of its restart', async () => {
    const gamma = await api.project('restart');
    await api.service.idService.stop();
    const refusals: Answer[] = [];
    for (let i = 0; i < 5; i++) refusals.push((await generated(gamma)).value);
    expect(refusals.map((r) => r.status)).toEqual(Array(5).fill(503));
    expect(await circuit()).toBe('open');
    await api.service.restartIdService();
    const returned = performance.now();
    let created: Answer | undefined;
    while (performance.now() - returned < 2000) {
      const r = (await generated(gamma)).value;
      if (r.status === 201) {
        created = r;
        break;
      }
      await new Promise((res) => setTimeout(res, 50));
    }
    expect(created?.status).toBe(201);
    expect(performance.now() - returned).toBeLessThan(2000);
    expect(await circuit()).toBe('closed');
  });
});
