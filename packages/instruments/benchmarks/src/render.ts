import type { RunReport } from '@crucible/contracts';
import type { TaskComparison } from './compare.js';
import type { BenchMeasurement, BenchStatus, SuiteRun } from './runner.js';

const fmt = (v: number | null | undefined) => {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  if (v === 0) return '0';
  return v >= 1 ? `${v.toFixed(3)} ms` : `${(v * 1000).toFixed(2)} µs`;
};
const ops = (v: number) => (v >= 1000 ? `${(v / 1000).toFixed(1)}k` : v.toFixed(0));
const mark: Record<TaskComparison['verdict'], string> = {
  regressed: '❌ regressed',
  improved: '✅ improved',
  unchanged: '✅ unchanged',
  new: '🆕 new',
  missing: '❌ missing',
  inconclusive: '❔ inconclusive',
};

/**
 * Renders a bench run as Markdown (for `bench.md` and a CI job summary): one row per task
 * with the median, its spread, the baseline median, the change and the verdict.
 */
export function renderMarkdown(
  report: RunReport,
  comparisons: readonly TaskComparison[],
  run: SuiteRun,
  context: {
    baselinePath: string;
    hadBaseline: boolean;
    load?: { perCpu: number; max: number };
    status?: BenchStatus;
    missing?: readonly string[];
    measurements?: readonly BenchMeasurement[];
  },
): string {
  const status = context.status ?? (report.passed ? 'passed' : 'failed');
  const heading: Record<BenchStatus, string> = { passed: 'passed', failed: 'FAILED', regressed: 'REGRESSED', inconclusive: 'INCONCLUSIVE' };
  const remeasured = (context.measurements ?? []).slice(1);
  const lines = [
    `# Bench: ${run.suite} — ${heading[status]}`,
    '',
    `Run ${run.started_at} on ${report.run.machine.cpus} CPUs, Node ${report.run.node}, ${run.duration_s.toFixed(1)} s${
      context.load ? `, load ${context.load.perCpu.toFixed(1)} per CPU` : ''
    }.`,
    ...(remeasured.length > 0
      ? [
          `Regressions measured on a loaded machine (load per CPU above ${context.load?.max ?? 2}) were measured again: ${remeasured
            .map((m) => `${m.tasks.join(', ')} at load ${m.load_per_cpu.toFixed(1)}`)
            .join('; ')}.`,
        ]
      : []),
    ...(status === 'inconclusive' ? ['**Inconclusive: a slowdown only an overloaded machine saw (figures in the notes). Rerun on a quieter machine.**'] : []),
    ...((context.missing ?? []).length > 0 ? [`**Not measured, though in the baseline: ${(context.missing ?? []).join(', ')}.** Save a new baseline to retire a task on purpose.`] : []),
    context.hadBaseline
      ? `Compared with \`${context.baselinePath}\`: a task regresses only when its median moved beyond both the relative tolerance and the noise band (1.4826 × MAD of both runs' samples, combined).`
      : `No baseline at \`${context.baselinePath}\` yet: save one with \`--save-baseline\`.`,
    '',
    '| task | samples | median | MAD | p99 | ops/s | baseline median | change | noise band | tolerance | verdict |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
  ];
  for (const c of comparisons) {
    const s = run.tasks[c.name];
    lines.push(
      `| ${c.name} | ${s?.samples ?? 0} | ${fmt(s?.median_ms)} | ${fmt(s?.mad_ms)} | ${fmt(s?.p99_ms)} | ${s ? ops(s.ops_per_s) : '–'} | ${fmt(c.baseline_median_ms)} | ${
        c.delta_ratio === null ? '–' : `${c.delta_ratio >= 0 ? '+' : ''}${(c.delta_ratio * 100).toFixed(1)} %`
      } | ${c.noise_ms === null ? '–' : `±${fmt(c.noise_ms)}`} | ${(c.tolerance * 100).toFixed(0)} % | ${mark[c.verdict]} |`,
    );
  }
  const errors = Object.entries(run.errors);
  if (errors.length > 0) {
    lines.push('', '## Tasks that failed', '');
    for (const [name, message] of errors) lines.push(`- **${name}**: ${message}`);
  }
  const notable = comparisons.filter((c) => c.verdict !== 'unchanged');
  if (notable.length > 0) {
    lines.push('', '## Notes', '');
    for (const c of notable) lines.push(`- **${c.name}** — ${c.reason}`);
  }
  return `${lines.join('\n')}\n`;
}
