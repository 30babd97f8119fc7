// Plumbing of the task-api resilience suite: task creations with client-chosen ids, so a
// retry is idempotent (a 409 after a lost answer means the first attempt landed). The
// check that every acknowledged write is in the database exactly as sent is
// `checkTaskWrites` in @crucible/checkers.
import { createHash } from 'node:crypto';

import { type TaskWrite } from '@crucible/checkers';
import { send, withRetries, type Http, type HttpCall } from '@crucible/suite-kit';

/** A task as the client sends it. */
export type SentTask = Omit<TaskWrite, 'outcome'>;

/** The task a client writes for number `n`: its payload carries a hash of itself. */
export function taskFor(prefix: string, n: number, padBytes: number): SentTask {
  const pad = 'x'.repeat(padBytes);
  const sha = createHash('sha256').update(`${prefix}:${n}:${pad}`).digest('hex');
  return { task_id: `${prefix}-${n}`, title: `task ${n} of ${prefix}`, payload: { n, pad, sha } };
}

/**
 * Creates one task (`POST /tasks` with a client-chosen `task_id`), retried on 503 or no
 * answer until `deadlineMs` (0: one attempt). A 409 `task_exists` after an attempt that may
 * have landed means it did. Every attempt lands in `attempts`.
 */
export async function createTask(http: Http, o: { apiKey: string; task: SentTask; deadlineMs: number; attempts: HttpCall[] }): Promise<TaskWrite> {
  const { outcome } = await withRetries(
    () => send(http, { method: 'POST', path: '/tasks', headers: { authorization: `Bearer ${o.apiKey}` }, body: o.task }, (s) => s === 201),
    {
      deadlineMs: o.deadlineMs,
      attempts: o.attempts,
      succeeded: (call, mayHaveLanded) => call.status === 201 || (call.status === 409 && call.code === 'task_exists' && mayHaveLanded),
    },
  );
  return { ...o.task, outcome };
}
