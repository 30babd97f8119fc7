/**
 * @crucible/suite-kit — the one lifecycle every suite uses (stress, resilience, scale, soak):
 * strict arguments, the system up and down, steps, one call recorder, one report assembly,
 * exit codes; and the shared fault steps of the resilience suites. A suite file holds only
 * its workload and its checks.
 *
 * @example
 * import { suiteMain } from '@crucible/suite-kit';
 * suiteMain({
 *   name: 'id-service stress', target: 'stress', project: '@crucible/id-service-suites',
 *   sut: { apps: ['id-service'] },
 *   setup: async (kit) => ({ key: (await kit.sut.createProject('alpha')).api_key }),
 *   steps: [{ name: 'next id at 100 RPS', run: (ctx, kit) => kit.run(nextAt100(ctx)) }],
 * });
 */
export { parseSuiteArgs, suiteUsage, wantsHelp, type SuiteArgs } from './args.js';
export { exitWith } from './exit.js';
export { interleavedPairs, type InterleavedPairs } from './pairs.js';
export { runSuite, suiteMain, type SuiteDefinition, type SuiteKit, type SuiteStep, type StepOutput, type SuiteTarget, type RunSuiteOptions } from './suite.js';
export { STARVED_RERUNS, starvedToRerun } from './rerun.js';
export { NO_DATABASE, noDatabaseVerdict, withSql, absentDatabase, selectSteps, connectTarget, readSutTarget, targetApps, type TargetSystem, type SutTarget } from './target.js';
export { send, errorCodeOf, hangAfterMs, hungCalls, uncleanFailures, healthStatus, poolOf, poolDrained, checksScenario, type Http, type HttpCall } from './calls.js';
export { phaseReports, recoveryMs, percentileOf, callsIn, latencyOf, type CallRecord, type PhaseReportInput, type PhaseExtras, type DroppedSecond } from './phases.js';
export { startProbe, type Probe, type ProbeSample } from './probe.js';
export { startPgWaitProbe, samplePgWaits, pgWaitFigures, type PgWaitSample, type PgWaitFigures } from './pg-waits.js';
export { withRetries, retryPause, isRetryable, type RetryOptions, type Retried } from './retry.js';
export { resilienceSuite } from './resilience/resilience-suite.js';
export { databaseDownStep, databaseDownShape, type DatabaseDownShape } from './resilience/database-down.js';
export { resetTimeoutStep, resetTimeoutShape, type ResetTimeoutShape } from './resilience/reset-timeout.js';
export { poolExhaustionStep, poolExhaustionShape, type PoolExhaustionShape } from './resilience/pool-exhaustion.js';
export { degradedLinkStep, degradedLinkShape, type DegradedLinkShape } from './resilience/degraded-link.js';
export { startupFaultsScenario, startupFaultsStep } from './resilience/startup-faults.js';
export { databaseLogSpec, databaseLogVerdict, outageLogEvidence, outageLogVerdict, replicaEvents, type OutageLogEvidence, type OutageLogSpec } from './resilience/log-events.js';
export { dependencyOutageStep, dependencyOutageShape, isolationFigures, type DependencyOutageShape } from './resilience/dependency-outage.js';
export {
  resilienceEnv,
  type ResilienceWorkload,
  type ResilienceContext,
  type ResilienceStepName,
  type OperationInput,
  type FaultLoad,
  type PhaseAdditions,
  type StepTuning,
  type RateTuning,
  type VusTuning,
  type DegradedTuning,
  type DependencyTuning,
  type DependencyCall,
} from './resilience/workload.js';
export { explainEvidence, poolEvidence } from './evidence.js';
