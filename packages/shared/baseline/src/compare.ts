import type { Baseline, BaselineComparison, FigureComparison, RunReport } from '@crucible/contracts';
import { mad, median } from './stats.js';

/** A figure compared between runs, and which direction is worse. */
export interface FigureSpec {
  readonly figure: string;
  readonly worseWhen: 'higher' | 'lower';
  /** Smallest relative change that can count (default 10 %). */
  readonly relative?: number;
  /** Smallest absolute change that can count, in the figure's unit. */
  readonly absolute?: number;
  readonly read: (s: RunReport['scenarios'][number]) => number | null;
}

/** The figures compared by default. */
export const DEFAULT_FIGURES: readonly FigureSpec[] = [
  { figure: 'latency_ms.p50', worseWhen: 'higher', relative: 0.1, absolute: 0.5, read: (s) => s.latency_ms?.p50 ?? null },
  { figure: 'latency_ms.p95', worseWhen: 'higher', relative: 0.1, absolute: 1, read: (s) => s.latency_ms?.p95 ?? null },
  { figure: 'latency_ms.p99', worseWhen: 'higher', relative: 0.15, absolute: 2, read: (s) => s.latency_ms?.p99 ?? null },
  { figure: 'rps.achieved', worseWhen: 'lower', relative: 0.1, absolute: 1, read: (s) => s.rps.achieved },
  { figure: 'error_rate', worseWhen: 'higher', relative: 0, absolute: 0.005, read: (s) => s.error_rate },
];

/** Scenario → figure → the values of repeated measurements (runs, or seconds of one run). */
export type FigureValues = Baseline['figures'];

/** A small seeded PRNG (mulberry32) so a comparison is reproducible. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** 95 % bootstrap interval of median(b) − median(a), seeded. */
export function bootstrapMedianDiff(a: readonly number[], b: readonly number[], resamples = 2000, seed = 42): [number, number] {
  const next = rng(seed);
  const pick = (xs: readonly number[]): number[] => xs.map(() => xs[Math.floor(next() * xs.length)] as number);
  const diffs: number[] = [];
  for (let i = 0; i < resamples; i++) diffs.push(median(pick(b)) - median(pick(a)));
  diffs.sort((x, y) => x - y);
  return [diffs[Math.floor(resamples * 0.025)] as number, diffs[Math.ceil(resamples * 0.975) - 1] as number];
}

/**
 * Collects the figures of repeated runs of the same suite: scenario → figure → values. A
 * scenario whose load generator was starved gives only its `error_rate`.
 */
export function collectFigures(runs: readonly RunReport[], figures: readonly FigureSpec[] = DEFAULT_FIGURES): FigureValues {
  const out: FigureValues = {};
  for (const run of runs) {
    for (const s of run.scenarios) {
      const key = s.source ? `${s.source} › ${s.name}` : s.name;
      const row = (out[key] ??= {});
      for (const f of figures) {
        // A starved generator's timing figures measured the generator: neither a baseline nor a comparison.
        if (s.generator?.starved && f.figure !== 'error_rate') continue;
        const v = f.read(s);
        if (v !== null && Number.isFinite(v)) (row[f.figure] ??= []).push(v);
      }
    }
  }
  return out;
}

/** How the comparison decides, as every comparison reports it. */
export const COMPARISON_METHOD = 'medians of repeated runs; tolerance = max(relative floor, absolute floor, 3×MAD); with ≥3 runs each side the 95% bootstrap CI must exclude 0';

/**
 * The comparison itself, on collected values: figure by figure, a change counts as a
 * regression only if it is worse by more than the tolerance — the largest of the figure's
 * relative floor, its absolute floor and 3 × the MAD of either side — and, when both sides
 * have at least 3 values, the 95 % bootstrap interval of the median difference excludes zero.
 * Only the specs' `figure`, `worseWhen` and floors are read (their `read` is for collecting).
 *
 * @example
 * compareFigures({ checkout: { error_rate: [0, 0, 0] } }, { checkout: { error_rate: [0.1, 0.1, 0.1] } }).regressed // true
 */
export function compareFigures(base: FigureValues, now: FigureValues, figures: readonly Pick<FigureSpec, 'figure' | 'worseWhen' | 'relative' | 'absolute'>[] = DEFAULT_FIGURES): Pick<BaselineComparison, 'figures' | 'regressed' | 'unjudged' | 'method'> {
  const results: FigureComparison[] = [];
  const unjudged: BaselineComparison['unjudged'] = [];
  for (const [scenario, row] of Object.entries(now)) {
    const baseRow = base[scenario];
    if (!baseRow) continue;
    for (const spec of figures) {
      const b = baseRow[spec.figure];
      const c = row[spec.figure];
      // One side measured it, the other could not (a starved generator leaves timing figures out): never a silent pass.
      if (!b?.length && c?.length) unjudged.push({ scenario, figure: spec.figure, why: "the baseline has no value for it (its runs' load generator was starved)" });
      if (b?.length && !c?.length) unjudged.push({ scenario, figure: spec.figure, why: "this run has no value for it (its load generator was starved)" });
      if (!b?.length || !c?.length) continue;
      const mb = median(b);
      const mc = median(c);
      const sign = spec.worseWhen === 'higher' ? 1 : -1;
      const worseBy = sign * (mc - mb);
      const tolerance = Math.max((spec.relative ?? 0.1) * Math.abs(mb), spec.absolute ?? 0, 3 * Math.max(mad(b), mad(c)));
      let regressed = worseBy > tolerance;
      let note: string | undefined;
      if (b.length >= 3 && c.length >= 3) {
        const [lo, hi] = bootstrapMedianDiff(b, c);
        const worseLo = spec.worseWhen === 'higher' ? lo : -hi;
        note = `95% bootstrap CI of median change [${round(lo)}, ${round(hi)}]`;
        regressed = regressed && worseLo > 0;
      }
      results.push({
        scenario,
        figure: spec.figure,
        worse_when: spec.worseWhen,
        baseline: round(mb),
        current: round(mc),
        tolerance: round(tolerance),
        change_pct: mb === 0 ? null : round(((mc - mb) / Math.abs(mb)) * 100),
        regressed,
        ...(note ? { note } : {}),
      });
    }
  }
  return { method: COMPARISON_METHOD, figures: results, regressed: results.some((r) => r.regressed), unjudged };
}

/** Compares repeated current runs with a baseline (see {@link compareFigures}). */
export function compareWithBaseline(baseline: Baseline, current: readonly RunReport[], figures: readonly FigureSpec[] = DEFAULT_FIGURES): BaselineComparison {
  const { method, figures: results, regressed, unjudged } = compareFigures(baseline.figures, collectFigures(current, figures), figures);
  return { baseline_id: baseline.id, baseline_runs: baseline.runs, current_runs: current.length, method, figures: results, regressed, unjudged };
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
