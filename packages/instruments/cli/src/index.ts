/**
 * @crucible/cli — the `crucible` command and the typed scenario files it runs. A scenario file
 * default-exports {@link defineRun}'s value; `crucible run file.ts --base-url …` loads it
 * (TypeScript directly, through tsx), refuses a typo'd threshold or metric before the run,
 * runs it through the load engine and writes every report form. The executors and helpers a
 * scenario needs are re-exported, so a file imports from here only.
 *
 * @example
 * // scenarios.ts — run with: npx crucible run scenarios.ts --base-url http://127.0.0.1:8080
 * import { constantArrivalRate, defineRun } from '@crucible/cli';
 *
 * export default defineRun({
 *   scenarios: {
 *     health: {
 *       executor: constantArrivalRate({ rate: 20, duration: '5s' }),
 *       request: (ctx) => ctx.http.request({ path: '/health' }),
 *       checks: { 'status is 200': (res) => res.status === 200 },
 *     },
 *   },
 *   thresholds: { latency: ['p(99)<200'], errors: ['rate<0.01'] },
 * });
 */
export * from './define-run.js';
export { buildScenarios, loadRunFile, BUILTIN_AGGREGATIONS } from './scenarios.js';
export {
  burst,
  constantArrivalRate,
  constantVUs,
  rampingArrivalRate,
  rampingVUs,
  WebSocketClient,
  type ExecutorConfig,
  type HttpRequest,
  type HttpResponse,
  type IterationContext,
  type MetricDeclarations,
  type MetricKind,
  type Stage,
} from '@crucible/load-engine';
// The correctness checkers a scenario's `verify` uses on a user's own service (e.g. ids from its id endpoint).
export { checkIds, classifyOutcome, type IdOperation, type OpOutcome } from '@crucible/checkers';
// The faults of a run's chaos timeline (Toxiproxy toxics), and its shape.
export { bandwidth, down, latency, limitData, resetPeer, slicer, slowClose, timeout, type FaultSpec } from '@crucible/chaos';
export type { ChaosSpec, ChaosStepSpec } from './chaos-run.js';
