import { readFile, mkdir, writeFile } from 'node:fs/promises';
import { InstrumentError, mad, median } from '@crucible/instrument-kit';
import path from 'node:path';
import { baselineSchema, type Baseline, type BaselineComparison, type FigureComparison, type RunReport } from '@crucible/contracts';
import { currentCommit } from './metadata.js';

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
export function collectFigures(runs: readonly RunReport[], figures: readonly FigureSpec[] = DEFAULT_FIGURES): Baseline['figures'] {
  const out: Baseline['figures'] = {};
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

/** A baseline from one or more (repeated) runs of a suite. */
export function createBaseline(runs: readonly RunReport[], id?: string): Baseline {
  const first = runs[0];
  if (!first) throw new InstrumentError('baseline_invalid', 'a baseline needs at least one run report');
  return {
    schema_version: 1,
    id: id ?? `${first.run.suite}@${first.run.commit ?? currentCommit() ?? 'unknown'}`,
    created_at: new Date().toISOString(),
    commit: first.run.commit,
    suite: first.run.suite,
    runs: runs.length,
    figures: collectFigures(runs),
  };
}

/** Writes a baseline file (creating its directory). */
export async function saveBaseline(baseline: Baseline, file: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, JSON.stringify(baselineSchema.parse(baseline), null, 2) + '\n');
}

/** Reads and validates a baseline file. */
export async function loadBaseline(file: string): Promise<Baseline> {
  return baselineSchema.parse(JSON.parse(await readFile(file, 'utf8')));
}

/**
 * Compares repeated current runs with a baseline, figure by figure. A change counts as a
 * regression only if it is worse by more than the tolerance — the largest of the figure's
 * relative floor, its absolute floor and 3 × the runs' MAD — and, when both sides have at
 * least 3 runs, the 95 % bootstrap interval of the median difference excludes zero.
 */
export function compareWithBaseline(baseline: Baseline, current: readonly RunReport[], figures: readonly FigureSpec[] = DEFAULT_FIGURES): BaselineComparison {
  const now = collectFigures(current, figures);
  const results: FigureComparison[] = [];
  const unjudged: BaselineComparison['unjudged'] = [];
  for (const [scenario, row] of Object.entries(now)) {
    const base = baseline.figures[scenario];
    if (!base) continue;
    for (const spec of figures) {
      const b = base[spec.figure];
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
  return {
    baseline_id: baseline.id,
    baseline_runs: baseline.runs,
    current_runs: current.length,
    method: 'medians of repeated runs; tolerance = max(relative floor, absolute floor, 3×MAD); with ≥3 runs each side the 95% bootstrap CI must exclude 0',
    figures: results,
    regressed: results.some((r) => r.regressed),
    unjudged,
  };
}

/** The report (the last of the current runs, typically) with the comparison attached. */
export function withComparison(report: RunReport, comparison: BaselineComparison): RunReport {
  return { ...report, comparison };
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
