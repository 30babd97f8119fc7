import type { Verdict } from '@crucible/contracts';

/** Median of a non-empty list (mean of the middle two for an even length). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of an empty list');
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** A set of repeated measurements summarised: median, min, max, and spread relative to the median. */
export interface Spread {
  runs: number[];
  median: number;
  min: number;
  max: number;
  /** (max − min) / median: how far apart repeated runs landed. */
  relative: number;
}

/** Summarises repeated runs of one measurement. */
export function spreadOf(runs: readonly number[]): Spread {
  const m = median(runs);
  const min = Math.min(...runs);
  const max = Math.max(...runs);
  return { runs: [...runs], median: m, min, max, relative: m === 0 ? 0 : (max - min) / m };
}

/** Options of `compareDegradation`. */
export interface DegradationOptions {
  /** What is compared, for the verdict (`p99 latency (ms)`). */
  metric: string;
  /** Largest acceptable relative increase of the median, e.g. 0.10 for 10 %. */
  bound: number;
  /**
   * Differences of the medians at or below this absolute amount are noise, whatever their
   * relative size (e.g. 2 ms: the scheduling jitter of a shared 2-core machine), default 0.
   */
  noiseFloor?: number;
  /** Lower is better (latency, the default) or higher is better (throughput). */
  direction?: 'lower-is-better' | 'higher-is-better';
}

/** The comparison and its verdict. */
export interface Degradation {
  baseline: Spread;
  candidate: Spread;
  /** Relative change of the median in the bad direction (0.12 = 12 % worse; negative = better). */
  change: number;
  /** Absolute difference of the medians in the bad direction. */
  absolute: number;
  verdict: Verdict;
}

/**
 * Compares two sets of repeated measurements (e.g. p99 latency of three 1-project runs and
 * three 5-project runs) by their medians and states whether the candidate is worse than the
 * baseline by more than `bound`, given the spread of the runs:
 *
 * - `pass`: the median got worse by at most `bound`, or by no more than `noiseFloor`;
 * - `fail`: it got worse by more than `bound`, and so did even the best candidate run
 *   against the worst baseline run (the spread cannot explain it);
 * - `indeterminate`: the median is past the bound but the runs overlap that much.
 *
 * @example
 * compareDegradation([4.1, 4.3, 4.0], [4.4, 4.2, 4.5], { metric: 'p99 ms', bound: 0.1 }).verdict.status; // 'pass'
 */
export function compareDegradation(baselineRuns: readonly number[], candidateRuns: readonly number[], options: DegradationOptions): Degradation {
  const baseline = spreadOf(baselineRuns);
  const candidate = spreadOf(candidateRuns);
  const sign = options.direction === 'higher-is-better' ? -1 : 1;
  const absolute = sign * (candidate.median - baseline.median);
  const change = baseline.median === 0 ? (absolute > 0 ? Infinity : 0) : absolute / baseline.median;
  const floor = options.noiseFloor ?? 0;
  // The most favourable pairing: best candidate run against worst baseline run.
  const bestCandidate = sign > 0 ? candidate.min : candidate.max;
  const worstBaseline = sign > 0 ? baseline.max : baseline.min;
  const bestCaseAbs = sign * (bestCandidate - worstBaseline);
  const bestCaseChange = worstBaseline === 0 ? (bestCaseAbs > 0 ? Infinity : 0) : bestCaseAbs / worstBaseline;
  const within = change <= options.bound || absolute <= floor;
  const status = within ? 'pass' : bestCaseChange > options.bound && bestCaseAbs > floor ? 'fail' : 'indeterminate';
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const fmt = (s: Spread) => `median ${s.median.toFixed(2)} (runs ${s.runs.map((r) => r.toFixed(2)).join(', ')}; spread ${pct(s.relative)})`;
  const summary =
    `${options.metric}: baseline ${fmt(baseline)}, candidate ${fmt(candidate)}: ${change >= 0 ? 'worse' : 'better'} by ${pct(Math.abs(change))} ` +
    (status === 'pass'
      ? absolute <= floor && change > options.bound
        ? `(${Math.abs(absolute).toFixed(2)} ≤ noise floor ${floor})`
        : `(bound ${pct(options.bound)})`
      : status === 'fail'
        ? `: past the ${pct(options.bound)} bound even run against run`
        : `: past the ${pct(options.bound)} bound on the medians but within the runs' spread`);
  return {
    baseline,
    candidate,
    change,
    absolute,
    verdict: {
      checker: 'degradation',
      status,
      summary,
      counts: {
        baseline_median: baseline.median,
        candidate_median: candidate.median,
        change,
        bound: options.bound,
        baseline_spread: baseline.relative,
        candidate_spread: candidate.relative,
        best_case_change: bestCaseChange,
        noise_floor: floor,
      },
      examples: [{ baseline_runs: baseline.runs, candidate_runs: candidate.runs }],
    },
  };
}
