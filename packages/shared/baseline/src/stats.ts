// The order statistics every Crucible comparison summarises repeated measurements with: the bench gate
// (median and MAD of tinybench samples), the baseline comparison (median and scaled MAD of
// rounds) and the degradation checker (median of interleaved pairs). Written once, here.

/** Scales a MAD to a standard-deviation estimate that outliers do not inflate (normal consistency). */
export const madToSigma = 1.4826;

/**
 * Linear-interpolated quantile of ascending `sorted` (q in 0..1); NaN for an empty list.
 *
 * @example
 * quantile([1, 2, 3, 4], 0.5) // 2.5
 */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo] as number;
  const b = sorted[hi] as number;
  return a + (b - a) * (pos - lo);
}

/**
 * Median of a non-empty list (the mean of the middle two for an even length); throws on an
 * empty one, where a median would be a made-up number.
 */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of an empty list');
  return quantile([...values].sort((a, b) => a - b), 0.5);
}

/** Median absolute deviation scaled to estimate a standard deviation (× {@link madToSigma}); 0 under two values. */
export function mad(values: readonly number[]): number {
  if (values.length < 2) return 0;
  const m = median(values);
  return madToSigma * median(values.map((v) => Math.abs(v - m)));
}
