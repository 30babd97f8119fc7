/**
 * @crucible/checkers — correctness verdicts from recorded histories: ID uniqueness and
 * contiguity (operations classified ok / failed / indeterminate, as Jepsen does, and
 * reconciled against the database), cross-project leakage in API answers and in SQL,
 * exactly-once claims, task writes that survive faults (nothing lost, half-written or
 * phantom), and degradation between two sets of measurements.
 *
 * Every checker returns a `Verdict` (`@crucible/contracts`): `checker`, `status`
 * (`pass` / `fail` / `indeterminate`), `summary`, `counts` and `examples`, ready to attach
 * to a scenario report.
 *
 * @example
 * import { checkIds, classifyOutcome } from '@crucible/checkers';
 * const verdict = checkIds(history); // history: IdOperation[] recorded by the client
 */
export { classifyOutcome, type OpOutcome, type CallResult } from './outcome.js';
export { checkIds } from './ids.checker.js';
export { reconcileIds, type IdReconciliation } from './id-reconciliation.checker.js';
export { checkIdIsolation, type IsolationFinding } from './id-isolation.checker.js';
export { type IdOperation, type IdCheckOptions, type RangeFinding } from './ids.history.js';
export { checkApiLeakage, checkSqlIsolation, compareListingWithRows, type ApiObservation, type ListedKeys, type SqlIsolationOptions } from './leakage.checker.js';
export { checkClaims, type ClaimAttempt, type ClaimCheckOptions } from './claims.checker.js';
export { combineDegradations, compareDegradation, spreadOf, type Degradation, type DegradationOptions, type Spread } from './degradation.checker.js';
export { checkTaskWrites, type TaskWrite } from './task-writes.checker.js';
export type { NumberRange } from './ranges.js';
export { expectVerdict } from './verdict.js';
