// What TaskRefs remembers of the ID service's answers, on a clock the test moves. The ID
// service is a recording stand-in here (the real one is in tasks/task.refs.test.ts): the unit
// under test is the cache, whose behaviour is about time and call counts.
import type { IdState, Task } from '@crucible/contracts';
import { ServiceError } from '@crucible/service-kit';
import { describe, expect, it } from 'vitest';
import type { IdClient } from './id.client.js';
import { TaskRefs } from './id.refs.js';

function setup(states: Record<string, IdState>, options: { maxEntries?: number } = {}) {
  const calls: string[][] = [];
  let down = false;
  const client = {
    async lookup(_auth: string, ids: readonly string[]) {
      calls.push([...ids]);
      if (down) throw new ServiceError('dependency_unavailable', 'down');
      return new Map(ids.map((id) => [id, states[id] ?? 'unknown']));
    },
  } as unknown as IdClient;
  const clock = { now: 0 };
  const refs = new TaskRefs(client, { liveTtlMs: 2000, maxEntries: options.maxEntries ?? 100, now: () => clock.now });
  return { refs, calls, clock, setDown: (d: boolean) => (down = d) };
}
const task = (...ids: string[]) => ({ refs: ids.map((id) => ({ id, stale: null })) }) as unknown as Task;

describe('TaskRefs', () => {
  it('asks once per id for the write check: an issued answer is kept for good', async () => {
    const { refs, calls, clock } = setup({ 'US-001': 'issued', 'US-002': 'retired' });
    await refs.validate('alpha', 'Bearer k', ['US-001', 'US-002']);
    clock.now = 3_600_000;
    await refs.validate('alpha', 'Bearer k', ['US-002', 'US-001']);
    expect(calls).toEqual([['US-001', 'US-002']]);
    // Kept per project: alpha's answer is never beta's, so beta's check asks for itself.
    await refs.validate('beta', 'Bearer b', ['US-001']);
    expect(calls).toEqual([['US-001', 'US-002'], ['US-001']]);
  });

  it('names every unknown ref by its position, and caches no unknown answer', async () => {
    const { refs, calls } = setup({ 'US-001': 'issued' });
    const err = await refs.validate('alpha', 'Bearer k', ['US-001', 'EPIC-009', 'BUG-004']).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ref_not_issued', details: [{ path: 'body.refs.1' }, { path: 'body.refs.2' }] });
    expect((err as Error).message).toBe('body.refs: EPIC-009, BUG-004 were never issued to project alpha');
    await refs.validate('alpha', 'Bearer k', ['US-001']).catch(() => undefined);
    await refs.validate('alpha', 'Bearer k', ['EPIC-009']).catch(() => undefined);
    expect(calls).toEqual([['US-001', 'EPIC-009', 'BUG-004'], ['EPIC-009']]);
  });

  it('trusts "live" for liveTtlMs on read, "retired" for good, and answers null when the ID service is down', async () => {
    const states: Record<string, IdState> = { 'US-001': 'issued', 'US-002': 'issued' };
    const { refs, calls, clock, setDown } = setup(states);
    expect((await refs.mark('alpha', 'k', [task('US-001', 'US-002')]))[0]?.refs).toEqual([
      { id: 'US-001', stale: false },
      { id: 'US-002', stale: false },
    ]);
    states['US-002'] = 'retired';
    clock.now = 1999;
    expect((await refs.mark('alpha', 'k', [task('US-002')]))[0]?.refs).toEqual([{ id: 'US-002', stale: false }]);
    expect(calls).toHaveLength(1);
    clock.now = 2000;
    expect((await refs.mark('alpha', 'k', [task('US-002')]))[0]?.refs).toEqual([{ id: 'US-002', stale: true }]);
    setDown(true);
    clock.now = 10_000;
    // Retired is final: no call. US-001's live answer is too old: asked, no answer, null.
    expect((await refs.mark('alpha', 'k', [task('US-002', 'US-001')]))[0]?.refs).toEqual([
      { id: 'US-002', stale: true },
      { id: 'US-001', stale: null },
    ]);
    expect(calls.at(-1)).toEqual(['US-001']);
  });

  it('keeps at most maxEntries answers, dropping the oldest', async () => {
    const { refs, calls } = setup({ 'US-001': 'issued', 'US-002': 'issued', 'US-003': 'issued' }, { maxEntries: 2 });
    await refs.validate('alpha', 'k', ['US-001']);
    await refs.validate('alpha', 'k', ['US-002', 'US-003']);
    await refs.validate('alpha', 'k', ['US-003', 'US-002']);
    await refs.validate('alpha', 'k', ['US-001']);
    expect(calls).toEqual([['US-001'], ['US-002', 'US-003'], ['US-001']]);
  });

  it('shares the calls of concurrent checks of one project: 200 creates with new refs make 2 lookups (the first, then one for everyone who came meanwhile)', async () => {
    const states: Record<string, IdState> = {};
    for (let n = 1; n <= 400; n++) states[`US-${String(n).padStart(3, '0')}`] = 'issued';
    const { refs, calls } = setup(states, { maxEntries: 1000 });
    await Promise.all(Array.from({ length: 200 }, (_, k) => refs.validate('alpha', 'k', [`US-${String(2 * k + 1).padStart(3, '0')}`, `US-${String(2 * k + 2).padStart(3, '0')}`])));
    // 2 ids, then the other 398 in one round of 100-id calls.
    expect(calls.map((c) => c.length)).toEqual([2, 100, 100, 100, 98]);
    // A failed round fails everyone in it, and the next round asks again.
    const down = setup({ 'US-001': 'issued' });
    down.setDown(true);
    const failed = await Promise.allSettled(Array.from({ length: 5 }, () => down.refs.validate('alpha', 'k', ['US-001'])));
    expect(failed.map((f) => f.status)).toEqual(Array(5).fill('rejected'));
    expect(down.calls).toHaveLength(2);
  });
});
