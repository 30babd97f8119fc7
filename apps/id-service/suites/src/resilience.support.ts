// Plumbing of the id-service resilience suite and its sabotage test: timed calls recorded
// for the phase reports, and reservations with retries recorded for the reconciliation
// checker (one history entry per logical reservation, whatever the number of attempts).
import { randomUUID } from 'node:crypto';

import { type IdOperation } from '@crucible/checkers';
import { hangAfterMs, send, withRetries, type Http, type HttpCall } from '@crucible/suite-kit';

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
  const base = { process: o.process ?? 0, project_id: o.projectId, type: o.type, count: o.count, ...(o.idempotent ? { idempotency_key: key } : {}) };
  const { outcome, last } = await withRetries(
    () =>
      send(http, {
        method: 'POST',
        path: '/ids/reserve',
        headers: { authorization: `Bearer ${o.apiKey}`, ...(o.idempotent ? { 'idempotency-key': key } : {}) },
        body: { type: o.type, count: o.count },
        // Longer than the service's own worst case (acquire + statement limits): past it, a hang.
        timeoutMs: hangAfterMs,
      }),
    { deadlineMs: o.deadlineMs ?? 10_000, attempts: o.attempts },
  );
  if (outcome === 'ok') {
    const { first, last: lastId } = last.body as { first: number; last: number };
    return { ...base, outcome, first, last: lastId };
  }
  return { ...base, outcome, error: last.code ?? String(last.status ?? 'no answer') };
}
