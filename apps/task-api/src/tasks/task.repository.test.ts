import { explainAnalyze } from '@crucible/db';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send, testAdminToken, type ServiceTestContext } from '@crucible/testbed/testing';
import { claimNextTaskQuery, findNextTask, insertTask, listTasksQuery, nextTaskQuery } from './task.repository.js';
import { startTaskApi } from '../../tests/with-id-service.js';

// Plans are asserted on the exact query builders the routes run, on 1,000 tasks in each of
// five projects with fresh statistics.
let api: ServiceTestContext;
const projects = ['p1', 'p2', 'p3', 'p4', 'p5'];

beforeAll(async () => {
  api = await startTaskApi();
  await sql`insert into projects (id) select unnest(${projects}::text[])`.execute(api.db);
  await sql`
    insert into tasks (project_id, task_id, title, status, priority, created_at)
    select p, 'TASK-' || lpad(i::text, 4, '0'), 'task ' || i,
           (array['pending', 'pending', 'in_progress', 'done', 'cancelled'])[1 + i % 5],
           (i * 7919) % 100,
           timestamptz '2026-01-01' + i * interval '1 second'
    from unnest(${projects}::text[]) as p, generate_series(1, 1000) as i`.execute(api.db);
  await sql`analyze tasks`.execute(api.db);
});
afterAll(() => api?.close());

const usesIndex = (plan: string, index: string) => new RegExp(`Index (Only )?Scan( Backward)? using ${index} on tasks`).test(plan);

describe('query plans on 1,000 tasks × 5 projects', () => {
  it('GET /tasks/next reads tasks_queue_idx, never a Seq Scan', async () => {
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from tasks`.execute(api.db);
    expect(rows[0]?.n).toBe(5000);
    for (const status of ['pending', 'done'] as const) {
      const plan = await explainAnalyze(api.db, nextTaskQuery(api.db, { projectId: 'p3' }, status));
      expect(usesIndex(plan, 'tasks_queue_idx'), plan).toBe(true);
      expect(plan).not.toContain('Seq Scan');
      expect(plan).not.toMatch(/\bSort\b/); // the index already yields queue order
    }
  });

  it('the claim finds its row through tasks_queue_idx and updates it by primary key', async () => {
    // EXPLAIN ANALYZE runs the UPDATE: do it in a transaction that is rolled back.
    let plan = '';
    await api.db
      .transaction()
      .execute(async (trx) => {
        plan = await explainAnalyze(trx, claimNextTaskQuery(trx, { projectId: 'p2' }, 'explainer'));
        throw new Error('rollback');
      })
      .catch((err: Error) => {
        if (err.message !== 'rollback') throw err;
      });
    expect(usesIndex(plan, 'tasks_queue_idx'), plan).toBe(true);
    expect(usesIndex(plan, 'tasks_pkey'), plan).toBe(true);
    expect(plan).toContain('LockRows');
    expect(plan).not.toContain('Seq Scan');
    expect(plan).not.toMatch(/\bSort\b/);
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from tasks where claimed_by = 'explainer'`.execute(api.db);
    expect(rows[0]?.n).toBe(0);
  });

  it('a GET /tasks page after a cursor reads tasks_list_idx', async () => {
    const plan = await explainAnalyze(
      api.db,
      listTasksQuery(api.db, { projectId: 'p4' }, { limit: 100, after: ['2026-01-01T00:08:20.000000Z', 'TASK-0500'] }),
    );
    expect(usesIndex(plan, 'tasks_list_idx'), plan).toBe(true);
    expect(plan).not.toContain('Seq Scan');
    expect(plan).not.toMatch(/\bSort\b/); // keyset order straight from the index
  });

  it('GET /admin/explain answers the same plans for reports, admin only, changing nothing', async () => {
    const denied = await send(api.url, 'GET', '/admin/explain?project=p1');
    expect(denied.status).toBe(401);
    const bad = await send(api.url, 'GET', '/admin/explain?project=Not-A-Project', { headers: { authorization: `Bearer ${testAdminToken}` } });
    expect(bad.status).toBe(400);
    const res = await send<{ project: string; plans: { title: string; plan: string }[] }>(api.url, 'GET', '/admin/explain?project=p1', {
      headers: { authorization: `Bearer ${testAdminToken}` },
    });
    expect(res.status).toBe(200);
    expect(res.body.plans.map((p) => p.title)).toEqual(['GET /tasks/next', 'GET /tasks (first page of 50)', 'POST /tasks/claim (rolled back)', 'POST /tasks insert (rolled back)']);
    const [next, list, claim, insert] = res.body.plans.map((p) => p.plan);
    expect(usesIndex(next ?? '', 'tasks_queue_idx'), next).toBe(true);
    expect(usesIndex(list ?? '', 'tasks_list_idx'), list).toBe(true);
    expect(claim).toContain('LockRows');
    expect(insert).toContain('Insert on tasks');
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from tasks where claimed_by = 'explain' or task_id = 'explain-insert'`.execute(api.db);
    expect(rows[0]?.n).toBe(0);
  });

  it('GET /admin/hot-queries answers the SQL and parameters the routes send, admin only; the prepared next and insert run exactly that SQL', async () => {
    expect((await send(api.url, 'GET', '/admin/hot-queries?project=p1')).status).toBe(401);
    const res = await send<{ queries: { title: string; sql: string; parameters: unknown[] }[] }>(api.url, 'GET', '/admin/hot-queries?project=p1', {
      headers: { authorization: `Bearer ${testAdminToken}` },
    });
    expect(res.status).toBe(200);
    const next = res.body.queries.find((q) => q.title === 'GET /tasks/next');
    expect(next?.sql).toBe(nextTaskQuery(api.db, { projectId: 'p1' }, 'pending').compile().sql);
    expect(next?.parameters).toEqual(['p1', 'pending', 1]);
    const insert = res.body.queries.find((q) => q.title === 'POST /tasks insert (rolled back)');
    expect(insert?.parameters).toEqual(['p1', 'explain-insert', 'explain', 'pending', 0, null, []]);
    // The prepared statements answer as the builders do, in both insert shapes.
    const row = await findNextTask(api.db, { projectId: 'p1' }, 'pending');
    const direct = await nextTaskQuery(api.db, { projectId: 'p1' }, 'pending').executeTakeFirst();
    expect(row?.task_id).toBe(direct?.task_id);
    const made = await insertTask(api.db, { projectId: 'p2' }, { taskId: 'prepared-1', title: 'prepared', status: 'done', priority: 7, payload: { a: 1 }, refs: ['US-001'], idempotencyKey: 'prep-key' });
    const plain = await insertTask(api.db, { projectId: 'p3' }, { taskId: 'prepared-2', title: 'plain', status: 'pending', priority: 2, payload: undefined, refs: [] });
    expect(made).toMatchObject({ project_id: 'p2', task_id: 'prepared-1', title: 'prepared', status: 'done', priority: 7, payload: { a: 1 }, refs: ['US-001'], idempotency_key: 'prep-key' });
    expect(plain).toMatchObject({ project_id: 'p3', task_id: 'prepared-2', title: 'plain', status: 'pending', priority: 2, payload: null, refs: [], idempotency_key: null });
    // A second create under the same key writes nothing (the keyed shape's ON CONFLICT).
    expect(await insertTask(api.db, { projectId: 'p2' }, { taskId: 'prepared-3', title: 'prepared', status: 'done', priority: 7, payload: { a: 1 }, refs: ['US-001'], idempotencyKey: 'prep-key' })).toBeUndefined();
    await sql`delete from tasks where task_id like 'prepared-%'`.execute(api.db);
  });
});
