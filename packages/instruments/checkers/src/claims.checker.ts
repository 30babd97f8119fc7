import type { Verdict } from '@crucible/contracts';
import type { ClaimRowEvidence } from '@crucible/db';

/** One `POST /tasks/claim` call as a client recorded it. */
export interface ClaimAttempt {
  project_id: string;
  /** The worker name the claim was made for. */
  worker: string;
  /** `claimed` (the answer named a task), `no_task` (the clear "none available" answer) or `error` (anything else). */
  result: 'claimed' | 'no_task' | 'error';
  /** The task the answer handed out (`claimed` only). */
  task_id?: string;
  /** HTTP status or error text, for examples. */
  status?: number;
  error?: string;
}

/** Options of `checkClaims`. */
export interface ClaimCheckOptions {
  /** Pending tasks before the claims began, per project (or one number for every project). */
  pending: number | Readonly<Record<string, number>>;
  /** Claimed rows read from the database afterwards (`claimedRowsFromDb`), to cross-check the answers. */
  dbRows?: readonly ClaimRowEvidence[];
  maxExamples?: number;
}

/**
 * Checks exactly-once claims: each task is handed to at most one successful claim; with
 * P pending tasks and C concurrent claimers exactly min(P, C) succeed and every other
 * claimer gets `no_task`; no claim errors. With `dbRows`, every successful claim is the
 * one the database recorded (`claimed_by`), and no claimed row lacks its answer.
 *
 * @example
 * checkClaims(attempts, { pending: 10, dbRows: await claimedRowsFromDb(db, ['alpha']) });
 */
export function checkClaims(attempts: readonly ClaimAttempt[], options: ClaimCheckOptions): Verdict {
  const max = options.maxExamples ?? 10;
  const examples: unknown[] = [];
  const byProject = new Map<string, ClaimAttempt[]>();
  for (const a of attempts) byProject.set(a.project_id, [...(byProject.get(a.project_id) ?? []), a]);
  const c = {
    projects: byProject.size,
    claimers: attempts.length,
    pending: 0,
    successes: 0,
    expected_successes: 0,
    no_task: 0,
    expected_no_task: 0,
    errors: 0,
    double_assigned_tasks: 0,
    extra_assignments: 0,
    db_claimed_rows: 0,
    db_mismatches: 0,
    db_unanswered_claims: 0,
  };
  for (const [project, list] of byProject) {
    const pending = typeof options.pending === 'number' ? options.pending : (options.pending[project] ?? 0);
    const expected = Math.min(pending, list.length);
    const holders = new Map<string, string[]>();
    let successes = 0;
    let noTask = 0;
    for (const a of list) {
      if (a.result === 'claimed' && a.task_id !== undefined) {
        successes++;
        holders.set(a.task_id, [...(holders.get(a.task_id) ?? []), a.worker]);
      } else if (a.result === 'no_task') noTask++;
      else {
        c.errors++;
        if (examples.length < max) examples.push({ kind: 'claim_error', project, worker: a.worker, status: a.status, error: a.error });
      }
    }
    for (const [task, workers] of holders) {
      if (workers.length < 2) continue;
      c.double_assigned_tasks++;
      c.extra_assignments += workers.length - 1;
      if (examples.length < max) examples.push({ kind: 'double_assigned', project, task_id: task, workers });
    }
    if (successes !== expected && examples.length < max)
      examples.push({ kind: 'success_count', project, pending, claimers: list.length, successes, expected });
    c.pending += pending;
    c.successes += successes;
    c.expected_successes += expected;
    c.no_task += noTask;
    c.expected_no_task += list.length - expected;
    if (options.dbRows) {
      const rows = options.dbRows.filter((r) => r.project_id === project);
      c.db_claimed_rows += rows.length;
      const byTask = new Map(rows.map((r) => [r.task_id, r]));
      for (const [task, workers] of holders) {
        const row = byTask.get(task);
        // A double assignment leaves one name in the row; every other holder is a mismatch.
        const wrong = workers.filter((w) => row?.claimed_by !== w).length;
        c.db_mismatches += wrong;
        if (wrong > 0 && examples.length < max) examples.push({ kind: 'db_mismatch', project, task_id: task, answered: workers, claimed_by: row?.claimed_by ?? null });
      }
      for (const row of rows) {
        if (holders.has(row.task_id)) continue;
        c.db_unanswered_claims++;
        if (examples.length < max) examples.push({ kind: 'db_unanswered_claim', project, task_id: row.task_id, claimed_by: row.claimed_by });
      }
    }
  }
  const failed =
    c.double_assigned_tasks > 0 ||
    c.successes !== c.expected_successes ||
    c.no_task !== c.expected_no_task ||
    c.errors > 0 ||
    c.db_mismatches > 0 ||
    c.db_unanswered_claims > 0;
  return {
    checker: 'exactly-once-claims',
    status: failed ? 'fail' : 'pass',
    summary: failed
      ? `${c.double_assigned_tasks} tasks handed to more than one claimer (${c.extra_assignments} extra); ${c.successes} successes for ${c.expected_successes} expected; ` +
        `${c.no_task} no_task for ${c.expected_no_task} expected; ${c.errors} errors; ${c.db_mismatches + c.db_unanswered_claims} disagreements with the database`
      : `${c.claimers} claimers on ${c.pending} pending tasks: ${c.successes} claimed exactly once, ${c.no_task} told no_task` +
        (options.dbRows ? '; the database agrees' : ''),
    counts: c,
    examples,
  };
}
