// `npm run history-bench` (nx run @crucible/metrics-gateway-suites:history-bench): seeds a
// synthetic run history of HISTORY_BENCH_POINTS points (10,080,000 by default: 50 projects ×
// 420 runs over 6 months × 4 endpoints × 120 s) into a fresh migrated database — of the
// embedded PostgreSQL, or of the server at DATABASE_URL — then benchmarks every dashboard
// query on it and writes reports/@crucible/metrics-gateway-suites/history-bench.{json,md}:
// each query's average, p95, index use and EXPLAIN (ANALYZE, BUFFERS). Exits 1 when a
// verdict fails. Too heavy for `npm test`, which runs the same code on 100k points.
import { mkdir, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import path from 'node:path';
import { createDb, createPool } from '@crucible/db';
import { workspaceRoot } from '@crucible/instrument-kit';
import { sql } from 'kysely';
import { createDatabase, ensureTemplate, startPostgres } from '@crucible/testbed';
import { benchmarkDashboard, benchmarkVerdicts, benchTargets } from './history-bench.js';
import { endpoints, seedHistory, type SeedShape } from './history-seed.js';

const intEnv = (name: string, fallback: number) => {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer (got ${JSON.stringify(v)})`);
  return n;
};

const shape: SeedShape = {
  projects: intEnv('HISTORY_BENCH_PROJECTS', 50),
  scenarios: 4,
  seconds: 120,
  months: 6,
  points: intEnv('HISTORY_BENCH_POINTS', 10_080_000),
};
const iterations = intEnv('HISTORY_BENCH_ITERATIONS', 100);
const log = (line: string) => process.stderr.write(`[history-bench] ${line}\n`);

await using server = await startPostgres({ url: process.env['DATABASE_URL'], settings: { shared_buffers: '512MB', max_wal_size: '4GB', checkpoint_timeout: '30min' } });
await using database = await createDatabase(server, await ensureTemplate(server), 'history_bench');
const db = createDb(createPool({ connectionString: database.url, max: 1, statementTimeoutMs: 3_600_000, queryTimeoutMs: 3_600_000 }));
try {
  log(`seeding ${shape.points.toLocaleString('en')} points (${shape.projects} projects, ${shape.scenarios} endpoints × ${shape.seconds} s a run, ${shape.months} months) on ${server.kind} PostgreSQL`);
  const seeded = await seedHistory(db, shape, 'bench', log);
  log(`seeded in ${seeded.seconds} s (${seeded.points_per_s.toLocaleString('en')} points/s); benchmarking ${iterations} iterations a query`);
  const targets = await benchTargets(db, seeded.projects, endpoints[0]);
  const load = { before: loadavg().map((n) => Math.round(n * 100) / 100) };
  const figures = await benchmarkDashboard(db, targets, { iterations, warmup: 5 });
  const verdicts = benchmarkVerdicts(figures);
  const { rows } = await sql<{ size: string; version: string }>`select pg_size_pretty(pg_database_size(current_database())) as size, version() as version`.execute(db);
  const report = {
    benchmark: 'history-bench',
    created_at: new Date().toISOString(),
    shape,
    seeded,
    database: rows[0],
    load_average: { ...load, after: loadavg().map((n) => Math.round(n * 100) / 100) },
    iterations,
    verdicts,
    queries: figures,
  };
  const dir = path.join(workspaceRoot(), 'reports', '@crucible', 'metrics-gateway-suites');
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'history-bench.json'), JSON.stringify(report, null, 2) + '\n');
  const pct = (n: number | null) => (n === null ? '–' : `${(n * 100).toFixed(1)} %`);
  const md = [
    `# Run history dashboard benchmark`,
    '',
    `${seeded.points.toLocaleString('en')} points, ${seeded.runs.toLocaleString('en')} runs, ${seeded.projects.length} projects (${rows[0]?.size}); seeded in ${seeded.seconds} s. ${iterations} iterations a query on one connection. Load average before ${load.before.join(' ')}, after ${report.load_average.after.join(' ')}.`,
    '',
    '| verdict | status | summary |',
    '|---|---|---|',
    ...verdicts.map((v) => `| ${v.checker} | ${v.status} | ${v.summary.replaceAll('|', '\\|')} |`),
    '',
    '| query | reads | avg ms | p50 ms | p95 ms | max ms | index use |',
    '|---|---|---|---|---|---|---|',
    ...figures.map((f) => `| ${f.name} | ${f.reads} | ${f.avg_ms} | ${f.p50_ms} | ${f.p95_ms} | ${f.max_ms} | ${pct(f.index_ratio)} |`),
    '',
    ...figures.flatMap((f) => [`## ${f.name}: EXPLAIN (ANALYZE, BUFFERS)`, '', ...f.explain.flatMap((e) => ['```', e, '```', ''])]),
  ].join('\n');
  await writeFile(path.join(dir, 'history-bench.md'), md + '\n');
  for (const v of verdicts) log(`${v.status.toUpperCase()} ${v.checker}: ${v.summary}`);
  for (const f of figures) log(`${f.name}: avg ${f.avg_ms} ms, p95 ${f.p95_ms} ms, index use ${pct(f.index_ratio)}`);
  log(`report: ${path.join(dir, 'history-bench.md')}`);
  process.exitCode = verdicts.every((v) => v.status === 'pass') ? 0 : 1;
} finally {
  await db.destroy();
}
