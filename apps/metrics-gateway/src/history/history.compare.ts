import { compareFigures, DEFAULT_FIGURES, type FigureValues } from '@crucible/baseline';
import type { BaselineComparison } from '@crucible/contracts';

/** One per-second point as the compare query reads it. */
export interface ComparedPoint {
  scenario: string;
  requests: string | number;
  errors: string | number;
  rps: number;
  p50_ms: number | null;
  p95_ms: number | null;
  p99_ms: number | null;
}

/** A scenario summary of a run with no points stored (it sent only its run_end). */
export interface ComparedSummary {
  scenario: string;
  error_rate: number;
  rps: number;
  p50_ms: number | null;
  p95_ms: number | null;
  p99_ms: number | null;
}

const push = (row: Record<string, number[]>, figure: string, v: number | null) => {
  if (v !== null && Number.isFinite(v)) (row[figure] ??= []).push(v);
};

/**
 * A run's figures as repeated measurements: each second of a scenario is one value of each
 * figure (the reports' figure names), so the comparison's MAD and bootstrap see the run's own
 * second-to-second noise. A scenario with no points gives its summary, one value a figure.
 */
export function runFigures(points: readonly ComparedPoint[], summaries: readonly ComparedSummary[]): FigureValues {
  const out: FigureValues = {};
  for (const p of points) {
    const row = (out[p.scenario] ??= {});
    push(row, 'latency_ms.p50', p.p50_ms);
    push(row, 'latency_ms.p95', p.p95_ms);
    push(row, 'latency_ms.p99', p.p99_ms);
    push(row, 'rps.achieved', p.rps);
    const requests = Number(p.requests);
    // A second without requests has no error rate (not a zero one).
    if (requests > 0) push(row, 'error_rate', Number(p.errors) / requests);
  }
  for (const s of summaries) {
    if (out[s.scenario]) continue;
    const row = (out[s.scenario] = {});
    push(row, 'latency_ms.p50', s.p50_ms);
    push(row, 'latency_ms.p95', s.p95_ms);
    push(row, 'latency_ms.p99', s.p99_ms);
    push(row, 'rps.achieved', s.rps);
    push(row, 'error_rate', s.error_rate);
  }
  return out;
}

/**
 * `run` compared with `base` by the reports' noise-aware rule (`compareFigures` of
 * @crucible/baseline, the same code `crucible compare` runs), figure by figure per scenario.
 */
export function compareRuns(base: FigureValues, run: FigureValues): Pick<BaselineComparison, 'figures' | 'regressed' | 'unjudged' | 'method'> {
  return compareFigures(base, run, DEFAULT_FIGURES);
}
