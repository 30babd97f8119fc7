// Plumbing of the id-service resilience suite and its sabotage test: timed calls recorded
// for the phase reports, and reservations with retries recorded for the reconciliation
// checker (one history entry per logical reservation, whatever the number of attempts).
import { randomUUID } from 'node:crypto';

import { classifyOutcome, type IdOperation } from '@crucible/checkers';
import { hangAfterMs, send, type Http, type HttpCall } from '@crucible/suite-kit';
import { now } from '@crucible/instrument-kit';

/** How {@link reserveWithRetries} behaves. */
export interface ReserveOptions {
  readonly apiKey: string;
  readonly projectId: string;
  readonly type: string;
  readonly count: number;
  /**
   * Send one `Idempotency-Key` for every attempt (the correct client). `false` is the
   * sabotaged client: it retries without a key, so an attempt that committed but whose
   * answer was lost allocates a second range.
   */
  readonly idempotent: boolean;
  /** Give up after this long (default 10 s); the operation is then failed or indeterminate. */
  readonly deadlineMs?: number;
  /** Every HTTP attempt lands here (for the phase reports). */
  readonly attempts: HttpCall[];
  /** Worker name, for the checker's examples. */
  readonly process?: string | number;
}

/**
 * One logical reservation: `POST /ids/reserve`, retried on 503 or no answer (honouring
 * `Retry-After`, at most 1 s) until it succeeds, fails for certain, or the deadline passes.
 * Returns the history entry of the whole operation: `ok` with the range answered,
 * `indeterminate` when an attempt may have taken effect and none succeeded, else `failed`.
 */
export async function reserveWithRetries(http: Http, o: ReserveOptions): Promise<IdOperation> {
  const key = randomUUID();
  const deadline = now() + (o.deadlineMs ?? 10_000);
  let mayHaveHappened = false;
  let lastError = '';
  const base = { process: o.process ?? 0, project_id: o.projectId, type: o.type, count: o.count, ...(o.idempotent ? { idempotency_key: key } : {}) };
  for (let attempt = 0; ; attempt++) {
    const call = await send(http, {
      method: 'POST',
      path: '/ids/reserve',
      headers: { authorization: `Bearer ${o.apiKey}`, ...(o.idempotent ? { 'idempotency-key': key } : {}) },
      body: { type: o.type, count: o.count },
      // Longer than the service's own worst case (acquire + statement limits): past it, a hang.
      timeoutMs: hangAfterMs,
    });
    o.attempts.push(call);
    const outcome = classifyOutcome({ status: call.status, code: call.code });
    if (outcome === 'ok') {
      const { first, last } = call.body as { first: number; last: number };
      return { ...base, outcome: 'ok', first, last };
    }
    if (outcome === 'indeterminate') mayHaveHappened = true;
    lastError = call.code ?? String(call.status ?? 'no answer');
    const retryable = call.status === undefined || call.status === 503;
    const pause = Math.min(1000, call.retryAfter ? Number(call.retryAfter) * 1000 : 200, 100 * 2 ** attempt);
    if (!retryable || now() + pause > deadline) break;
    await new Promise((r) => setTimeout(r, pause));
  }
  return { ...base, outcome: mayHaveHappened ? 'indeterminate' : 'failed', error: lastError };
}
