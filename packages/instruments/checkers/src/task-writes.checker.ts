import type { TaskRowEvidence } from '@crucible/db';
import type { Verdict } from '@crucible/contracts';
import type { OpOutcome } from './outcome.js';

/** One logical task creation as the client saw it, however many attempts it took. */
export interface TaskWrite {
  readonly task_id: string;
  readonly title: string;
  /** The JSON payload sent; a stored row must hold an equal value. */
  readonly payload: unknown;
  readonly outcome: OpOutcome;
}

/** Deep equality of two JSON values; key order does not matter (`jsonb` does not keep it). */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/**
 * Compares what a client wrote with the rows the database holds for one project: every
 * acknowledged task present and identical (nothing lost), every stored task identical to
 * what was sent (nothing half-written), no stored task that was never sent (no phantom),
 * and no failed write stored. Indeterminate writes may be present or absent; the verdict
 * counts how many landed.
 *
 * Status: `fail` on any lost, half-written, failed-but-stored or phantom task; else `pass`.
 *
 * @example
 * const rows = await taskRowsFromDb(db, 'res-down');
 * const verdict = checkTaskWrites(writes, rows); // writes: TaskWrite[] recorded by the client
 */
export function checkTaskWrites(writes: readonly TaskWrite[], rows: readonly TaskRowEvidence[], options: { maxExamples?: number } = {}): Verdict {
  const max = options.maxExamples ?? 5;
  const stored = new Map(rows.map((r) => [r.task_id, r]));
  const sent = new Map(writes.map((w) => [w.task_id, w]));
  const lost = writes.filter((w) => w.outcome === 'ok' && !stored.has(w.task_id));
  const failedButStored = writes.filter((w) => w.outcome === 'failed' && stored.has(w.task_id));
  const halfWritten = rows.filter((r) => {
    const w = sent.get(r.task_id);
    return w !== undefined && !(r.title === w.title && sameJson(r.payload, w.payload));
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
  return {
    checker: 'task-writes',
    status: passed ? 'pass' : 'fail',
    summary: passed
      ? `${counts.acknowledged} acknowledged tasks stored exactly as sent; ${counts.indeterminate} indeterminate (${counts.indeterminate_applied} landed); nothing half-written`
      : `${lost.length} acknowledged tasks lost, ${halfWritten.length} half-written, ${failedButStored.length} failed but stored, ${phantom.length} nobody sent`,
    counts,
    examples: [
      ...lost.slice(0, max).map((w) => ({ kind: 'lost', task_id: w.task_id })),
      ...halfWritten.slice(0, max).map((r) => ({ kind: 'half_written', task_id: r.task_id })),
      ...failedButStored.slice(0, max).map((w) => ({ kind: 'failed_but_stored', task_id: w.task_id })),
      ...phantom.slice(0, max).map((r) => ({ kind: 'phantom', task_id: r.task_id })),
    ],
  };
}
