// perf.ts's report: the samples of every round summed up per scenario (median, spread,
// CPU per operation), the ratios that matter, and the Markdown table.
import os from 'node:os';
import { finiteMedian as median } from '@crucible/benchmarks';
import type { Sample } from './perf.workloads.js';

/** How the run was made, for the report. */
export interface PerfSettings {
  connections: number;
  duration: number;
  repeat: number;
  poolMax: number;
}

/** One scenario over every round. */
export interface PerfRow {
  scenario: string;
  median_rps: number;
  min_rps: number;
  max_rps: number;
  runs: number[];
  p50_ms: number;
  p99_ms: number;
  errors: number;
  cpu_us_per_op: { server: number; postgres: number; client: number };
}

/** The whole report, as written to perf.json. */
export interface PerfSummary {
  machine: { cpus: number; model: string | undefined; node: string; loadavg_end: number[] };
  settings: { connections: number; duration_s: number; repeat: number; db_pool_max: number; pgbench: string };
  rows: PerfRow[];
  service_over_pgbench: { hot: number; spread: number };
  service_over_bare_http: number;
  /**
   * Issue 12's goal (≥ 0.8): the hot sequence through the service over bare Express 5 +
   * `express.json()`, as the ratio of medians, the median of the per-round ratios (the rounds
   * are interleaved, so a round's pair saw the same machine), and by CPU per operation.
   */
  service_over_bare_express: { median_rps: number; per_round_median: number; per_round: number[]; cpu_per_op: number };
  service_over_stack_only: number;
}

/** Sums the samples up per scenario, in `scenarios` order. */
export function summarisePerf(scenarios: readonly string[], samples: readonly Sample[], settings: PerfSettings): PerfSummary {
  const rows = scenarios.map((name): PerfRow => {
    const mine = samples.filter((s) => s.scenario === name);
    const rps = mine.map((s) => s.rps);
    const cpu = (k: keyof Sample['cpu_us']) => median(mine.map((s) => s.cpu_us[k] ?? Number.NaN));
    return {
      scenario: name,
      median_rps: median(rps),
      min_rps: Math.min(...rps),
      max_rps: Math.max(...rps),
      runs: rps.map((r) => Math.round(r)),
      p50_ms: median(mine.map((s) => s.p50_ms ?? Number.NaN)),
      p99_ms: median(mine.map((s) => s.p99_ms ?? Number.NaN)),
      errors: mine.reduce((a, s) => a + s.errors, 0),
      cpu_us_per_op: { server: cpu('server'), postgres: cpu('postgres'), client: cpu('client') },
    };
  });
  const rowOf = (name: string) => rows.find((r) => r.scenario === name);
  const ratio = (a: string, b: string) => (rowOf(a)?.median_rps ?? 0) / (rowOf(b)?.median_rps ?? 1);
  const { connections, duration, repeat, poolMax } = settings;
  return {
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version, loadavg_end: os.loadavg() },
    settings: { connections, duration_s: duration, repeat, db_pool_max: poolMax, pgbench: `pgbench -n -c ${connections} -j 2 -T ${duration} -f <script>` },
    rows,
    service_over_pgbench: { hot: ratio('HTTP, 1 hot sequence', 'pgbench, 1 hot sequence'), spread: ratio('HTTP, 10 sequences', 'pgbench, 10 sequences') },
    service_over_bare_http: ratio('HTTP, 1 hot sequence', 'bare node:http, no DB'),
    service_over_bare_express: overExpress(rowOf('HTTP, 1 hot sequence'), rowOf('bare Express 5 + JSON parser, no DB')),
    service_over_stack_only: ratio('HTTP, 1 hot sequence', 'service stack, no DB (400)'),
  };
}

function overExpress(service: PerfRow | undefined, express: PerfRow | undefined): PerfSummary['service_over_bare_express'] {
  const perRound = (service?.runs ?? []).map((r, i) => r / (express?.runs[i] ?? Number.NaN));
  return {
    median_rps: (service?.median_rps ?? Number.NaN) / (express?.median_rps ?? Number.NaN),
    per_round_median: median(perRound),
    per_round: perRound.map((r) => Math.round(r * 100) / 100),
    // Lower CPU per op is better: express's cost over the service's, so > 1 means leaner.
    cpu_per_op: (express?.cpu_us_per_op.server ?? Number.NaN) / (service?.cpu_us_per_op.server ?? Number.NaN),
  };
}

const fmt = (v: number | null | undefined, digits = 2) => (v !== null && v !== undefined && Number.isFinite(v) ? v.toFixed(digits) : '–');

/** The report as Markdown: one row per scenario, then the ratios. */
export function perfMarkdown(summary: PerfSummary): string {
  const { connections, duration_s, repeat, db_pool_max } = summary.settings;
  return [
    `# id-service reservations/s at ${connections} concurrent clients (${duration_s} s × ${repeat}, DB_POOL_MAX=${db_pool_max})`,
    '',
    '| scenario | median /s | min–max /s | p50 ms | p99 ms | errors | CPU µs/op server | PostgreSQL | load generator |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...summary.rows.map(
      (r) =>
        `| ${r.scenario} | ${r.median_rps.toFixed(0)} | ${r.min_rps.toFixed(0)}–${r.max_rps.toFixed(0)} | ${fmt(r.p50_ms)} | ${fmt(r.p99_ms)} | ${r.errors} | ${fmt(r.cpu_us_per_op.server, 0)} | ${fmt(r.cpu_us_per_op.postgres, 0)} | ${fmt(r.cpu_us_per_op.client, 0)} |`,
    ),
    '',
    `Service / pgbench: hot ${(summary.service_over_pgbench.hot * 100).toFixed(0)} %, 10 sequences ${(summary.service_over_pgbench.spread * 100).toFixed(0)} %. Service / bare node:http: ${(summary.service_over_bare_http * 100).toFixed(0)} %. Service / its stack without DB: ${(summary.service_over_stack_only * 100).toFixed(0)} %.`,
    `Service / bare Express 5 + express.json() (hot sequence; goal ≥ 0.8×): ${fmt(summary.service_over_bare_express.median_rps)}× by median rate, ${fmt(summary.service_over_bare_express.per_round_median)}× by the median of per-round ratios (${summary.service_over_bare_express.per_round.join(', ')}), ${fmt(summary.service_over_bare_express.cpu_per_op)}× by server CPU per op (Express's over the service's).`,
    'pgbench: p50 column is its latency average; load generator = pgbench itself. CPU µs/op from /proc (user + system).',
    '',
  ].join('\n');
}
