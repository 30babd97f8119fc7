import type { BenchStatus } from '@crucible/benchmarks';
import { EXIT } from '@crucible/reporting';

/**
 * The exit code of each way a bench run ends, from the codes every suite shares: a regression
 * is 3 (not a plain failure), a missing or throwing task 1, a slowdown only an overloaded
 * machine saw 4 (inconclusive), a clean run 0.
 */
export const benchExit: Readonly<Record<BenchStatus, number>> = Object.freeze({
  passed: EXIT.ok,
  failed: EXIT.failed,
  regressed: EXIT.regression,
  inconclusive: EXIT.inconclusive,
});
