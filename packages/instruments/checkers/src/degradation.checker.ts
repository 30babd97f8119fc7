import type { Verdict } from '@crucible/contracts';
import { median } from '@crucible/instrument-kit';

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
  /** Largest acceptable relative increase, e.g. 0.10 for 10 %. */
  bound: number;
  /**
   * Most the noise floor may be, relative to the baseline median (default 0.025). The floor
   * itself is measured: the median absolute deviation of the baseline runs, i.e. how far
   * repeating the same measurement moved it. Capped so that noise can never hide more than a
   * quarter of a 10 % bound (a 5 ms floor on a 6 ms p99 hid +80 %).
   */
  noiseFloorCap?: number;
  /** Lower is better (latency, the default) or higher is better (throughput). */
  direction?: 'lower-is-better' | 'higher-is-better';
  /**
   * Why pair `i` cannot be judged (e.g. its load generator was starved), or undefined to keep
   * it. Left-out pairs count for nothing either way.
   */
  leaveOut?: readonly (string | undefined)[];
  /** Fewest pairs kept for a `pass` or `fail` (default 3); with fewer the verdict is `indeterminate`. */
  minPairs?: number;
}

/** The comparison and its verdict. */
export interface Degradation {
  baseline: Spread;
  candidate: Spread;
  /** Each interleaved pair's relative change in the bad direction (0.12 = 12 % worse). */
  pairChanges: number[];
  /** Relative change of the medians in the bad direction: the change the verdict judges. */
  change: number;
  /** Absolute difference of the medians in the bad direction. */
  absolute: number;
  /** Differences at or below this are noise: measured from the baseline runs, capped. */
  noiseFloor: number;
  verdict: Verdict;
}

const relative = (worse: number, base: number) => (base === 0 ? (worse > 0 ? Infinity : 0) : worse / base);

/**
 * Compares two sets of repeated, interleaved measurements (e.g. p99 latency of five 1-project
 * runs and five 5-project runs, run in pairs one after the other) and states whether the
 * candidate is worse than the baseline by more than `bound`. Runs are paired by index, so
 * load that drifts over the measurement hits both sides of a pair alike. The change judged
 * is that of the medians (each side's median of n runs is steadier than a median of n
 * ratios, which carries the noise of both sides); a failure must also show pair by pair.
 *
 * - `pass`: the medians' change is at most `bound`, or the difference is within the noise floor
 *   (measured from the baseline runs' spread, at most `noiseFloorCap` of the baseline);
 * - `fail`: past the bound, and so is every pair (or every pair but one, from five pairs up:
 *   one run hit by a hiccup cannot decide either way);
 * - `indeterminate`: past the bound on the median, but too few pairs agree.
 *
 * @example
 * compareDegradation([4.1, 4.3, 4.0], [4.4, 4.2, 4.1], { metric: 'p99 ms', bound: 0.1 }).verdict.status; // 'pass'
 */
export function compareDegradation(baselineRuns: readonly number[], candidateRuns: readonly number[], options: DegradationOptions): Degradation {
  if (baselineRuns.length !== candidateRuns.length) throw new Error(`compareDegradation pairs runs: ${baselineRuns.length} baseline runs against ${candidateRuns.length} candidate runs`);
  const kept = baselineRuns.map((_, i) => i).filter((i) => options.leaveOut?.[i] === undefined);
  const left = baselineRuns.map((_, i) => i).filter((i) => options.leaveOut?.[i] !== undefined);
  const minPairs = options.minPairs ?? 3;
  const base = kept.map((i) => baselineRuns[i] as number);
  const cand = kept.map((i) => candidateRuns[i] as number);
  const baseline = spreadOf(base.length ? base : baselineRuns);
  const candidate = spreadOf(cand.length ? cand : candidateRuns);
  const sign = options.direction === 'higher-is-better' ? -1 : 1;
  const diffs = base.map((b, i) => sign * ((cand[i] as number) - b));
  const pairChanges = diffs.map((d, i) => relative(d, base[i] as number));
  const absolute = sign * (candidate.median - baseline.median);
  const change = relative(absolute, baseline.median);
  const cap = options.noiseFloorCap ?? 0.025;
  const deviation = median(base.length ? base.map((b) => Math.abs(b - baseline.median)) : [0]);
  const noiseFloor = Math.min(deviation, cap * baseline.median);
  const pairsPast = pairChanges.filter((c) => c > options.bound).length;
  const needed = pairChanges.length >= 5 ? pairChanges.length - 1 : pairChanges.length;
  const within = change <= options.bound || absolute <= noiseFloor;
  const enough = kept.length >= minPairs;
  const status = !enough ? 'indeterminate' : within ? 'pass' : pairsPast >= needed ? 'fail' : 'indeterminate';
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const fmt = (s: Spread) => `median ${s.median.toFixed(2)} (runs ${s.runs.map((r) => r.toFixed(2)).join(', ')}; spread ${pct(s.relative)})`;
  const pairs = `${pairsPast} of ${pairChanges.length} interleaved pairs past it`;
  const leftOut = left.map((i) => `pair ${i + 1}: ${options.leaveOut?.[i] ?? ''}`).join('; ');
  const summary = !enough
    ? `${options.metric}: only ${kept.length} of ${baselineRuns.length} pairs can be judged (${minPairs} needed): ${leftOut}`
    : `${options.metric}: baseline ${fmt(baseline)}, candidate ${fmt(candidate)}: ${change >= 0 ? 'worse' : 'better'} by ${pct(Math.abs(change))} ` +
    (status === 'pass'
      ? change > options.bound
        ? `(${absolute.toFixed(2)} ≤ noise floor ${noiseFloor.toFixed(2)})`
        : `(bound ${pct(options.bound)})`
      : status === 'fail'
        ? `: past the ${pct(options.bound)} bound, ${pairs}`
        : `: past the ${pct(options.bound)} bound on the median, but only ${pairs} (${needed} needed to fail)`) +
      (left.length ? `; left out ${leftOut}` : '');
  return {
    baseline,
    candidate,
    pairChanges,
    change,
    absolute,
    noiseFloor,
    verdict: {
      checker: 'degradation',
      status,
      summary,
      counts: {
        baseline_median: baseline.median,
        candidate_median: candidate.median,
        change,
        bound: options.bound,
        pairs: pairChanges.length,
        pairs_left_out: left.length,
        pairs_past_bound: pairsPast,
        pairs_needed_to_fail: needed,
        baseline_spread: baseline.relative,
        candidate_spread: candidate.relative,
        noise_floor: noiseFloor,
        noise_floor_cap: cap,
      },
      examples: [{ baseline_runs: baseline.runs, candidate_runs: candidate.runs, pair_changes: pairChanges, ...(left.length ? { left_out: leftOut } : {}) }],
    },
  };
}

/**
 * One verdict from several comparisons of the same runs (e.g. the median and the tail):
 * `fail` when any part fails, `pass` when every part passes, else `indeterminate`. Each
 * part's counts are kept under its `key` (`p50.change`, `p99.change` …).
 *
 * @example
 * combineDegradations('degradation', { p50: compareDegradation(…), p99: compareDegradation(…) });
 */
export function combineDegradations(checker: string, parts: Readonly<Record<string, Degradation>>): Verdict {
  const entries = Object.entries(parts);
  const statuses = entries.map(([, d]) => d.verdict.status);
  const status = statuses.includes('fail') ? 'fail' : statuses.every((s) => s === 'pass') ? 'pass' : 'indeterminate';
  return {
    checker,
    status,
    summary: entries.map(([key, d]) => `${key} ${d.verdict.status}: ${d.verdict.summary}`).join(' | '),
    counts: Object.fromEntries(entries.flatMap(([key, d]) => Object.entries(d.verdict.counts).map(([k, v]) => [`${key}.${k}`, v]))),
    examples: entries.flatMap(([key, d]) => d.verdict.examples.map((example) => ({ part: key, example }))),
  };
}
