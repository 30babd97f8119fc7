// The dashboard queries of the run history, benchmarked on a (synthetic) history: each query
// is the gateway's own builder (the history reads of @crucible/db, so the EXPLAIN is the
// query it runs), timed on one connection, its index use read from pg_stat_user_tables
// (reset before it), and its EXPLAIN (ANALYZE, BUFFERS) kept for the report.
import type { Verdict } from '@crucible/contracts';
import { expectVerdict } from '@crucible/checkers';
import { errorBreakdownQuery, explainAnalyze, listRunsQuery, runPointsQuery, runQuery, runScenariosQuery, trendQuery, type Database, type HistoryDefects } from '@crucible/db';
import { sql, type Compilable, type Kysely } from 'kysely';

/** What one dashboard view asks, for one project and two of its runs. */
export interface BenchTarget {
  project: string;
  runs: string[];
  scenario: string;
}

/** The figures of one dashboard query. */
export interface QueryFigures {
  name: string;
  /** What the dashboard view reads (its builders, in order). */
  reads: string;
  iterations: number;
  avg_ms: number;
  p50_ms: number;
  p95_ms: number;
  max_ms: number;
  /** idx_scan / (idx_scan + seq_scan) of the key tables while this query ran, per table and in all. */
  index_use: Record<string, { idx_scan: number; seq_scan: number }>;
  index_ratio: number | null;
  /** Relations a sequential scan of which the plan executed (key tables only). */
  seq_scans: string[];
  explain: string[];
}

/** The key tables: the partitions of gateway_points count as gateway_points. */
const keyTable = (schema: string, rel: string) => (schema === 'gateway_points_parts' || rel.startsWith('gateway_points') ? 'gateway_points' : ['gateway_runs', 'gateway_run_scenarios'].includes(rel) ? rel : undefined);
const day = 86_400_000;

type View = { name: string; reads: string; queries: (db: Kysely<Database>, t: BenchTarget, i: number, defects: HistoryDefects) => Compilable[] };

/** Every dashboard query of `/api/v1`, as the routes compose them. */
export const dashboardViews: readonly View[] = [
  { name: 'list', reads: 'listRunsQuery (newest 50)', queries: (db, t, _i, d) => [listRunsQuery(db, { projectId: t.project }, { limit: 50 }, d)] },
  {
    name: 'list-filtered',
    reads: 'listRunsQuery (branch=main, scenario, outcome=passed, last 30 days)',
    queries: (db, t, _i, d) => [listRunsQuery(db, { projectId: t.project }, { branch: 'main', scenario: t.scenario, outcome: 'passed', since: new Date(Date.now() - 30 * day), limit: 50 }, d)],
  },
  {
    name: 'detail',
    reads: 'runQuery + runScenariosQuery + runPointsQuery',
    queries: (db, t, i) => {
      const run = t.runs[i % t.runs.length]!;
      const s = { projectId: t.project };
      return [runQuery(db, s, run), runScenariosQuery(db, s, run), runPointsQuery(db, s, run, 10_000)];
    },
  },
  { name: 'trend', reads: 'trendQuery (last 50 runs of a scenario)', queries: (db, t, _i, d) => [trendQuery(db, { projectId: t.project }, t.scenario, 50, d)] },
  {
    name: 'compare',
    reads: 'runQuery ×2 + runPointsQuery ×2 + runScenariosQuery ×2',
    queries: (db, t, i) => {
      const a = t.runs[i % t.runs.length]!;
      const b = t.runs[(i + 1) % t.runs.length]!;
      const s = { projectId: t.project };
      return [runQuery(db, s, a), runQuery(db, s, b), runPointsQuery(db, s, a, 10_000), runPointsQuery(db, s, b, 10_000), runScenariosQuery(db, s, a), runScenariosQuery(db, s, b)];
    },
  },
  {
    name: 'errors',
    reads: 'errorBreakdownQuery (7 days by day)',
    queries: (db, t, _i, d) => [errorBreakdownQuery(db, { projectId: t.project }, { since: new Date(Date.now() - 7 * day), until: new Date(), bucket: 'day' }, d)],
  },
  {
    name: 'errors-30d',
    reads: 'errorBreakdownQuery (30 days by day, one scenario)',
    queries: (db, t, _i, d) => [errorBreakdownQuery(db, { projectId: t.project }, { since: new Date(Date.now() - 30 * day), until: new Date(), bucket: 'day', scenario: t.scenario }, d)],
  },
];

async function tableScans(db: Kysely<Database>): Promise<Record<string, { idx_scan: number; seq_scan: number }>> {
  // This backend's counts reach the shared statistics now, not at its next idle flush.
  await sql`select pg_stat_force_next_flush()`.execute(db);
  const { rows } = await sql<{ schemaname: string; relname: string; idx_scan: string | null; seq_scan: string | null }>`
    select schemaname, relname, idx_scan, seq_scan from pg_stat_user_tables`.execute(db);
  const out: Record<string, { idx_scan: number; seq_scan: number }> = {};
  for (const r of rows) {
    const k = keyTable(r.schemaname, r.relname);
    if (!k) continue;
    const row = (out[k] ??= { idx_scan: 0, seq_scan: 0 });
    row.idx_scan += Number(r.idx_scan ?? 0);
    row.seq_scan += Number(r.seq_scan ?? 0);
  }
  return out;
}

const ratioOf = (use: Record<string, { idx_scan: number; seq_scan: number }>) => {
  const idx = Object.values(use).reduce((n, u) => n + u.idx_scan, 0);
  const seq = Object.values(use).reduce((n, u) => n + u.seq_scan, 0);
  return idx + seq === 0 ? null : idx / (idx + seq);
};
const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
const r2 = (n: number) => Math.round(n * 100) / 100;

/**
 * Runs every dashboard view `iterations` times over `targets` (round robin) on `db` (one
 * connection: its statistics are flushed and read between views), after `warmup` untimed
 * rounds. Statistics are reset before each view, so a view's index use is its own.
 * `o.defects` plants the gateway's failpoint defects in the builders (what the failpoints
 * switch on in the gateway), to show the verdicts failing.
 */
export async function benchmarkDashboard(db: Kysely<Database>, targets: readonly BenchTarget[], o: { iterations: number; warmup?: number; defects?: HistoryDefects }): Promise<QueryFigures[]> {
  const d = o.defects ?? {};
  const out: QueryFigures[] = [];
  for (const view of dashboardViews) {
    for (let i = 0; i < (o.warmup ?? 3); i++) for (const q of view.queries(db, targets[i % targets.length]!, i, d)) await db.executeQuery(q.compile());
    // The warm-up's (and the last view's EXPLAIN's) counts are flushed first, then cleared.
    await sql`select pg_stat_force_next_flush()`.execute(db);
    await sql`select pg_stat_reset()`.execute(db);
    const times: number[] = [];
    for (let i = 0; i < o.iterations; i++) {
      const queries = view.queries(db, targets[i % targets.length]!, i, d);
      const t0 = performance.now();
      for (const q of queries) await db.executeQuery(q.compile());
      times.push(performance.now() - t0);
    }
    const use = await tableScans(db);
    const explain: string[] = [];
    for (const q of view.queries(db, targets[0]!, 0, d)) explain.push(await explainAnalyze(db, q));
    const seq = new Set<string>();
    for (const line of explain.join('\n').split('\n')) {
      const m = /Seq Scan on (?:(\w+)\.)?(\w+)/.exec(line);
      if (m && !line.includes('never executed') && keyTable(m[1] ?? 'public', m[2]!) && !/loops=0\b/.test(line)) seq.add(m[1] ? `${m[1]}.${m[2]}` : m[2]!);
    }
    const sorted = [...times].sort((a, b) => a - b);
    out.push({
      name: view.name,
      reads: view.reads,
      iterations: o.iterations,
      avg_ms: r2(times.reduce((a, b) => a + b, 0) / times.length),
      p50_ms: r2(quantile(sorted, 0.5)),
      p95_ms: r2(quantile(sorted, 0.95)),
      max_ms: r2(sorted[sorted.length - 1]!),
      index_use: use,
      index_ratio: ratioOf(use),
      seq_scans: [...seq],
      explain,
    });
  }
  return out;
}

/**
 * The benchmark's verdicts: `history-query-latency` (every view's average < `avgMs` and p95
 * < `p95Ms`), `history-index-plans` (no EXPLAIN ANALYZE executed a sequential scan of a key
 * table) and `history-index-use` (idx_scan / (idx_scan + seq_scan) > `minRatio` for every view,
 * and for every key table over all views). A view with no scans counted fails the last: its
 * index use was not shown.
 */
export function benchmarkVerdicts(figures: readonly QueryFigures[], o: { avgMs?: number; p95Ms?: number; minRatio?: number } = {}): Verdict[] {
  const avgMs = o.avgMs ?? 100;
  const p95Ms = o.p95Ms ?? 200;
  const minRatio = o.minRatio ?? 0.95;
  const slow = figures.filter((f) => !(f.avg_ms < avgMs && f.p95_ms < p95Ms));
  const latency = expectVerdict(
    'history-query-latency',
    figures.length > 0 && slow.length === 0,
    slow.length === 0 ? `${figures.length} dashboard queries each averaged < ${avgMs} ms with p95 < ${p95Ms} ms` : `${slow.length} of ${figures.length} dashboard queries over budget: ${slow.map((f) => `${f.name} avg ${f.avg_ms} ms, p95 ${f.p95_ms} ms`).join('; ')}`,
    { queries: figures.length, over_budget: slow.length, worst_avg_ms: Math.max(...figures.map((f) => f.avg_ms)), worst_p95_ms: Math.max(...figures.map((f) => f.p95_ms)) },
    slow.map((f) => ({ kind: 'slow_query', query: f.name, avg_ms: f.avg_ms, p95_ms: f.p95_ms })),
  );
  const scanned = figures.filter((f) => f.seq_scans.length > 0);
  const plans = expectVerdict(
    'history-index-plans',
    figures.length > 0 && scanned.length === 0,
    scanned.length === 0 ? `no plan of ${figures.length} dashboard queries ran a sequential scan of a key table` : `${scanned.length} queries ran a sequential scan of a key table: ${scanned.map((f) => `${f.name} (${f.seq_scans.join(', ')})`).join('; ')}`,
    { queries: figures.length, queries_with_seq_scans: scanned.length },
    scanned.map((f) => ({ kind: 'seq_scan', query: f.name, relations: f.seq_scans })),
  );
  const total: Record<string, { idx_scan: number; seq_scan: number }> = {};
  for (const f of figures) for (const [t, u] of Object.entries(f.index_use)) {
    const row = (total[t] ??= { idx_scan: 0, seq_scan: 0 });
    row.idx_scan += u.idx_scan;
    row.seq_scan += u.seq_scan;
  }
  const lowViews = figures.filter((f) => f.index_ratio === null || f.index_ratio <= minRatio);
  const lowTables = Object.entries(total).filter(([, u]) => (ratioOf({ t: u }) ?? 0) <= minRatio);
  const pct = (n: number | null) => (n === null ? 'no scans' : `${(n * 100).toFixed(1)} %`);
  const use = expectVerdict(
    'history-index-use',
    figures.length > 0 && lowViews.length === 0 && lowTables.length === 0 && Object.keys(total).length === 3,
    lowViews.length + lowTables.length === 0
      ? `idx_scan / (idx_scan + seq_scan) > ${minRatio * 100} % for each of ${figures.length} queries (lowest ${pct(Math.min(...figures.map((f) => f.index_ratio ?? 0)))}) and each key table (${Object.entries(total).map(([t, u]) => `${t} ${pct(ratioOf({ t: u }))}`).join(', ')})`
      : `index use at or under ${minRatio * 100} %: ${[...lowViews.map((f) => `${f.name} ${pct(f.index_ratio)}`), ...lowTables.map(([t, u]) => `table ${t} ${pct(ratioOf({ t: u }))}`)].join('; ')}`,
    { queries: figures.length, queries_under: lowViews.length, tables_under: lowTables.length, ...Object.fromEntries(Object.entries(total).flatMap(([t, u]) => [[`${t}.idx_scan`, u.idx_scan], [`${t}.seq_scan`, u.seq_scan]])) },
    [...lowViews.map((f) => ({ kind: 'low_index_use', query: f.name, ratio: f.index_ratio, scans: f.index_use })), ...lowTables.map(([t, u]) => ({ kind: 'low_index_use', table: t, ...u }))],
  );
  return [latency, plans, use];
}

/** Projects' bench targets from a seeded database: each project's newest runs and a scenario. */
export async function benchTargets(db: Kysely<Database>, projects: readonly string[], scenario: string, runsEach = 10): Promise<BenchTarget[]> {
  const out: BenchTarget[] = [];
  for (const project of projects) {
    const runs = await db.selectFrom('gateway_runs').select('run_id').where('project_id', '=', project).orderBy('started_at', 'desc').limit(runsEach).execute();
    if (runs.length > 0) out.push({ project, runs: runs.map((r) => r.run_id), scenario });
  }
  return out;
}
