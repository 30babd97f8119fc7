import type { Verdict } from '@crucible/contracts';
import { coverage, size, type TaggedRange } from './ranges.js';
import { explainHole, groupHistory, okRange, opCounts, seqKey, sum, type IdCheckOptions, type IdOperation, type RangeFinding } from './ids.history.js';

/**
 * Checks an ID history on its own (no database): no number is acknowledged to two calls,
 * every acknowledged range has the size asked for, and the acknowledged numbers of each
 * project and type are contiguous from the baseline, holes allowed only where unresolved
 * indeterminate calls could have taken exactly those numbers.
 *
 * Status: `fail` on a duplicate, a malformed range or an unexplained hole; `indeterminate`
 * when indeterminate calls remain (their fate needs `reconcileIds`), unless `reconciledBy`
 * names the verdict beside it that reconciles them; `pass` otherwise.
 *
 * @example
 * const v = checkIds([
 *   { project_id: 'alpha', type: 'US', count: 2, outcome: 'ok', first: 1, last: 2 },
 *   { project_id: 'alpha', type: 'US', count: 2, outcome: 'ok', first: 3, last: 4 },
 * ]);
 * v.status; // 'pass'
 */
export function checkIds(history: readonly IdOperation[], options: IdCheckOptions = {}): Verdict {
  const max = options.maxExamples ?? 10;
  const duplicates: RangeFinding[] = [];
  const explained: RangeFinding[] = [];
  const unexplained: RangeFinding[] = [];
  const malformed: { op: number; count: number; first?: number; last?: number }[] = [];
  let acknowledged = 0;
  const seqs = groupHistory(history);
  for (const s of seqs.values()) {
    const base = options.baseline?.[seqKey(s.project_id, s.type)] ?? 0;
    const ranges: TaggedRange[] = [];
    for (const i of s.ok) {
      const op = history[i] as IdOperation;
      const r = okRange(op);
      if (!r || size(r) !== op.count || r.first <= base) {
        malformed.push({ op: i, count: op.count, ...(r ?? {}) });
        if (!r) continue;
      }
      ranges.push({ ...r, owner: i });
      acknowledged += size(r);
    }
    if (ranges.length === 0) continue;
    const top = Math.max(...ranges.map((r) => r.last));
    const unresolved = s.indeterminate.map((i) => ({ op: i, count: (history[i] as IdOperation).count }));
    for (const seg of coverage(ranges, base + 1, top)) {
      const finding = { project_id: s.project_id, type: s.type, first: seg.first, last: seg.last, ops: seg.owners };
      if (seg.depth > 1) duplicates.push(finding);
      else if (seg.depth === 0) explainHole(finding, unresolved, explained, unexplained);
    }
  }
  const counts = {
    ...opCounts(history),
    sequences: seqs.size,
    ids_acknowledged: acknowledged,
    duplicate_ids: sum(duplicates),
    malformed_ranges: malformed.length,
    explained_gap_ids: sum(explained),
    unexplained_gap_ids: sum(unexplained),
  };
  const failed = counts.duplicate_ids > 0 || counts.malformed_ranges > 0 || counts.unexplained_gap_ids > 0;
  const undecided = counts.ops_indeterminate > 0;
  const status = failed ? 'fail' : undecided && !options.reconciledBy ? 'indeterminate' : 'pass';
  const summary = failed
    ? `${counts.duplicate_ids} duplicate IDs, ${counts.unexplained_gap_ids} IDs missing from the sequences, ${counts.malformed_ranges} malformed ranges`
    : undecided
      ? `${counts.ids_acknowledged} acknowledged IDs unique; ${counts.ops_indeterminate} indeterminate calls ${options.reconciledBy ? `left to ${options.reconciledBy} (reconciled against the database)` : 'still to reconcile against the database'}`
      : `${counts.ids_acknowledged} IDs unique and contiguous across ${counts.sequences} sequences`;
  return {
    checker: 'id-uniqueness',
    status,
    summary,
    counts,
    examples: [
      ...duplicates.slice(0, max).map((d) => ({ kind: 'duplicate', ...d })),
      ...unexplained.slice(0, max).map((d) => ({ kind: 'unexplained_gap', ...d })),
      ...malformed.slice(0, max).map((d) => ({ kind: 'malformed_range', ...d })),
    ],
  };
}
