import os from 'node:os';
import type { TaskComparison } from './compare.js';

/**
 * The loaded-machine rule of the bench gate. On a machine whose 1-minute load average per CPU
 * is above `maxLoadPerCpu`, every task slows down together and no within-run spread can tell
 * that from a regression. So a regression measured on a loaded machine is measured again, up to
 * `remeasureRounds` more times, each after waiting up to `settleMs` for the load to fall. The
 * latest measurement of a task decides:
 * - regressed, measured at or under the bound: a regression (the gate fails, exit 3);
 * - no longer regressed: its new verdict (the slowdown did not reproduce);
 * - still regressed and every measurement of it loaded: `inconclusive`, naming each load
 *   figure (exit 4) — never a pass, never a regression.
 * A regression on a quiet machine is final at once.
 */
export interface LoadGuard {
  /** Load average (1 min) per CPU above which a measurement counts as loaded (default 2). */
  readonly maxLoadPerCpu: number;
  /** Extra measurements of the regressed tasks at most (default 2). */
  readonly remeasureRounds: number;
  /** Longest wait for the load to fall before each extra measurement, in ms (default 20 s). */
  readonly settleMs: number;
  /** Reads the load per CPU (default `os.loadavg()[0] / cpus`). */
  readonly loadPerCpu: () => number;
}

/** The guard with defaults filled in. */
export function loadGuard(options: Partial<LoadGuard> = {}): LoadGuard {
  return {
    maxLoadPerCpu: options.maxLoadPerCpu ?? 2,
    remeasureRounds: options.remeasureRounds ?? 2,
    settleMs: options.settleMs ?? 20_000,
    loadPerCpu: options.loadPerCpu ?? (() => (os.loadavg()[0] ?? 0) / Math.max(1, os.cpus().length)),
  };
}

/** Waits (polling each second) until the load is at or under the bound, at most `settleMs`. */
export async function settle(guard: LoadGuard): Promise<void> {
  const deadline = performance.now() + guard.settleMs;
  while (guard.loadPerCpu() > guard.maxLoadPerCpu && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, Math.min(1000, Math.max(0, deadline - performance.now()))));
  }
}

const fmt = (load: number) => load.toFixed(1);

/**
 * Applies the rule to the final comparisons: a task still `regressed` whose every measurement
 * was loaded becomes `inconclusive`, its reason naming the load of each measurement.
 */
export function judgeUnderLoad(comparisons: readonly TaskComparison[], loadsOf: ReadonlyMap<string, readonly number[]>, max: number): TaskComparison[] {
  return comparisons.map((c) => {
    const loads = loadsOf.get(c.name) ?? [];
    if (c.verdict !== 'regressed' || loads.length === 0 || loads.some((l) => l <= max)) return c;
    const figures = loads.map(fmt).join(', ');
    return {
      ...c,
      verdict: 'inconclusive',
      reason: `${c.reason}; inconclusive: the machine stayed overloaded through ${loads.length} measurement${loads.length === 1 ? '' : 's'} (load ${figures} per CPU > ${max})`,
    };
  });
}
