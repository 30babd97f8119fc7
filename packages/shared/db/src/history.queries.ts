import { sql, type Kysely } from 'kysely';
import type { Database } from './database.js';

// The metrics gateway's run history reads (`/api/v1`), as builders: the gateway executes
// them, and the dashboard benchmark times and EXPLAINs the same ones (never a copy). Each
// is scoped to one project; the `defects` options are the planted defects the gateway's
// failpoints switch on (the gateway passes `failpoint(…)`), so a benchmark can plant them too.

/** The project whose runs a query reads (the scope of the API key). */
export interface HistoryScope {
  readonly projectId: string;
}

/** Planted defects of the history reads (off unless a failpoint or a test turns one on). */
export interface HistoryDefects {
  /** `gateway.api.unscoped`: the run list forgets its project filter. */
  readonly listUnscoped?: boolean;
  /** `gateway.errors.unscoped`: the error breakdown forgets its project filter. */
  readonly errorsUnscoped?: boolean;
  /** `gateway.trend.unindexed`: the trend filters on an expression of project_id no index serves. */
  readonly trendUnindexed?: boolean;
  /** `gateway.trend.slow`: the trend waits 150 ms in the database on every call (a query over its latency budget). */
  readonly trendSlow?: boolean;
}

/** Filters of `GET /api/v1/runs`. */
export interface RunFilter {
  branch?: string | undefined;
  scenario?: string | undefined;
  /** `passed`, `failed`, `inconclusive`, or `running` (no run_end yet). */
  outcome?: string | undefined;
  /** Runs started at or after this instant. */
  since?: Date | undefined;
  limit: number;
}

const runColumns = ['project_id', 'run_id', 'commit', 'branch', 'machine', 'profile', 'started_at', 'ended_at', 'outcome', 'duration_s'] as const;

/**
 * The runs of the key's project, newest first. Exported as a builder so the EXPLAIN a
 * benchmark captures is this query, not a copy.
 */
export function listRunsQuery(db: Kysely<Database>, scope: HistoryScope, f: RunFilter, defects: HistoryDefects = {}) {
  let q = db.selectFrom('gateway_runs as r').select(runColumns.map((c) => `r.${c}` as const));
  // Planted defect: the list forgets its project filter (every project's runs in the answer).
  if (!defects.listUnscoped) q = q.where('r.project_id', '=', scope.projectId);
  if (f.branch !== undefined) q = q.where('r.branch', '=', f.branch);
  if (f.outcome === 'running') q = q.where('r.outcome', 'is', null);
  else if (f.outcome !== undefined) q = q.where('r.outcome', '=', f.outcome);
  if (f.since !== undefined) q = q.where('r.started_at', '>=', f.since);
  if (f.scenario !== undefined) {
    const scenario = f.scenario;
    // A run has a scenario once it sent a point of it or ended with it.
    q = q.where((eb) =>
      eb.or([
        eb.exists(eb.selectFrom('gateway_run_scenarios as s').select(sql`1`.as('one')).whereRef('s.project_id', '=', 'r.project_id').whereRef('s.run_id', '=', 'r.run_id').where('s.scenario', '=', scenario)),
        eb.exists(
          eb
            .selectFrom('gateway_points as p')
            .select(sql`1`.as('one'))
            .whereRef('p.project_id', '=', 'r.project_id')
            .whereRef('p.run_id', '=', 'r.run_id')
            // The run's start is its points' partition key: the probe reads one partition.
            .whereRef('p.run_started_at', '=', 'r.started_at')
            .where('p.scenario', '=', scenario),
        ),
      ]),
    );
  }
  return q.orderBy('r.started_at', 'desc').orderBy('r.run_id').limit(f.limit);
}

/** One run of the key's project, or nothing. */
export function runQuery(db: Kysely<Database>, scope: HistoryScope, runId: string) {
  return db.selectFrom('gateway_runs').select(runColumns).where('project_id', '=', scope.projectId).where('run_id', '=', runId);
}

/** The scenario summaries of a run of the key's project. */
export function runScenariosQuery(db: Kysely<Database>, scope: HistoryScope, runId: string) {
  return db
    .selectFrom('gateway_run_scenarios')
    .select(['scenario', 'requests', 'errors', 'error_rate', 'rps', 'p50_ms', 'p95_ms', 'p99_ms', 'passed', 'status', 'thresholds'])
    .where('project_id', '=', scope.projectId)
    .where('run_id', '=', runId)
    .orderBy('scenario');
}

/**
 * The per-second points of a run of the key's project (the histograms stay in the table). The
 * run's start, the points' partition key, is an InitPlan of the query, so the executor prunes
 * every other month's partition before it runs (a join filter would scan each of them).
 */
export function runPointsQuery(db: Kysely<Database>, scope: HistoryScope, runId: string, limit: number) {
  return db
    .selectFrom('gateway_points as p')
    .select(['p.scenario', 'p.t', 'p.requests', 'p.errors', 'p.rps', 'p.p50_ms', 'p.p95_ms', 'p.p99_ms'])
    .where('p.project_id', '=', scope.projectId)
    .where('p.run_id', '=', runId)
    .where((eb) => eb('p.run_started_at', '=', eb.selectFrom('gateway_runs as r').select('r.started_at').where('r.project_id', '=', scope.projectId).where('r.run_id', '=', runId)))
    .orderBy('p.scenario')
    .orderBy('p.t')
    .limit(limit);
}

/** Filters of the error breakdown: runs started in [since, until), per `bucket`. */
export interface ErrorBreakdownFilter {
  since: Date;
  until: Date;
  bucket: 'hour' | 'day' | 'week';
  scenario?: string | undefined;
  branch?: string | undefined;
}

/**
 * Errors per scenario (the endpoint a scenario drives) per time bucket of the key's project:
 * runs, failed scenario verdicts, requests and errors summed over the per-second points. A
 * join of runs (the time and branch), their scenario summaries (the verdict) and points (the
 * counts); the points are read from the primary key alone (it carries requests and errors).
 */
export function errorBreakdownQuery(db: Kysely<Database>, scope: HistoryScope, f: ErrorBreakdownFilter, defects: HistoryDefects = {}) {
  // A literal (the route allows three words): GROUP BY matches the select list only when the
  // expression is the same text, which two bound parameters are not.
  const bucket = sql<Date>`date_trunc(${sql.lit(f.bucket)}, r.started_at, 'UTC')`;
  let q = db
    .selectFrom('gateway_runs as r')
    .innerJoin('gateway_points as p', (j) => j.onRef('p.project_id', '=', 'r.project_id').onRef('p.run_id', '=', 'r.run_id').onRef('p.run_started_at', '=', 'r.started_at'))
    .leftJoin('gateway_run_scenarios as s', (j) => j.onRef('s.project_id', '=', 'p.project_id').onRef('s.run_id', '=', 'p.run_id').onRef('s.scenario', '=', 'p.scenario'))
    .select([
      bucket.as('bucket_start'),
      'p.scenario',
      sql<string>`count(distinct r.run_id)`.as('runs'),
      sql<string>`count(distinct r.run_id) filter (where s.passed = false)`.as('failed_runs'),
      sql<string>`sum(p.requests)`.as('requests'),
      sql<string>`sum(p.errors)`.as('errors'),
    ])
    .where('r.started_at', '>=', f.since)
    .where('r.started_at', '<', f.until)
    // The points' partitions of the window only (their key is the run's start).
    .where('p.run_started_at', '>=', f.since)
    .where('p.run_started_at', '<', f.until);
  // Planted defect: the breakdown forgets its project filter (every project's errors summed).
  if (!defects.errorsUnscoped) q = q.where('r.project_id', '=', scope.projectId);
  if (f.scenario !== undefined) q = q.where('p.scenario', '=', f.scenario);
  if (f.branch !== undefined) q = q.where('r.branch', '=', f.branch);
  return q.groupBy([bucket, 'p.scenario']).orderBy(bucket, 'desc').orderBy('p.scenario');
}

/** A scenario's p50/p95/p99 and error rate over the key's project's last `last` ended runs, newest first. */
export function trendQuery(db: Kysely<Database>, scope: HistoryScope, scenario: string, last: number, defects: HistoryDefects = {}) {
  return db
    .selectFrom('gateway_run_scenarios as s')
    .innerJoin('gateway_runs as r', (j) => j.onRef('r.project_id', '=', 's.project_id').onRef('r.run_id', '=', 's.run_id'))
    .select(['r.run_id', 'r.commit', 'r.branch', 'r.machine', 'r.started_at', 'r.outcome', 's.p50_ms', 's.p95_ms', 's.p99_ms', 's.error_rate', 's.requests', 's.errors'])
    // Planted defect: the project filter on an expression of the column, which no index serves.
    .where(defects.trendUnindexed ? sql<string>`s.project_id || ''` : sql<string>`s.project_id`, '=', scope.projectId)
    .where('s.scenario', '=', scenario)
    // Planted defect: 150 ms spent in the server before the rows come back.
    .$if(defects.trendSlow === true, (q) => q.where(sql<boolean>`(select true from pg_sleep(0.15))`))
    .orderBy('r.started_at', 'desc')
    .orderBy('r.run_id')
    .limit(last);
}
