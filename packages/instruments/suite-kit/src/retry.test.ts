import { now } from '@crucible/instrument-kit';
import { describe, expect, it } from 'vitest';
import type { HttpCall } from './calls.js';
import { isRetryable, retryPause, withRetries } from './retry.js';

/** Answers in the order given, then the last one for ever. */
function answers(...list: Omit<HttpCall, 'start' | 'end'>[]): () => Promise<HttpCall> {
  let i = 0;
  return async () => {
    const t = now();
    const a = list[Math.min(i++, list.length - 1)] as Omit<HttpCall, 'start' | 'end'>;
    return { start: t, end: t, ...a };
  };
}

const created = { status: 201, ok: true, body: { first: 1, last: 2 } };
const unavailable = { status: 503, ok: false, code: 'database_unavailable', retryAfter: '1' };
const exhausted = { status: 503, ok: false, code: 'pool_exhausted', retryAfter: '1' };
const noAnswer = { ok: false, code: 'UND_ERR_SOCKET' };

describe('retryPause and isRetryable', () => {
  it('backs off from 100 ms, honours Retry-After and never waits more than 1 s', () => {
    expect([0, 1, 2, 3, 4].map((n) => retryPause({ retryAfter: '1' }, n))).toEqual([100, 200, 400, 800, 1000]);
    expect(retryPause({}, 5)).toBe(200);
    expect(retryPause({ retryAfter: '0.3' }, 5)).toBe(300);
    expect(retryPause({ retryAfter: '30' }, 9)).toBe(1000);
  });

  it('repeats only a 503 or a call without an answer', () => {
    expect(isRetryable({ status: 503 })).toBe(true);
    expect(isRetryable({})).toBe(true);
    expect(isRetryable({ status: 500 })).toBe(false);
    expect(isRetryable({ status: 409 })).toBe(false);
  });
});

describe('withRetries', () => {
  it('retries through refusals until an attempt succeeds, recording every attempt', async () => {
    const attempts: HttpCall[] = [];
    const r = await withRetries(answers(unavailable, noAnswer, created), { deadlineMs: 5000, attempts });
    expect(r.outcome).toBe('ok');
    expect(r.last.body).toEqual({ first: 1, last: 2 });
    expect(attempts.map((a) => a.status)).toEqual([503, undefined, 201]);
  });

  it('with a deadline of 0 sends one attempt', async () => {
    const attempts: HttpCall[] = [];
    const r = await withRetries(answers(unavailable, created), { deadlineMs: 0, attempts });
    expect(attempts).toHaveLength(1);
    expect(r.outcome).toBe('indeterminate');
  });

  it('gives up at the deadline: failed when every attempt was refused before any work, indeterminate once one may have landed', async () => {
    const t0 = now();
    const refused = await withRetries(answers(exhausted), { deadlineMs: 400 });
    expect(refused.outcome).toBe('failed');
    expect(now() - t0).toBeLessThan(1000);
    expect((await withRetries(answers(noAnswer, exhausted), { deadlineMs: 400 })).outcome).toBe('indeterminate');
  });

  it('stops at an answer that is not retryable', async () => {
    const attempts: HttpCall[] = [];
    const r = await withRetries(answers({ status: 400, ok: false, code: 'validation_failed' }, created), { deadlineMs: 5000, attempts });
    expect(r).toMatchObject({ outcome: 'failed', last: { code: 'validation_failed' } });
    expect(attempts).toHaveLength(1);
  });

  it('lets the caller count an attempt as done once an earlier one may have landed (a 409 after a lost answer)', async () => {
    const exists = { status: 409, ok: false, code: 'task_exists' };
    const succeeded = (c: HttpCall, mayHaveHappened: boolean) => c.status === 201 || (c.status === 409 && c.code === 'task_exists' && mayHaveHappened);
    expect((await withRetries(answers(noAnswer, exists), { deadlineMs: 5000, succeeded })).outcome).toBe('ok');
    // Without a lost answer first, a 409 means someone else's task: a failure.
    expect((await withRetries(answers(exists), { deadlineMs: 5000, succeeded })).outcome).toBe('failed');
  });
});
