import type { RegistryRowEvidence, ReservationRowEvidence } from '@crucible/db';
import type { Verdict } from '@crucible/contracts';
import { coverage, size, type NumberRange, type TaggedRange } from './ranges.js';
import { explainHole, groupHistory, okRange, opCounts, seqKey, sum, toNumber, type IdCheckOptions, type IdOperation, type RangeFinding } from './ids.history.js';

/** Everything `reconcileIds` found, plus the verdict that sums it up. */
export interface IdReconciliation {
  verdict: Verdict;
  /** Numbers held by more than one allocation. */
  duplicates: RangeFinding[];
  /** Acknowledged ranges the database no longer accounts for (past the registry, or a reservation row that is missing or different). */
  lost: RangeFinding[];
  /** Numbers no client learned, taken by indeterminate calls (proven by a reservation row, or matched by count). */
  explainedGaps: RangeFinding[];
  /** Numbers below the registry's high-water mark that no allocation explains. */
  unexplainedGaps: RangeFinding[];
}

/**
 * Reconciles an ID history with what the database holds, Jepsen-style: each indeterminate
 * call is resolved through its `Idempotency-Key` (a reservation row means it happened and
 * took that range; no row means it did not), then every sequence of the history is checked
 * from its baseline up to the registry's `last_assigned_id`:
 *
 * - `duplicates`: a number held by two allocations (acknowledged calls, resolved
 *   indeterminate calls, or reservation rows no recorded call made);
 * - `lost`: an acknowledged range above the registry's high-water mark (it would be handed
 *   out again) or whose reservation row is missing or different;
 * - `explainedGaps`: numbers no client learned, taken by an indeterminate call (proven by
 *   its reservation row, or by an exact count match when the call carried no key);
 * - `unexplainedGaps`: numbers at or below the registry value that nothing explains.
 *
 * The verdict fails on any duplicate, loss or unexplained gap.
 *
 * @example
 * const { registry, reservations } = await idEvidenceFromDb(db, ['alpha']);
 * const r = reconcileIds(history, registry, reservations);
 * if (r.verdict.status === 'fail') console.log(r.duplicates, r.lost, r.unexplainedGaps);
 */
export function reconcileIds(
  history: readonly IdOperation[],
  registryRowsFromDb: readonly RegistryRowEvidence[],
  reservationsFromDb: readonly ReservationRowEvidence[],
  options: IdCheckOptions = {},
): IdReconciliation {
  const max = options.maxExamples ?? 10;
  const keyedRows = options.reservationsForKeyedCalls ?? true;
  const duplicates: RangeFinding[] = [];
  const lost: RangeFinding[] = [];
  const explainedGaps: RangeFinding[] = [];
  const unexplainedGaps: RangeFinding[] = [];
  const registry = new Map(registryRowsFromDb.map((r) => [seqKey(r.project_id, r.sequence_type), toNumber(r.last_assigned_id)]));
  const rowsByKey = new Map<string, ReservationRowEvidence>();
  for (const row of reservationsFromDb) rowsByKey.set(`${row.project_id}\u0000${row.idempotency_key}`, row);
  const rowOf = (op: IdOperation) =>
    op.idempotency_key === undefined ? undefined : rowsByKey.get(`${op.project_id}\u0000${op.idempotency_key}`);
  const usedRows = new Set<ReservationRowEvidence>();
  let applied = 0;
  let notApplied = 0;
  let unknown = 0;
  let acknowledged = 0;
  let registryTotal = 0;

  const seqs = groupHistory(history);
  for (const s of seqs.values()) {
    const key = seqKey(s.project_id, s.type);
    const base = options.baseline?.[key] ?? 0;
    const high = registry.get(key) ?? base;
    registryTotal += high - base;
    const finding = (r: NumberRange, ops: (number | string)[]): RangeFinding => ({ project_id: s.project_id, type: s.type, first: r.first, last: r.last, ops });
    // Every allocation the evidence proves, tagged: history index, or -1 - row index for rows no call made.
    const allocations: TaggedRange[] = [];
    const provenIndeterminate = new Set<number>();
    for (const i of s.ok) {
      const op = history[i] as IdOperation;
      const r = okRange(op);
      if (!r) continue;
      acknowledged += size(r);
      allocations.push({ ...r, owner: i });
      const row = rowOf(op);
      if (row) usedRows.add(row);
      if (r.last > high) lost.push(finding({ first: Math.max(r.first, high + 1), last: r.last }, [i]));
      else if (op.idempotency_key !== undefined && keyedRows) {
        if (!row || toNumber(row.first_id) !== r.first || toNumber(row.last_id) !== r.last) lost.push(finding(r, [i]));
      }
    }
    const unresolved: { op: number; count: number }[] = [];
    for (const i of s.indeterminate) {
      const op = history[i] as IdOperation;
      const row = rowOf(op);
      if (row) {
        usedRows.add(row);
        applied++;
        provenIndeterminate.add(i);
        allocations.push({ first: toNumber(row.first_id), last: toNumber(row.last_id), owner: i });
      } else if (op.idempotency_key !== undefined && keyedRows) notApplied++;
      else {
        unknown++;
        unresolved.push({ op: i, count: op.count });
      }
    }
    const foreignRows = reservationsFromDb.filter(
      (row) => row.project_id === s.project_id && row.sequence_type === s.type && !usedRows.has(row),
    );
    foreignRows.forEach((row) => {
      usedRows.add(row);
      allocations.push({ first: toNumber(row.first_id), last: toNumber(row.last_id), owner: -1 - reservationsFromDb.indexOf(row) });
    });
    const label = (owner: number) => (owner >= 0 ? owner : `reservation:${reservationsFromDb[-1 - owner]?.idempotency_key}`);
    const top = Math.max(high, ...allocations.map((a) => a.last));
    for (const seg of coverage(allocations, base + 1, top)) {
      if (seg.depth > 1) duplicates.push(finding(seg, seg.owners.map(label)));
      else if (seg.depth === 1 && provenIndeterminate.has(seg.owners[0] as number)) explainedGaps.push(finding(seg, seg.owners));
      else if (seg.depth === 0 && seg.last <= high) explainHole(finding(seg, []), unresolved, explainedGaps, unexplainedGaps);
    }
  }

  const counts = {
    ...opCounts(history),
    sequences: seqs.size,
    indeterminate_applied: applied,
    indeterminate_not_applied: notApplied,
    indeterminate_unknown: unknown,
    ids_acknowledged: acknowledged,
    registry_ids: registryTotal,
    duplicate_ids: sum(duplicates),
    lost_acknowledged_ids: sum(lost),
    explained_gap_ids: sum(explainedGaps),
    unexplained_gap_ids: sum(unexplainedGaps),
  };
  const failed = counts.duplicate_ids > 0 || counts.lost_acknowledged_ids > 0 || counts.unexplained_gap_ids > 0;
  const summary = failed
    ? `${counts.duplicate_ids} duplicate IDs, ${counts.lost_acknowledged_ids} acknowledged IDs lost, ${counts.unexplained_gap_ids} IDs missing without explanation`
    : `${counts.ids_acknowledged} acknowledged IDs unique and accounted for; registry ${counts.registry_ids}; ` +
      `${counts.explained_gap_ids} IDs taken by indeterminate calls (${applied} applied, ${notApplied} not applied, ${unknown} unresolved)`;
  return {
    verdict: {
      checker: 'id-reconciliation',
      status: failed ? 'fail' : 'pass',
      summary,
      counts,
      examples: [
        ...duplicates.slice(0, max).map((d) => ({ kind: 'duplicate', ...d })),
        ...lost.slice(0, max).map((d) => ({ kind: 'lost_acknowledged', ...d })),
        ...unexplainedGaps.slice(0, max).map((d) => ({ kind: 'unexplained_gap', ...d })),
        ...explainedGaps.slice(0, max).map((d) => ({ kind: 'explained_gap', ...d })),
      ],
    },
    duplicates,
    lost,
    explainedGaps,
    unexplainedGaps,
  };
}
