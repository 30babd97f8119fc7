import { InstrumentError } from '@crucible/instrument-kit';

/**
 * An execution segment, as k6 has them: the part `[start, end)` of a scenario one process
 * (or worker, or machine) runs. Segments `0:1/3`, `1/3:2/3`, `2/3:1` split one scenario over
 * three processes so that the union of their iterations is exactly the single run's.
 */
export interface ExecutionSegment {
  readonly start: number;
  readonly end: number;
  /** As written, e.g. `1/3:2/3`. */
  readonly label: string;
}

function fraction(text: string, whole: string): number {
  const t = text.trim();
  const m = /^(\d+)\/(\d+)$/.exec(t);
  const v = m ? Number(m[1]) / Number(m[2]) : Number(t);
  if (t === '' || !Number.isFinite(v) || v < 0 || v > 1) throw new InstrumentError('bad_argument', `execution segment "${whole}" is not valid: "${t}" must be a fraction within 0..1 (e.g. 1/3)`);
  return v;
}

/** Parses `start:end` (fractions `1/3` or decimals); the default `0:1` is the whole scenario. */
export function parseSegment(text = '0:1'): ExecutionSegment {
  const parts = text.split(':');
  if (parts.length !== 2) throw new InstrumentError('bad_argument', `execution segment "${text}" is not valid: expected start:end, e.g. 0:1/3`);
  const start = fraction(parts[0] as string, text);
  const end = fraction(parts[1] as string, text);
  if (end <= start) throw new InstrumentError('bad_argument', `execution segment "${text}" is not valid: end must be greater than start`);
  return { start, end, label: text };
}

/** `n` contiguous segments covering `0:1`: `['0:1/3', '1/3:2/3', '2/3:1']` for 3. */
export function splitSegments(n: number): string[] {
  if (!Number.isInteger(n) || n < 1) throw new InstrumentError('bad_argument', `cannot split into ${n} segments`);
  const f = (i: number): string => (i === 0 ? '0' : i === n ? '1' : `${i}/${n}`);
  return Array.from({ length: n }, (_, i) => `${f(i)}:${f(i + 1)}`);
}

const GOLDEN = 0.6180339887498949;

/**
 * Whether iteration `index` of an open-ended sequence belongs to the segment. Each index maps
 * to the point frac(index × φ⁻¹) (a low-discrepancy sequence), so every index belongs to exactly
 * one segment of a partition and each segment's iterations are spread evenly over time.
 */
export function ownsIndex(segment: ExecutionSegment, index: number): boolean {
  if (segment.start === 0 && segment.end === 1) return true;
  const x = (index * GOLDEN) % 1;
  return x >= segment.start && (x < segment.end || segment.end === 1);
}

/** The contiguous share `[from, to)` of `total` items a segment owns (exact partition by floor). */
export function indexRange(segment: ExecutionSegment, total: number): [number, number] {
  return [Math.floor(segment.start * total + 1e-9), Math.floor(segment.end * total + 1e-9)];
}

/** `ceil(n × (end − start))`, at least 1: a segment's share of a VU budget. */
export function scaleVus(segment: ExecutionSegment, n: number): number {
  return Math.max(1, Math.ceil(n * (segment.end - segment.start) - 1e-9));
}
