import { quantile } from '@crucible/instrument-kit';

/** Summary of one task's latency samples, in milliseconds. */
export interface TaskStats {
  /** Number of samples (iterations measured). */
  readonly samples: number;
  readonly median_ms: number;
  /** Median absolute deviation of the samples (unscaled). */
  readonly mad_ms: number;
  readonly mean_ms: number;
  readonly sd_ms: number;
  readonly min_ms: number;
  readonly max_ms: number;
  readonly p75_ms: number;
  readonly p90_ms: number;
  readonly p95_ms: number;
  readonly p99_ms: number;
  readonly p999_ms: number;
  /** Operations per second at the median latency. */
  readonly ops_per_s: number;
}

/**
 * Summarises latency samples (ms). The median and the MAD are the figures baselines are
 * compared on: one preempted iteration on a shared machine moves the mean, not them.
 *
 * @example
 * summarise([1.0, 1.1, 0.9, 5.0]).median_ms // 1.05
 */
export function summarise(samples: readonly number[]): TaskStats {
  if (samples.length === 0) throw new Error('summarise: no samples');
  const sorted = [...samples].sort((a, b) => a - b);
  const n = sorted.length;
  const median = quantile(sorted, 0.5);
  const deviations = sorted.map((s) => Math.abs(s - median)).sort((a, b) => a - b);
  const mean = sorted.reduce((sum, s) => sum + s, 0) / n;
  const variance = n > 1 ? sorted.reduce((sum, s) => sum + (s - mean) ** 2, 0) / (n - 1) : 0;
  return {
    samples: n,
    median_ms: median,
    mad_ms: quantile(deviations, 0.5),
    mean_ms: mean,
    sd_ms: Math.sqrt(variance),
    min_ms: sorted[0] as number,
    max_ms: sorted[n - 1] as number,
    p75_ms: quantile(sorted, 0.75),
    p90_ms: quantile(sorted, 0.9),
    p95_ms: quantile(sorted, 0.95),
    p99_ms: quantile(sorted, 0.99),
    p999_ms: quantile(sorted, 0.999),
    ops_per_s: median > 0 ? 1000 / median : Number.POSITIVE_INFINITY,
  };
}
