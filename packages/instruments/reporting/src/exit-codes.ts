import type { RunReport } from '@crucible/contracts';
import { runStatus } from './thresholds.js';

/**
 * Process exit codes of every Crucible suite and of the reporting CLI, so CI can tell
 * what went wrong without reading logs.
 */
export const EXIT = Object.freeze({
  /** Every threshold and verdict passed (and no regression, when compared). */
  ok: 0,
  /** A threshold or a correctness verdict failed. */
  failed: 1,
  /** The run crashed (an exception, a system that never came up): no trustworthy result. */
  crash: 2,
  /** Thresholds passed but a figure regressed against the baseline. */
  regression: 3,
  /**
   * Nothing failed, but a latency or throughput threshold is inconclusive: the load generator
   * was starved (still after the suite's one re-run), so its figures say nothing about the system.
   */
  inconclusive: 4,
});

/**
 * The exit code a run report calls for: crash > failure > inconclusive > regression > ok.
 * Inconclusive beats a regression: a starved generator's figures make no trustworthy comparison.
 */
export function exitCodeFor(reports: RunReport | readonly RunReport[]): number {
  const list = Array.isArray(reports) ? (reports as readonly RunReport[]) : [reports as RunReport];
  if (list.some((r) => r.crash)) return EXIT.crash;
  const statuses = list.map(runStatus);
  if (statuses.includes('fail')) return EXIT.failed;
  if (statuses.includes('inconclusive')) return EXIT.inconclusive;
  if (list.some((r) => r.comparison?.regressed)) return EXIT.regression;
  // Figures the baseline (or the run) could not measure were not compared: no silent pass.
  if (list.some((r) => (r.comparison?.unjudged ?? []).length > 0)) return EXIT.inconclusive;
  return EXIT.ok;
}
