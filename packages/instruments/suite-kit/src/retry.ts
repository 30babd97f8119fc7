import { classifyOutcome, type OpOutcome } from '@crucible/checkers';
import { now } from '@crucible/instrument-kit';
import type { HttpCall } from './calls.js';
import type { CallRecord } from './phases.js';

/**
 * How long to wait before attempt `attempt + 1` after `call` failed: the answer's
 * `Retry-After` (else 200 ms), never more than 1 s, and shorter while the exponential
 * backoff `100 ms · 2^attempt` is shorter still.
 *
 * @example
 * retryPause({ retryAfter: '1', ...call }, 0); // 100
 * retryPause({ retryAfter: '1', ...call }, 4); // 1000
 */
export function retryPause(call: Pick<CallRecord, 'retryAfter'>, attempt: number): number {
  return Math.min(1000, call.retryAfter ? Number(call.retryAfter) * 1000 : 200, 100 * 2 ** attempt);
}

/** Whether an attempt is worth repeating: no answer at all, or a 503 (refused or unavailable). */
export function isRetryable(call: Pick<CallRecord, 'status'>): boolean {
  return call.status === undefined || call.status === 503;
}

/** How {@link withRetries} repeats an operation. */
export interface RetryOptions {
  /**
   * No attempt starts later than this many ms after the first one; `0` sends exactly one
   * attempt (the client without retries).
   */
  readonly deadlineMs: number;
  /** Every attempt is pushed here (the phase reports are built from them). */
  readonly attempts?: HttpCall[];
  /**
   * Whether an attempt settles the operation as done (default: `call.ok`).
   * `mayHaveHappened` says an earlier attempt may have taken effect, e.g. a 409 "already
   * exists" after a lost answer means the first attempt landed.
   */
  readonly succeeded?: (call: HttpCall, mayHaveHappened: boolean) => boolean;
}

/** How a retried operation ended, classified as Jepsen does, with its last attempt. */
export interface Retried {
  /** `ok` when an attempt succeeded; `indeterminate` when one may have taken effect; else `failed`. */
  readonly outcome: OpOutcome;
  /** The last attempt: the success (with its body), or the failure that ended the retries. */
  readonly last: HttpCall;
}

/**
 * One logical operation, attempted until it succeeds, fails for certain (an answer that is
 * not retryable, see {@link isRetryable}), or the deadline passes, pausing
 * {@link retryPause} between attempts. `attempt` must send one request through `send` and
 * resolve to its record; every attempt lands in `attempts`.
 *
 * @example
 * const key = randomUUID();
 * const { outcome, last } = await withRetries(
 *   () => send(http, { method: 'POST', path: '/ids/reserve', headers: { 'idempotency-key': key, ...auth }, body }),
 *   { deadlineMs: 10_000, attempts: calls },
 * );
 */
export async function withRetries(attempt: () => Promise<HttpCall>, o: RetryOptions): Promise<Retried> {
  const deadline = now() + o.deadlineMs;
  const succeeded = o.succeeded ?? ((call) => call.ok);
  let mayHaveHappened = false;
  for (let n = 0; ; n++) {
    const call = await attempt();
    o.attempts?.push(call);
    if (succeeded(call, mayHaveHappened)) return { outcome: 'ok', last: call };
    if (classifyOutcome({ status: call.status, code: call.code }) === 'indeterminate') mayHaveHappened = true;
    const pause = retryPause(call, n);
    if (!isRetryable(call) || now() + pause > deadline) return { outcome: mayHaveHappened ? 'indeterminate' : 'failed', last: call };
    await new Promise((r) => setTimeout(r, pause));
  }
}
