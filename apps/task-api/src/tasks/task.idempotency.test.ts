// POST /tasks with an Idempotency-Key, on the real task API, ID service and PostgreSQL: a retry
// gets the task its first attempt made (generated id or the client's own), never a second
// one, also when 20 copies race; a different request under a used key is refused; keys are
// per project; a malformed key is a 400 naming the header.
import { taskSchema, type Task } from '@crucible/contracts';
import { type ApiClient, type ServiceTestContext } from '@crucible/testbed/testing';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTaskApi, type TaskApiUnderTest } from '../../tests/with-id-service.js';

let api: ServiceTestContext<TaskApiUnderTest>;
let alpha: ApiClient;
let beta: ApiClient;

beforeAll(async () => {
  api = await startTaskApi();
  alpha = await api.project('idem-alpha');
  beta = await api.project('idem-beta');
});
afterAll(() => api?.close());

const keyed = (client: ApiClient, key: string, json: unknown) => client.request<Task>('POST', '/tasks', { json, headers: { 'idempotency-key': key } });
const countWithTitle = async (project: string, title: string) => {
  const { rows } = await sql<{ n: string }>`select count(*)::text as n from tasks where project_id = ${project} and title = ${title}`.execute(api.db);
  return Number(rows[0]?.n);
};

describe('POST /tasks with Idempotency-Key', () => {
  it('a retry gets the same generated task, marked replayed, and burns no number', async () => {
    const first = await keyed(alpha, 'k-gen-1', { title: 'retried create', priority: 3 });
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const again = await keyed(alpha, 'k-gen-1', { title: 'retried create', priority: 3 });
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(taskSchema.parse(again.body)).toEqual(taskSchema.parse(first.body));
    expect(await countWithTitle('idem-alpha', 'retried create')).toBe(1);
    // The next create takes the next number: the replay took none.
    const next = await alpha.request<Task>('POST', '/tasks', { json: { title: 'after the replay' } });
    const n = (id: string) => Number(id.split('-')[1]);
    expect(n(next.body.task_id)).toBe(n(first.body.task_id) + 1);
  });

  it('20 concurrent copies of one keyed create make one task, and all 20 answer it', async () => {
    const answers = await Promise.all(Array.from({ length: 20 }, () => keyed(alpha, 'k-race', { title: 'raced create' })));
    expect(answers.map((a) => a.status)).toEqual(new Array(20).fill(201));
    expect(new Set(answers.map((a) => a.body.task_id)).size).toBe(1);
    expect(answers.filter((a) => a.headers.get('idempotent-replayed') === null)).toHaveLength(1);
    expect(await countWithTitle('idem-alpha', 'raced create')).toBe(1);
  });

  it("with the client's own id as well; a different request under a used key is a 422 naming the header", async () => {
    expect((await keyed(alpha, 'k-own', { task_id: 'own-1', title: 'own id' })).status).toBe(201);
    const replay = await keyed(alpha, 'k-own', { task_id: 'own-1', title: 'own id' });
    expect(replay.status).toBe(201);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    const other = await keyed(alpha, 'k-own', { title: 'another task' });
    expect(other.status).toBe(422);
    expect(other.body).toMatchObject({ error: { code: 'idempotency_conflict', details: [{ path: 'header.idempotency-key' }] } });
    expect(JSON.stringify(other.body)).toContain('own-1');
    expect(await countWithTitle('idem-alpha', 'another task')).toBe(0);
  });

  it('keys are per project, and a malformed key is a 400 naming the header that changes nothing', async () => {
    const a = await keyed(alpha, 'k-shared', { title: 'alpha keyed' });
    const b = await keyed(beta, 'k-shared', { title: 'beta keyed' });
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(b.headers.get('idempotent-replayed')).toBeNull();
    expect(b.body.project_id).toBe('idem-beta');
    const bad = await keyed(alpha, 'bad key with spaces', { title: 'never stored' });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('header.idempotency-key');
    expect(await countWithTitle('idem-alpha', 'never stored')).toBe(0);
  });
});
