// Blocks of task ids that grow with demand, on the real task API, ID service and PostgreSQL:
// 40 creates at a time with ID_BLOCK_SIZE=4 reserve far fewer than one block of 4 per 4
// creates (fixed blocks capped a project's creates at 4 per ID-service round trip), every
// acknowledged task is stored once under its own id, and no id is issued twice.
import { type Task } from '@crucible/contracts';
import { type ApiClient, type ServiceTestContext } from '@crucible/testbed/testing';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTaskApi, type TaskApiUnderTest } from '../../tests/with-id-service.js';

let api: ServiceTestContext<TaskApiUnderTest>;
let alpha: ApiClient;

beforeAll(async () => {
  api = await startTaskApi({ env: { ID_BLOCK_SIZE: '4', ID_BLOCK_MAX: '256' } });
  alpha = await api.project('blocks-alpha');
});
afterAll(() => api?.close());

describe('generated task ids in blocks that grow with demand', () => {
  it('400 creates, 40 at a time, reserve in fewer calls than fixed blocks of 4, each id once', async () => {
    const ids: string[] = [];
    for (let round = 0; round < 10; round++) {
      const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => alpha.request<Task>('POST', '/tasks', { json: { title: `burst ${round}-${i}` } })));
      for (const a of answers) {
        expect(a.status, JSON.stringify(a.body)).toBe(201);
        ids.push(a.body.task_id);
      }
    }
    expect(new Set(ids).size).toBe(400);
    const { rows: stored } = await sql<{ n: string }>`select count(distinct task_id)::text as n from tasks where project_id = 'blocks-alpha' and task_id = any(${ids})`.execute(api.db);
    expect(Number(stored[0]?.n)).toBe(400);
    const { rows: calls } = await sql<{ n: string; issued: string; biggest: string }>`
      select count(*)::text as n, coalesce(sum(last_id - first_id + 1), 0)::text as issued, coalesce(max(last_id - first_id + 1), 0)::text as biggest
      from id_reservations where project_id = 'blocks-alpha' and sequence_type = 'TASK'`.execute(api.db);
    const { n, issued, biggest } = calls[0] ?? { n: '0', issued: '0', biggest: '0' };
    // Fixed blocks of 4 take 100 reservations for 400 creates; grown blocks, a fraction of that.
    expect(Number(n)).toBeLessThan(50);
    expect(Number(biggest)).toBeGreaterThan(4);
    expect(Number(biggest)).toBeLessThanOrEqual(256);
    // Every issued number is used or still held by this process: at most one grown block ahead.
    expect(Number(issued)).toBeGreaterThanOrEqual(400);
    expect(Number(issued) - 400).toBeLessThanOrEqual(2 * 256);
  });
});
