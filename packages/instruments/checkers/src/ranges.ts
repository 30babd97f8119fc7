/** An inclusive range of sequence numbers, `first..last`. */
export interface NumberRange {
  first: number;
  last: number;
}

/** A range tagged with the index of whatever produced it. */
export interface TaggedRange extends NumberRange {
  owner: number;
}

/** A stretch of numbers with the same coverage: how many ranges hold it, and which. */
export interface CoverageSegment extends NumberRange {
  depth: number;
  owners: number[];
}

/**
 * Sweeps the ranges over `[from, to]` and returns every maximal segment with constant
 * coverage. A sweep instead of a per-number map keeps a 10,000-ID reservation cheap.
 */
export function coverage(ranges: readonly TaggedRange[], from: number, to: number): CoverageSegment[] {
  // Boundary events: a range opens at max(first, from) and closes after min(last, to).
  const opens = new Map<number, TaggedRange[]>();
  const closes = new Map<number, TaggedRange[]>();
  const points = new Set<number>([from, to + 1]);
  for (const r of ranges) {
    if (r.last < from || r.first > to) continue;
    const a = Math.max(r.first, from);
    const b = Math.min(r.last, to) + 1;
    (opens.get(a) ?? opens.set(a, []).get(a))?.push(r);
    (closes.get(b) ?? closes.set(b, []).get(b))?.push(r);
    points.add(a);
    points.add(b);
  }
  const sorted = [...points].sort((a, b) => a - b);
  const active = new Set<TaggedRange>();
  const out: CoverageSegment[] = [];
  for (let i = 0; i + 1 < sorted.length; i++) {
    const first = sorted[i] as number;
    for (const r of closes.get(first) ?? []) active.delete(r);
    for (const r of opens.get(first) ?? []) active.add(r);
    const last = (sorted[i + 1] as number) - 1;
    if (first > to || last < from) continue;
    const owners = [...active].map((r) => r.owner).sort(ownerOrder);
    const prev = out[out.length - 1];
    if (prev && prev.last + 1 === first && prev.depth === owners.length && sameOwners(prev.owners, owners)) prev.last = last;
    else out.push({ first, last, depth: owners.length, owners });
  }
  return out;
}

// Non-negative owners (history indexes) first, ascending; negative ones (other evidence) after.
function ownerOrder(a: number, b: number): number {
  return Number(a < 0) - Number(b < 0) || (a >= 0 ? a - b : b - a);
}

function sameOwners(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Number of integers in a range. */
export function size(r: NumberRange): number {
  return r.last - r.first + 1;
}

/**
 * Picks items whose `count`s sum exactly to `target` (subset sum with reconstruction), or
 * `undefined` when none do. Used to ask whether a hole in a sequence is exactly what some
 * unresolved operations would have taken.
 */
export function exactCover<T extends { count: number }>(items: readonly T[], target: number): T[] | undefined {
  if (target === 0) return [];
  if (target > items.reduce((s, i) => s + i.count, 0)) return undefined;
  // from[s] = index of the item that first reached sum s, -1 = unreached.
  const from = new Int32Array(target + 1).fill(-1);
  const prevSum = new Int32Array(target + 1).fill(-1);
  from[0] = items.length;
  for (let i = 0; i < items.length; i++) {
    const c = (items[i] as T).count;
    for (let s = target; s >= c; s--) {
      if (from[s] === -1 && from[s - c] !== -1 && from[s - c] !== i) {
        from[s] = i;
        prevSum[s] = s - c;
      }
    }
    if (from[target] !== -1) break;
  }
  if (from[target] === -1) return undefined;
  const picked: T[] = [];
  for (let s = target; s > 0; s = prevSum[s] as number) picked.push(items[from[s] as number] as T);
  return picked;
}
