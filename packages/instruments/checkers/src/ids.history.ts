import type { OpOutcome } from './outcome.js';
import { exactCover, size, type NumberRange } from './ranges.js';

// What both ID checkers share: the recorded call, the findings, the options, and the
// grouping and gap explanation they both apply.

/**
 * One call to the ID service as a client recorded it (`POST /ids/reserve` or
 * `GET /ids/next`, which is a reservation of 1).
 */
export interface IdOperation {
  /** Who made the call (worker index, connection …); only used in examples. */
  process?: string | number;
  project_id: string;
  /** Sequence type, e.g. `US`. */
  type: string;
  /** How many IDs were asked for. */
  count: number;
  outcome: OpOutcome;
  /** First number of the range answered (`ok` only). */
  first?: number;
  /** Last number of the range answered (`ok` only). */
  last?: number;
  /** The `Idempotency-Key` sent, which lets `reconcileIds` resolve an indeterminate call. */
  idempotency_key?: string;
  /** What went wrong, for examples (`timeout`, `503 database_unavailable` …). */
  error?: string;
}

/** One sequence's numbers with the operations that hold them. */
export interface RangeFinding extends NumberRange {
  project_id: string;
  type: string;
  /** Indexes into the history (or `reservation:<key>` for database rows with no call). */
  ops: (number | string)[];
}

/** Options shared by the ID checkers. */
export interface IdCheckOptions {
  /**
   * `last_assigned_id` of each sequence before the history began, keyed `project/type`
   * (default 0), so a history recorded on a used database is checked from where it started.
   */
  baseline?: Readonly<Record<string, number>>;
  /**
   * Whether the service records a reservation row for every call that carried an
   * `Idempotency-Key` (default true). Then a keyed indeterminate call with no row did not
   * happen, and a keyed ok call with no row is a lost acknowledgement.
   */
  reservationsForKeyedCalls?: boolean;
  /**
   * `checkIds` only: the verdict in the same report row that resolves the indeterminate calls
   * against the database (`id-reconciliation`). Then calls left indeterminate here are that
   * verdict's to judge, and this one passes on what it can decide (the acknowledged ranges),
   * naming it; without it they leave this verdict `indeterminate` (an inconclusive row).
   */
  reconciledBy?: string;
  /** Most examples kept per finding kind (default 10). */
  maxExamples?: number;
}

/** The key of one sequence: `project/type`. */
export const seqKey = (project: string, type: string) => `${project}/${type}`;
/** A bigint column as a number (IDs stay far below 2^53). */
export const toNumber = (v: number | string | bigint) => Number(v);

/** The history indexes of one sequence's calls, by outcome. */
export interface Sequence {
  project_id: string;
  type: string;
  ok: number[];
  failed: number[];
  indeterminate: number[];
}

/** The history grouped by sequence (project and type). */
export function groupHistory(history: readonly IdOperation[]): Map<string, Sequence> {
  const seqs = new Map<string, Sequence>();
  history.forEach((op, i) => {
    const key = seqKey(op.project_id, op.type);
    let s = seqs.get(key);
    if (!s) seqs.set(key, (s = { project_id: op.project_id, type: op.type, ok: [], failed: [], indeterminate: [] }));
    if (op.outcome === 'ok') s.ok.push(i);
    else if (op.outcome === 'failed') s.failed.push(i);
    else s.indeterminate.push(i);
  });
  return seqs;
}

/** The range an ok call was answered, if it carries one. */
export function okRange(op: IdOperation): NumberRange | undefined {
  if (op.first === undefined || op.last === undefined) return undefined;
  return { first: op.first, last: op.last };
}

/** A hole explained if unused indeterminate calls of the sequence sum to exactly its size. */
export function explainHole(
  hole: RangeFinding,
  unresolved: { op: number; count: number }[],
  explained: RangeFinding[],
  unexplained: RangeFinding[],
): void {
  const cover = exactCover(unresolved, size(hole));
  if (!cover) {
    unexplained.push(hole);
    return;
  }
  for (const c of cover) unresolved.splice(unresolved.indexOf(c), 1);
  explained.push({ ...hole, ops: cover.map((c) => c.op) });
}

/** How many calls ended ok, failed and indeterminate. */
export function opCounts(history: readonly IdOperation[]): { ops: number; ops_ok: number; ops_failed: number; ops_indeterminate: number } {
  let ok = 0;
  let failed = 0;
  for (const op of history) {
    if (op.outcome === 'ok') ok++;
    else if (op.outcome === 'failed') failed++;
  }
  return { ops: history.length, ops_ok: ok, ops_failed: failed, ops_indeterminate: history.length - ok - failed };
}

/** How many numbers the findings hold. */
export function sum(findings: readonly NumberRange[]): number {
  return findings.reduce((n, f) => n + size(f), 0);
}
