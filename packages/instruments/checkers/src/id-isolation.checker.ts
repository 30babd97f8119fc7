import type { RegistryRowEvidence } from '@crucible/db';
import type { Verdict } from '@crucible/contracts';
import { coverage, size, type TaggedRange } from './ranges.js';
import { groupHistory, okRange, seqKey, toNumber, type IdCheckOptions, type IdOperation } from './ids.history.js';

/** One sequence whose advance in SQL does not match what its own project asked for and was answered. */
export interface IsolationFinding {
  project_id: string;
  type: string;
  /** Distinct IDs answered to the project from this sequence. */
  answered_ids: number;
  /** IDs the project's calls could have taken (ok and indeterminate calls; failed ones took nothing). */
  asked_ids: number;
  /** How far the sequence's `last_assigned_id` moved over the history. */
  advanced_ids: number;
  /** `answered_not_allocated`: answered more than the sequence gave; `allocated_for_others`: it gave more than its project asked. */
  kind: 'answered_not_allocated' | 'allocated_for_others';
  /** Up to three of the project's calls, as history indexes. */
  ops: number[];
}

const plural = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;

/**
 * ID isolation between projects, from SQL: every ID answered to project P must have come from
 * P's own sequence. IDs of different projects share numbers (each project has its own
 * `US-001`), so this never compares numbers across projects; it compares each sequence's
 * advance in `id_registry` with what its own project's calls were answered and asked:
 *
 * - `answered_not_allocated`: P was answered more distinct IDs of a type than P's sequence
 *   advanced, so some came from elsewhere (another project's sequence, or none);
 * - `allocated_for_others`: P's sequence advanced past everything P's calls asked for, so it
 *   handed IDs to someone else's call.
 *
 * A range drawn from the wrong project's sequence shows as both, on the two projects.
 * Pass the registry rows of every project of the history (`idEvidenceFromDb`), and
 * `baseline` when the sequences were in use before the history began.
 *
 * @example
 * const { registry } = await idEvidenceFromDb(db, projects);
 * const verdict = checkIdIsolation(history, registry); // checker 'api-isolation'
 */
export function checkIdIsolation(history: readonly IdOperation[], registryRowsFromDb: readonly RegistryRowEvidence[], options: Pick<IdCheckOptions, 'baseline' | 'maxExamples'> = {}): Verdict {
  const registry = new Map(registryRowsFromDb.map((r) => [seqKey(r.project_id, r.sequence_type), toNumber(r.last_assigned_id)]));
  const findings: IsolationFinding[] = [];
  let answeredTotal = 0;
  let advancedTotal = 0;
  const seqs = groupHistory(history);
  for (const s of seqs.values()) {
    const key = seqKey(s.project_id, s.type);
    const base = options.baseline?.[key] ?? 0;
    const advanced = (registry.get(key) ?? base) - base;
    const ranges: TaggedRange[] = s.ok.flatMap((i) => {
      const r = okRange(history[i] as IdOperation);
      return r ? [{ ...r, owner: i }] : [];
    });
    // Distinct numbers: a duplicate (another checker's finding) is not counted twice here.
    const answered = ranges.length === 0 ? 0 : coverage(ranges, Math.min(...ranges.map((r) => r.first)), Math.max(...ranges.map((r) => r.last))).filter((seg) => seg.depth > 0).reduce((n, seg) => n + size(seg), 0);
    const asked = [...s.ok, ...s.indeterminate].reduce((n, i) => n + (history[i] as IdOperation).count, 0);
    answeredTotal += answered;
    advancedTotal += advanced;
    const finding = (kind: IsolationFinding['kind']): IsolationFinding => ({ project_id: s.project_id, type: s.type, answered_ids: answered, asked_ids: asked, advanced_ids: advanced, kind, ops: s.ok.slice(0, 3) });
    if (answered > advanced) findings.push(finding('answered_not_allocated'));
    if (advanced > asked) findings.push(finding('allocated_for_others'));
  }
  const notAllocated = findings.filter((f) => f.kind === 'answered_not_allocated');
  const forOthers = findings.filter((f) => f.kind === 'allocated_for_others');
  const name = (f: IsolationFinding) => seqKey(f.project_id, f.type);
  const summary = findings.length
    ? [
        notAllocated.length ? `${notAllocated.map((f) => `${name(f)} answered ${f.answered_ids} IDs, its sequence advanced ${f.advanced_ids}`).join('; ')} (IDs not from the project's own sequence)` : '',
        forOthers.length ? `${forOthers.map((f) => `${name(f)} advanced ${f.advanced_ids}, its calls asked ${f.asked_ids}`).join('; ')} (the sequence allocated for another project's calls)` : '',
      ]
        .filter(Boolean)
        .join('; ')
    : `${answeredTotal} IDs answered to ${plural(new Set([...seqs.values()].map((s) => s.project_id)).size, 'project')}, each from its own sequence (${plural(seqs.size, 'sequence')} advanced ${advancedTotal} in SQL, none past its own calls)`;
  return {
    checker: 'api-isolation',
    status: findings.length ? 'fail' : 'pass',
    summary,
    counts: {
      sequences: seqs.size,
      ids_answered: answeredTotal,
      sequence_advance: advancedTotal,
      answered_not_allocated_ids: notAllocated.reduce((n, f) => n + f.answered_ids - f.advanced_ids, 0),
      allocated_for_others_ids: forOthers.reduce((n, f) => n + f.advanced_ids - f.asked_ids, 0),
    },
    examples: findings.slice(0, options.maxExamples ?? 10).map((f) => ({ ...f })),
  };
}
