// Plumbing of the task-api resilience suite: task creations with client-chosen ids (so a
// retry is idempotent: a 409 after a lost answer means the first attempt landed), and the
// check that every acknowledged write is in the database exactly as sent.
import { createHash } from 'node:crypto';

import { expectVerdict } from '@crucible/reporting';
import { classifyOutcome, type OpOutcome } from '@crucible/checkers';
import type { Verdict } from '@crucible/contracts';
import type { Database } from '@crucible/db';
import type { Kysely } from 'kysely';
import { send, type Http, type HttpCall } from '@crucible/suite-kit';
import { now } from '@crucible/instrument-kit';

/** One logical task creation as the client saw it. */
export interface TaskWrite {
  readonly task_id: string;
  readonly title: string;
  readonly payload: { n: number; pad: string; sha: string };
  outcome: OpOutcome;
}

/** The task a client writes for number `n`: its payload carries a hash of itself. */
export function taskFor(prefix: string, n: number, padBytes: number): Omit<TaskWrite, 'outcome'> {
  const pad = 'x'.repeat(padBytes);
  const sha = createHash('sha256').update(`${prefix}:${n}:${pad}`).digest('hex');
  return { task_id: `${prefix}-${n}`, title: `task ${n} of ${prefix}`, payload: { n, pad, sha } };
}

/**
 * Creates one task (`POST /tasks` with a client-chosen `task_id`), retried on 503 or no
 * answer when `retry` is set. A 409 `task_exists` after an attempt that may have landed
 * means it did. Every attempt lands in `attempts`.
 */
export async function createTask(
  http: Http,
  o: { apiKey: string; task: Omit<TaskWrite, 'outcome'>; retry: boolean; attempts: HttpCall[]; deadlineMs?: number },
): Promise<TaskWrite> {
  const deadline = now() + (o.deadlineMs ?? 10_000);
  let mayHaveLanded = false;
  for (let attempt = 0; ; attempt++) {
    const call = await send(http, { method: 'POST', path: '/tasks', headers: { authorization: `Bearer ${o.apiKey}` }, body: o.task }, (s) => s === 201);
    o.attempts.push(call);
    if (call.status === 201) return { ...o.task, outcome: 'ok' };
    if (call.status === 409 && call.code === 'task_exists' && mayHaveLanded) return { ...o.task, outcome: 'ok' };
    const outcome = classifyOutcome({ status: call.status, code: call.code });
    if (outcome === 'indeterminate') mayHaveLanded = true;
    const retryable = call.status === undefined || call.status === 503;
    const pause = Math.min(1000, call.retryAfter ? Number(call.retryAfter) * 1000 : 200, 100 * 2 ** attempt);
    if (!o.retry || !retryable || now() + pause > deadline) return { ...o.task, outcome: mayHaveLanded ? 'indeterminate' : 'failed' };
    await new Promise((r) => setTimeout(r, pause));
  }
}

/**
 * Compares what the client wrote with what the database holds for the project: every
 * acknowledged task present and identical (nothing lost), every stored task identical to
 * what was sent (nothing half-written), no task nobody sent. Indeterminate writes may be
 * present or absent; failed ones must be absent.
 */
export async function checkTaskWrites(db: Kysely<Database>, projectId: string, writes: readonly TaskWrite[]): Promise<Verdict> {
  const rows = await db.selectFrom('tasks').select(['task_id', 'title', 'payload']).where('project_id', '=', projectId).execute();
  const stored = new Map(rows.map((r) => [r.task_id, r]));
  const sent = new Map(writes.map((w) => [w.task_id, w]));
  const same = (w: Omit<TaskWrite, 'outcome'>, r: { title: string; payload: unknown }) => {
    const p = r.payload as TaskWrite['payload'] | null;
    return r.title === w.title && p?.n === w.payload.n && p.pad === w.payload.pad && p.sha === w.payload.sha;
  };
  const lost = writes.filter((w) => w.outcome === 'ok' && !stored.has(w.task_id));
  const failedButStored = writes.filter((w) => w.outcome === 'failed' && stored.has(w.task_id));
  const halfWritten = rows.filter((r) => {
    const w = sent.get(r.task_id);
    return w !== undefined && !same(w, r);
  });
  const phantom = rows.filter((r) => !sent.has(r.task_id));
  const indeterminate = writes.filter((w) => w.outcome === 'indeterminate');
  const counts = {
    writes: writes.length,
    acknowledged: writes.filter((w) => w.outcome === 'ok').length,
    failed: writes.filter((w) => w.outcome === 'failed').length,
    indeterminate: indeterminate.length,
    indeterminate_applied: indeterminate.filter((w) => stored.has(w.task_id)).length,
    stored: rows.length,
    lost_acknowledged: lost.length,
    failed_but_stored: failedButStored.length,
    half_written: halfWritten.length,
    phantom: phantom.length,
  };
  const passed = lost.length + failedButStored.length + halfWritten.length + phantom.length === 0;
  return expectVerdict(
    'task-writes',
    passed,
    passed
      ? `${counts.acknowledged} acknowledged tasks stored exactly as sent; ${counts.indeterminate} indeterminate (${counts.indeterminate_applied} landed); nothing half-written`
      : `${lost.length} acknowledged tasks lost, ${halfWritten.length} half-written, ${failedButStored.length} failed but stored, ${phantom.length} nobody sent`,
    counts,
    [...lost.slice(0, 5).map((w) => ({ kind: 'lost', task_id: w.task_id })), ...halfWritten.slice(0, 5).map((r) => ({ kind: 'half_written', task_id: r.task_id }))],
  );
}
