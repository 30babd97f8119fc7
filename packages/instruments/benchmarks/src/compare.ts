import { madToSigma } from '@crucible/instrument-kit';
import type { TaskStats } from './stats.js';

/** How a task compares with its baseline. */
export type BenchVerdict = 'regressed' | 'improved' | 'unchanged' | 'new' | 'missing' | 'inconclusive';

/** The knobs of the regression rule. */
export interface CompareOptions {
  /** Relative change of the median that matters at all (0.25 = 25 %). */
  readonly tolerance: number;
  /**
   * How many combined robust standard deviations of the samples a change must exceed
   * (default 1): a shift smaller than the run-to-run spread is noise, however large in %.
   */
  readonly noiseFactor?: number;
  /** Fewer samples than this on either side gives `inconclusive` (default 10). */
  readonly minSamples?: number;
}

/** The comparison of one task. */
export interface TaskComparison {
  readonly name: string;
  readonly verdict: BenchVerdict;
  readonly baseline_median_ms: number | null;
  readonly current_median_ms: number | null;
  /** current − baseline median; positive means slower. */
  readonly delta_ms: number | null;
  /** delta / baseline median. */
  readonly delta_ratio: number | null;
  /** The noise band the delta had to leave: noiseFactor × √(σ_base² + σ_current²), σ = 1.4826 × MAD. */
  readonly noise_ms: number | null;
  readonly tolerance: number;
  /** One line a person reads: why this verdict. */
  readonly reason: string;
}

const pct = (r: number) => `${(r * 100).toFixed(1)} %`;
const ms = (v: number) => (v >= 1 ? `${v.toFixed(3)} ms` : `${(v * 1000).toFixed(2)} µs`);

/**
 * Compares one task's current samples with its baseline. A change counts only when the
 * median moved by more than the relative `tolerance` AND by more than the noise band made
 * from both sides' spread (robust σ from the MAD). Either alone is not enough: a 30 % move
 * inside a wide spread is noise, and a tiny but "significant" move is not worth failing on.
 *
 * @example
 * compareTask('render', base, current, { tolerance: 0.25 }).verdict // 'regressed' | 'unchanged' | …
 */
export function compareTask(name: string, baseline: TaskStats | undefined, current: TaskStats | undefined, options: CompareOptions): TaskComparison {
  const { tolerance } = options;
  const noiseFactor = options.noiseFactor ?? 1;
  const minSamples = options.minSamples ?? 10;
  const empty = { baseline_median_ms: baseline?.median_ms ?? null, current_median_ms: current?.median_ms ?? null, delta_ms: null, delta_ratio: null, noise_ms: null, tolerance };
  if (!current) return { name, verdict: 'missing', ...empty, reason: 'in the baseline but not measured in this run' };
  if (!baseline) return { name, verdict: 'new', ...empty, reason: 'no baseline for this task yet' };

  const delta = current.median_ms - baseline.median_ms;
  const ratio = baseline.median_ms > 0 ? delta / baseline.median_ms : delta > 0 ? Number.POSITIVE_INFINITY : 0;
  const sigmaB = madToSigma * baseline.mad_ms;
  const sigmaC = madToSigma * current.mad_ms;
  const noise = noiseFactor * Math.sqrt(sigmaB ** 2 + sigmaC ** 2);
  const figures = { baseline_median_ms: baseline.median_ms, current_median_ms: current.median_ms, delta_ms: delta, delta_ratio: ratio, noise_ms: noise, tolerance };

  if (baseline.samples < minSamples || current.samples < minSamples) {
    return { name, verdict: 'inconclusive', ...figures, reason: `too few samples (${baseline.samples} / ${current.samples}, need ${minSamples})` };
  }
  const beyondTolerance = Math.abs(ratio) > tolerance;
  const beyondNoise = Math.abs(delta) > noise;
  const move = `median ${ms(baseline.median_ms)} → ${ms(current.median_ms)} (${ratio >= 0 ? '+' : ''}${pct(ratio)})`;
  if (beyondTolerance && beyondNoise) {
    return {
      name,
      verdict: delta > 0 ? 'regressed' : 'improved',
      ...figures,
      reason: `${move}: beyond the ${pct(tolerance)} tolerance and the ±${ms(noise)} noise band`,
    };
  }
  const why = !beyondTolerance ? `within the ${pct(tolerance)} tolerance` : `within the ±${ms(noise)} noise band of the samples`;
  return { name, verdict: 'unchanged', ...figures, reason: `${move}: ${why}` };
}

/**
 * Compares every task of a run with a baseline (tasks on either side only are `new` or
 * `missing`). `toleranceFor` lets a task have its own tolerance.
 */
export function compareRuns(
  baseline: Readonly<Record<string, TaskStats>>,
  current: Readonly<Record<string, TaskStats>>,
  options: CompareOptions & { toleranceFor?: (task: string) => number | undefined },
): TaskComparison[] {
  const names = [...new Set([...Object.keys(current), ...Object.keys(baseline)])];
  return names.map((name) => compareTask(name, baseline[name], current[name], { ...options, tolerance: options.toleranceFor?.(name) ?? options.tolerance }));
}

/** True when any comparison is a regression. */
export function hasRegression(comparisons: readonly TaskComparison[]): boolean {
  return comparisons.some((c) => c.verdict === 'regressed');
}
