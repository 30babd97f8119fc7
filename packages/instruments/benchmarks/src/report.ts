import os from 'node:os';
import { runReportSchema, type RunReport, type ScenarioReport } from '@crucible/contracts';
import type { BenchBaseline } from './baseline.js';
import type { TaskComparison } from './compare.js';
import type { BenchSuite, SuiteRun } from './runner.js';

/** The bench run in the shared report model: one scenario per task, the baseline comparison. */
export function toRunReport(
  suite: BenchSuite,
  run: SuiteRun,
  comparisons: readonly TaskComparison[],
  passed: boolean,
  project: string,
  commit: string | undefined,
  baseline: BenchBaseline | undefined,
  load: number,
  maxLoad: number,
  missing: readonly string[],
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
  // A task the baseline has and the run does not is a failure, reported as its own row.
  const gone: Partial<ScenarioReport>[] = missing
    .filter((name) => !suite.tasks.some((t) => t.name === name))
    .map((name) => ({
      name,
      executor: 'tinybench',
      started_at: run.started_at,
      duration_s: 0,
      requests: 0,
      successes: 0,
      error_rate: 1,
      errors: { 'not measured': 1 },
      rps: { achieved: 0, target: null },
      latency_ms: null,
      verdicts: [{ checker: 'bench-baseline', status: 'fail', summary: `missing: ${name} is in the baseline but was not measured (save a new baseline to retire it)`, counts: { samples: 0 }, examples: [] }],
      passed: false,
    }));
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
          status: error || c?.verdict === 'regressed' || c?.verdict === 'missing' ? 'fail' : c?.verdict === 'unchanged' || c?.verdict === 'improved' ? 'pass' : 'indeterminate',
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
    scenarios: [...scenarios, ...gone],
    passed,
    ...(comparison ? { comparison } : {}),
  });
}
