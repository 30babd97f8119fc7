// Entity references between the two real services: refs validated per project by the real
// ID service (another project's issued id and a never-issued one are 422s naming them), stale
// refs marked after POST /ids/retire, and reads that still answer when the ID service is frozen.
import { taskSchema, type HealthResponse, type ListTasksResponse, type Task } from '@crucible/contracts';
import { clientFor, envelope, type ApiClient, type ServiceTestContext } from '@crucible/testbed/testing';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTaskApi, type TaskApiUnderTest } from '../../tests/with-id-service.js';

let api: ServiceTestContext<TaskApiUnderTest>;
let alpha: ApiClient;
let beta: ApiClient;

beforeAll(async () => {
  // Live answers are not cached (every read asks), so a retirement shows at once; 300 ms per call.
  api = await startTaskApi({ env: { REF_STATE_CACHE_MS: '0', ID_SERVICE_TIMEOUT_MS: '300' } });
  alpha = await api.project('refs-alpha');
  beta = await api.project('refs-beta');
  // alpha is issued US-001..010 and EPIC-001..003; beta only US-001..002 and BUG-001..005.
  for (const [client, type, count] of [[alpha, 'US', 10], [alpha, 'EPIC', 3], [beta, 'US', 2], [beta, 'BUG', 5]] as const) {
    const res = await ids(client).request('POST', '/ids/reserve', { json: { type, count } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  }
});
afterAll(() => api?.close());

/** The same project's key, spoken straight to the ID service. */
const ids = (client: ApiClient) => clientFor(api.service.idService.url, client.key);
const stored = async (project: string, taskId: string) => {
  const { rows } = await sql<{ refs: string[] }>`select refs from tasks where project_id = ${project} and task_id = ${taskId}`.execute(api.db);
  return rows[0]?.refs;
};
const circuit = async () => {
  const h = (await fetch(`${api.url}/health`).then((r) => r.json())) as HealthResponse;
  return (h.extra?.['id_service'] as { circuit?: string } | undefined)?.circuit;
};
const taskCount = async (project: string) => {
  const { rows } = await sql<{ n: string }>`select count(*)::text as n from tasks where project_id = ${project}`.execute(api.db);
  return Number(rows[0]?.n);
};

describe('refs validated per project', () => {
  it('stores issued refs in the order given and answers them live', async () => {
    const res = await alpha.request<Task>('POST', '/tasks', { json: { task_id: 'r-1', title: 'with refs', refs: ['US-010', 'EPIC-003', 'US-001'] } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(taskSchema.parse(res.body).refs).toEqual([
      { id: 'US-010', stale: false },
      { id: 'EPIC-003', stale: false },
      { id: 'US-001', stale: false },
    ]);
    expect(await stored('refs-alpha', 'r-1')).toEqual(['US-010', 'EPIC-003', 'US-001']);
    const plain = await alpha.request<Task>('POST', '/tasks', { json: { title: 'no refs' } });
    expect(plain.body.refs).toEqual([]);
  });

  it("refuses another project's issued id with 422 ref_not_issued naming it, and stores nothing", async () => {
    const before = await taskCount('refs-alpha');
    // BUG-003 was issued, to beta; alpha has no BUG sequence at all.
    const res = await alpha.request('POST', '/tasks', { json: { title: 'foreign', refs: ['US-002', 'BUG-003'] } });
    expect(res.status).toBe(422);
    expect(envelope(res)).toMatchObject({ code: 'ref_not_issued', details: [{ path: 'body.refs.1', message: 'BUG-003 was never issued to project refs-alpha' }] });
    expect(envelope(res).message).toContain('BUG-003');
    expect(envelope(res).message).not.toContain('US-002');
    // beta's US-005 does not exist (beta's US stops at 002) though alpha's does.
    const other = await beta.request('PATCH', '/tasks/none', { json: { refs: ['US-005'] } });
    expect(other.status).toBe(422);
    expect(envelope(other).message).toContain('US-005');
    expect(await taskCount('refs-alpha')).toBe(before);
    // A refused create takes no generated number: the next one follows the last one used.
    const next = await alpha.request<Task>('POST', '/tasks', { json: { title: 'after the refusal' } });
    expect(next.body.task_id).toBe('TASK-002');
  });

  it('refuses never-issued ids (beyond the sequence, or of a type never issued) with 422 naming each', async () => {
    const res = await alpha.request('POST', '/tasks', { json: { title: 'unissued', refs: ['US-011', 'EPIC-001', 'STORY-001'] } });
    expect(res.status).toBe(422);
    expect(envelope(res).details).toEqual([
      { path: 'body.refs.0', message: 'US-011 was never issued to project refs-alpha' },
      { path: 'body.refs.2', message: 'STORY-001 was never issued to project refs-alpha' },
    ]);
  });

  it('refuses a bad shape with 400 naming body.refs, before asking anyone', async () => {
    const bad = [{ refs: 'US-001' }, { refs: ['US-1'] }, { refs: ['US-0001'] }, { refs: ['US-001', 'US-001'] }, { refs: Array.from({ length: 21 }, (_, i) => `US-${String(i + 1).padStart(3, '0')}`) }, { refs: [7] }];
    for (const body of bad) {
      const res = await alpha.request('POST', '/tasks', { json: { title: 'bad', ...body } });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(envelope(res).message).toContain('body.refs');
    }
    expect((await alpha.request('PATCH', '/tasks/r-1', { json: { refs: ['nope'] } })).status).toBe(400);
  });

  it('replaces refs on PATCH, checked the same way', async () => {
    const ok = await alpha.request<Task>('PATCH', '/tasks/r-1', { json: { refs: ['EPIC-001'] } });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(ok.body.refs).toEqual([{ id: 'EPIC-001', stale: false }]);
    const foreign = await alpha.request('PATCH', '/tasks/r-1', { json: { refs: ['BUG-001'] } });
    expect(foreign.status).toBe(422);
    expect(await stored('refs-alpha', 'r-1')).toEqual(['EPIC-001']);
    expect((await alpha.request<Task>('PATCH', '/tasks/r-1', { json: { refs: [] } })).body.refs).toEqual([]);
  });
});

describe('stale refs', () => {
  it('marks a ref stale once the ID service retired it, on every read, never as an error', async () => {
    const made = await alpha.request<Task>('POST', '/tasks', { json: { task_id: 'r-stale', title: 'refs to retire', refs: ['US-003', 'US-004'] } });
    expect(made.status).toBe(201);
    const retired = await ids(alpha).request('POST', '/ids/retire', { json: { id: 'US-003' } });
    expect(retired.status, JSON.stringify(retired.body)).toBe(200);
    const read = await alpha.request<Task>('GET', '/tasks/r-stale');
    expect(read.status).toBe(200);
    expect(read.body.refs).toEqual([
      { id: 'US-003', stale: true },
      { id: 'US-004', stale: false },
    ]);
    const page = await alpha.request<ListTasksResponse>('GET', '/tasks?limit=500');
    expect(page.body.items.find((t) => t.task_id === 'r-stale')?.refs).toEqual(read.body.refs);
    // A retired id was issued: a new task may still name it, and it is answered stale.
    const again = await alpha.request<Task>('POST', '/tasks', { json: { title: 'names a retired id', refs: ['US-003'] } });
    expect(again.status).toBe(201);
    expect(again.body.refs).toEqual([{ id: 'US-003', stale: true }]);
  });
});

describe('the ID service frozen while refs need it', () => {
  it('still answers reads (staleness null), accepts refs already known issued, and refuses unchecked ones with a fast 503', async () => {
    await alpha.request('POST', '/tasks', { json: { task_id: 'r-frozen', title: 'frozen', refs: ['US-005'] } });
    const pid = api.service.idService.pid;
    process.kill(pid, 'SIGSTOP');
    try {
      const t0 = performance.now();
      const read = await alpha.request<Task>('GET', '/tasks/r-frozen');
      expect(read.status).toBe(200);
      expect(read.body.refs).toEqual([{ id: 'US-005', stale: null }]);
      // One attempt of 300 ms, not the create's two.
      expect(performance.now() - t0).toBeLessThan(1000);
      // US-005 was answered issued before: an issued id stays issued, no call needed.
      const known = await alpha.request<Task>('POST', '/tasks', { json: { title: 'known refs', refs: ['US-005'] } });
      expect(known.status, JSON.stringify(known.body)).toBe(201);
      // US-006 was never asked about: it must be checked, and cannot be. The waited-out calls
      // (the read's one, then this create's two) open the breaker.
      const unchecked = { json: { task_id: 'r-u', title: 'unchecked', refs: ['US-006'] } };
      const waited = await alpha.request('POST', '/tasks', unchecked);
      expect(waited.status).toBe(503);
      expect(envelope(waited)).toMatchObject({ code: 'dependency_unavailable', details: { circuit: 'closed' } });
      expect(await circuit()).toBe('open');
      // Once the breaker is open the refusal costs no call at all.
      const t1 = performance.now();
      const open = await alpha.request('POST', '/tasks', unchecked);
      expect(performance.now() - t1).toBeLessThan(100);
      expect(open.status).toBe(503);
      expect(envelope(open)).toMatchObject({ code: 'dependency_unavailable', details: { dependency: 'id-service', circuit: 'open' } });
      expect(envelope(open).message).toContain('check refs');
      expect(open.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(await stored('refs-alpha', 'r-u')).toBeUndefined();
      // Tasks without refs never ask: read and created by id as ever.
      expect((await alpha.request('GET', '/tasks/r-1')).status).toBe(200);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    // Back: the probe goes out with the next check, and the ref is accepted once it answers.
    let back = await alpha.request<Task>('POST', '/tasks', { json: { task_id: 'r-u', title: 'unchecked', refs: ['US-006'] } });
    for (let i = 0; i < 40 && back.status !== 201; i++) {
      await new Promise((r) => setTimeout(r, 50));
      back = await alpha.request<Task>('POST', '/tasks', { json: { task_id: 'r-u', title: 'unchecked', refs: ['US-006'] } });
    }
    expect(back.status, JSON.stringify(back.body)).toBe(201);
    expect((await alpha.request<Task>('GET', '/tasks/r-frozen')).body.refs).toEqual([{ id: 'US-005', stale: false }]);
  });
});
