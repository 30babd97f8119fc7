/**
 * `@crucible/baseline`: the noise-aware comparison of repeated measurements, pure and shared
 * (scope:shared), so the reports (`@crucible/reporting`) and the system under test (the
 * metrics gateway's `/api/v1/compare`) judge a regression by the same rule.
 *
 * @example
 * import { compareFigures } from '@crucible/baseline';
 * compareFigures(before, after).regressed;
 */
export * from './compare.js';
export * from './stats.js';
