import { listTasksResponseSchema, taskSchema, type ListTasksResponse, type Task } from '@crucible/contracts';
import { rowsPerProject } from '@crucible/db';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envelope, type ApiClient, type ServiceTestContext } from '@crucible/testbed/testing';
import { startTaskApi } from '../../tests/with-id-service.js';

let api: ServiceTestContext;
let alpha: ApiClient;
let beta: ApiClient;

beforeAll(async () => {
  api = await startTaskApi();
  alpha = await api.project('alpha');
  beta = await api.project('beta');
});
afterAll(() => api?.close());

const create = async (client: ApiClient, body: Record<string, unknown>) => {
  const res = await client.request<Task>('POST', '/tasks', { json: body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return taskSchema.parse(res.body);
};

describe('creating and reading tasks', () => {
  it('generates TASK-001… per project, so two projects have their own TASK-001', async () => {
    const a1 = await create(alpha, { title: 'write the spec' });
    const a2 = await create(alpha, { title: 'review the spec', priority: 5, payload: { points: 3 } });
    const b1 = await create(beta, { title: 'beta work' });
    expect([a1.task_id, a2.task_id, b1.task_id]).toEqual(['TASK-001', 'TASK-002', 'TASK-001']);
    expect(a1).toMatchObject({ project_id: 'alpha', status: 'pending', priority: 0, payload: null, claimed_by: null, version: 1 });
    expect(a2.payload).toEqual({ points: 3 });
    expect(b1.project_id).toBe('beta');

    const read = await alpha.request<Task>('GET', '/tasks/TASK-002');
    expect(read.status).toBe(200);
    expect(read.body).toEqual(a2);
    // beta's key cannot read alpha's TASK-002 even though the id is well formed.
    const cross = await beta.request('GET', '/tasks/TASK-002');
    expect(cross.status).toBe(404);
    expect(envelope(cross).code).toBe('task_not_found');
  });

  it('answers 409 task_exists for an explicit id the project already has, and skips it when generating', async () => {
    await create(alpha, { task_id: 'TASK-003', title: 'taken by hand' });
    const dup = await alpha.request('POST', '/tasks', { json: { task_id: 'TASK-003', title: 'again' } });
    expect(dup.status).toBe(409);
    expect(envelope(dup).code).toBe('task_exists');
    expect(envelope(dup).message).toContain('TASK-003');
    // The same id in another project is fine.
    await create(beta, { task_id: 'TASK-003', title: 'beta has its own' });
    // The sequence steps over the hand-made TASK-003.
    const next = await create(alpha, { title: 'generated after a hand-made id' });
    expect(next.task_id).toBe('TASK-004');
    const { rows } = await sql<{ title: string }>`select title from tasks where project_id = 'alpha' and task_id = 'TASK-003'`.execute(api.db);
    expect(rows).toEqual([{ title: 'taken by hand' }]);
  });

  it('refuses a payload nested 100,000 deep with a 400 naming it, and stores a 64-deep one', async () => {
    const deep = `{"title":"deep","payload":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
    const res = await alpha.request('POST', '/tasks', { body: deep, headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(400);
    expect(envelope(res).message).toContain('body.payload');
    const ok = await alpha.request<Task>('POST', '/tasks', { json: { task_id: 'deep-ok', title: 'deep', payload: JSON.parse(`${'['.repeat(64)}${']'.repeat(64)}`) } });
    expect(ok.status).toBe(201);
    expect(JSON.stringify(ok.body.payload)).toBe(`${'['.repeat(64)}${']'.repeat(64)}`);
    expect((await alpha.request('DELETE', '/tasks/deep-ok')).status).toBe(204);
  });

  it('hands out distinct generated ids to concurrent creators', async () => {
    const gamma = await api.project('gamma');
    const made = await Promise.all(Array.from({ length: 40 }, (_, i) => create(gamma, { title: `parallel ${i}` })));
    const ids = made.map((t) => t.task_id).sort();
    expect(new Set(ids).size).toBe(40);
    expect(ids[0]).toBe('TASK-001');
    expect(ids.at(-1)).toBe('TASK-040');
  });

  it('updates with optimistic concurrency and deletes', async () => {
    const t = await create(alpha, { task_id: 'occ-1', title: 'occ' });
    const first = await alpha.request<Task>('PATCH', '/tasks/occ-1', { json: { title: 'renamed', expected_version: 1 } });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ title: 'renamed', version: 2 });
    expect(Date.parse(first.body.updated_at)).toBeGreaterThanOrEqual(Date.parse(t.updated_at));

    const stale = await alpha.request('PATCH', '/tasks/occ-1', { json: { status: 'done', expected_version: 1 } });
    expect(stale.status).toBe(409);
    expect(envelope(stale)).toMatchObject({ code: 'version_conflict', details: { expected_version: 1, current_version: 2 } });

    // Two writers racing on the same version: exactly one wins.
    const race = await Promise.all(
      [10, 20].map((priority) => alpha.request('PATCH', '/tasks/occ-1', { json: { priority, expected_version: 2 } })),
    );
    expect(race.map((r) => r.status).sort()).toEqual([200, 409]);

    const unconditional = await alpha.request<Task>('PATCH', '/tasks/occ-1', { json: { status: 'done' } });
    expect(unconditional.body).toMatchObject({ status: 'done', version: 4 });

    const missing = await alpha.request('PATCH', '/tasks/nope', { json: { status: 'done' } });
    expect(missing.status).toBe(404);
    expect(envelope(missing).code).toBe('task_not_found');

    expect((await beta.request('DELETE', '/tasks/occ-1')).status).toBe(404);
    expect((await alpha.request('DELETE', '/tasks/occ-1')).status).toBe(204);
    expect((await alpha.request('DELETE', '/tasks/occ-1')).status).toBe(404);
    expect((await alpha.request('GET', '/tasks/occ-1')).status).toBe(404);
  });

  it('returns the next task by priority then age without claiming it, and puts a task back with PATCH status=pending', async () => {
    const delta = await api.project('delta');
    const none = await delta.request('GET', '/tasks/next');
    expect(none.status).toBe(404);
    expect(envelope(none).code).toBe('no_task');
    await create(delta, { task_id: 'low-old', title: 'low, old', priority: 1 });
    await create(delta, { task_id: 'high-old', title: 'high, old', priority: 9 });
    await create(delta, { task_id: 'high-new', title: 'high, new', priority: 9 });
    await create(delta, { task_id: 'done-top', title: 'done', priority: 1000, status: 'done' });

    const next = await delta.request<Task>('GET', '/tasks/next');
    expect(next.body.task_id).toBe('high-old');
    expect((await delta.request<Task>('GET', '/tasks/next')).body.task_id).toBe('high-old'); // read only
    expect((await delta.request<Task>('GET', '/tasks/next?status=done')).body.task_id).toBe('done-top');
    const other = await delta.request('GET', '/tasks/next?project=alpha');
    expect(other.status).toBe(404);
    expect(envelope(other).code).toBe('project_not_found');

    const order: string[] = [];
    for (;;) {
      const claim = await delta.request<Task>('POST', '/tasks/claim', { json: { worker: 'w1' } });
      if (claim.status === 404) {
        expect(envelope(claim).code).toBe('no_task');
        break;
      }
      expect(claim.body).toMatchObject({ status: 'in_progress', claimed_by: 'w1', version: 2 });
      order.push(claim.body.task_id);
    }
    expect(order).toEqual(['high-old', 'high-new', 'low-old']);

    const back = await delta.request<Task>('PATCH', '/tasks/high-new', { json: { status: 'pending' } });
    expect(back.body).toMatchObject({ status: 'pending', claimed_by: null });
    expect((await delta.request<Task>('POST', '/tasks/claim', { json: { worker: 'w2' } })).body).toMatchObject({
      task_id: 'high-new',
      claimed_by: 'w2',
    });
  });
});

describe('isolation between projects', () => {
  it('lists exactly a project’s own tasks, gives another project’s query an empty page, never claims across, and the tables agree', async () => {
    const iso = { a: await api.project('iso-alpha'), b: await api.project('iso-beta') };
    for (let i = 0; i < 10; i++) {
      await create(iso.a, { title: `alpha ${i}`, status: 'done' });
      await create(iso.b, { title: `beta ${i}` });
    }
    const own = listTasksResponseSchema.parse((await iso.a.request('GET', '/tasks?limit=500')).body);
    expect(own.items).toHaveLength(10);
    expect(own.items.every((t) => t.project_id === 'iso-alpha')).toBe(true);
    expect(own.items.map((t) => t.title)).toEqual(Array.from({ length: 10 }, (_, i) => `alpha ${i}`));
    expect(own.next_cursor).toBeNull();
    const same = await iso.a.request('GET', '/tasks?project=iso-alpha');
    expect((same.body as ListTasksResponse).items).toHaveLength(10);

    for (const query of ['?project=iso-beta', '?project=iso-beta&status=pending', '?project=iso-beta&limit=500', '?project=nobody']) {
      const theirs = await iso.a.request('GET', `/tasks${query}`);
      expect(theirs.status).toBe(200);
      expect(theirs.body).toEqual({ items: [], next_cursor: null });
    }

    // alpha has nothing pending; beta has 10. alpha's key claims nothing of beta's.
    const claim = await iso.a.request('POST', '/tasks/claim', { json: { worker: 'alpha-worker' } });
    expect(claim.status).toBe(404);
    expect(envelope(claim).code).toBe('no_task');
    expect((await iso.a.request('GET', '/tasks/next')).status).toBe(404);

    const evidence = await rowsPerProject(api.db, ['iso-alpha', 'iso-beta']);
    expect(evidence['tasks']).toEqual({ 'iso-alpha': 10, 'iso-beta': 10 });
    const { rows } = await sql<{ project_id: string; status: string; claimed: number }>`
      select project_id, status, count(claimed_by)::int as claimed from tasks
      where project_id in ('iso-alpha', 'iso-beta') group by 1, 2 order by 1`.execute(api.db);
    expect(rows).toEqual([
      { project_id: 'iso-alpha', status: 'done', claimed: 0 },
      { project_id: 'iso-beta', status: 'pending', claimed: 0 },
    ]);
  });
});

describe('keyset pagination', () => {
  it('walks 1,000 tasks with no row missing or repeated while tasks are inserted', async () => {
    const walker = await api.project('pages');
    // Ten rows share each microsecond, so page boundaries fall inside ties (task_id
    // breaks them) and a millisecond-precision cursor would repeat or skip rows.
    await sql`
      insert into tasks (project_id, task_id, title, priority, created_at)
      select 'pages', 'seed-' || lpad(i::text, 4, '0'), 'seeded ' || i, i % 7,
             timestamptz '2026-01-01 00:00:00Z' + (i / 10) * interval '1 microsecond'
      from generate_series(1, 1000) as i`.execute(api.db);
    const seeded = new Set(Array.from({ length: 1000 }, (_, i) => `seed-${String(i + 1).padStart(4, '0')}`));

    let inserting = true;
    let insertedViaApi = 0;
    let insertedLate = 0;
    const writers = [
      (async () => {
        while (inserting) {
          await create(walker, { title: 'inserted during the walk' });
          insertedViaApi++;
        }
      })(),
      // Rows that commit late with an early created_at land behind or ahead of the cursor.
      (async () => {
        for (let n = 0; inserting; n++) {
          const us = (n * 37) % 101;
          await sql`insert into tasks (project_id, task_id, title, created_at)
                    values ('pages', ${`late-${n}`}, 'late commit', timestamptz '2026-01-01 00:00:00Z' + ${us} * interval '1 microsecond')`.execute(api.db);
          insertedLate++;
        }
      })(),
    ];

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    try {
      do {
        const query = `/tasks?limit=37${cursor ? `&cursor=${cursor}` : ''}`;
        const page = listTasksResponseSchema.parse((await walker.request('GET', query)).body);
        expect(page.items.length).toBeLessThanOrEqual(37);
        seen.push(...page.items.map((t) => t.task_id));
        cursor = page.next_cursor;
        pages++;
        // Give the writers room on a loaded machine: the walk must overlap the inserts.
        if (pages % 5 === 0) await new Promise((r) => setTimeout(r, 5));
      } while (cursor && pages < 200); // a cursor that does not advance must fail, not spin
    } finally {
      inserting = false;
      await Promise.all(writers);
    }

    expect(insertedViaApi + insertedLate).toBeGreaterThan(0);
    expect(new Set(seen).size).toBe(seen.length); // nothing repeated
    const seenSeeded = seen.filter((id) => seeded.has(id));
    expect(seenSeeded).toHaveLength(1000); // nothing missing
    expect(seenSeeded).toEqual([...seeded]); // oldest first, ties by id
    expect(pages).toBeGreaterThanOrEqual(28);
  });

  it('caps a page at 500 and honours status', async () => {
    const page = listTasksResponseSchema.parse((await alpha.request('GET', '/tasks?status=done')).body);
    expect(page.items.every((t) => t.status === 'done')).toBe(true);
    const big = await alpha.request('GET', '/tasks?limit=501');
    expect(big.status).toBe(400);
    expect(envelope(big).message).toContain('query.limit');
  });
});
