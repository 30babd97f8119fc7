// The synthetic run history the dashboard benchmark reads: months of runs of many projects,
// each run a few scenarios (endpoints) of per-second points, written by PostgreSQL itself
// (INSERT … SELECT over generate_series: large multi-row inserts with no round trip a row).
import type { Database } from '@crucible/db';
import { sql, type Kysely } from 'kysely';

/** The shape of a synthetic history. */
export interface SeedShape {
  projects: number;
  /** Scenarios (endpoints) of every run, at most {@link endpoints}.length. */
  scenarios: number;
  /** Per-second points of each scenario of a run. */
  seconds: number;
  /** Runs spread evenly over this many months back from now. */
  months: number;
  /** Points in total (rounded down to whole runs). */
  points: number;
}

/** What was written, and how fast. */
export interface SeedResult {
  projects: string[];
  runs: number;
  scenario_rows: number;
  points: number;
  seconds: number;
  points_per_s: number;
}

/** The scenarios a synthetic run drives, named like the endpoints the task API suites load. */
export const endpoints = ['GET /tasks', 'POST /tasks', 'GET /tasks/:id', 'PATCH /tasks/:id', 'POST /tasks/claim', 'GET /tasks/next', 'POST /ids/reserve', 'GET /health'] as const;

/** The project ids a seed with `n` projects writes. */
export const seedProjects = (n: number, prefix = 'bench') => Array.from({ length: n }, (_, i) => `${prefix}-p${String(i).padStart(3, '0')}`);

/**
 * Writes a synthetic history into `db` (a migrated database): per project, `runs` rows, one
 * summary per scenario of each run, and `seconds` points per scenario, with an error burst
 * in about one run-scenario in fifty and a slow p99 drift, so trends and breakdowns have
 * something to show. Ends with VACUUM ANALYZE, as a long-lived table would be, so the
 * planner has statistics and index-only scans have a visibility map. On 10M points a
 * statement takes minutes: `db`'s pool needs statement and query timeouts that long.
 *
 * @example
 * await seedHistory(db, { projects: 40, scenarios: 4, seconds: 120, months: 6, points: 10_000_000 });
 */
export async function seedHistory(db: Kysely<Database>, shape: SeedShape, prefix = 'bench', progress: (line: string) => void = () => {}): Promise<SeedResult> {
  if (shape.scenarios < 1 || shape.scenarios > endpoints.length) throw new RangeError(`scenarios must be 1..${endpoints.length}`);
  const perRun = shape.scenarios * shape.seconds;
  const runsPerProject = Math.max(1, Math.floor(shape.points / (shape.projects * perRun)));
  const spanS = Math.round(shape.months * 30.44 * 86_400);
  const names = endpoints.slice(0, shape.scenarios);
  const projects = seedProjects(shape.projects, prefix);
  const started = performance.now();
  await sql`select gateway_points_ensure(now() - make_interval(secs => ${spanS + 86_400}), now() + interval '3 months')`.execute(db);
  for (const [pi, project] of projects.entries()) {
    await db.connection().execute(async (c) => {
      // The generator writes each run before its points, so the foreign keys hold by
      // construction: their per-row triggers are skipped (superuser only; else they run).
      await sql`set session_replication_role = replica`.execute(c).catch(() => {});
      await sql`set synchronous_commit = off`.execute(c);
      await sql`
        insert into gateway_runs (project_id, run_id, commit, branch, machine, profile, started_at, ended_at, outcome, duration_s)
        select ${project}, ${project} || '-r' || lpad(i::text, 6, '0'), 'c' || to_hex(i * 2654435761 % 4294967296),
          case when i % 5 = 0 then 'feature-' || (i % 7) else 'main' end,
          case when i % 2 = 0 then 'ci-2cpu' else 'ci-8cpu' end, 'quick',
          now() - make_interval(secs => (${runsPerProject} - i) * ${spanS}::double precision / ${runsPerProject} + ${pi * 37}),
          now() - make_interval(secs => (${runsPerProject} - i) * ${spanS}::double precision / ${runsPerProject} + ${pi * 37} - ${shape.seconds}),
          case when i % 23 = 0 then 'failed' else 'passed' end, ${shape.seconds}
        from generate_series(1, ${runsPerProject}) i`.execute(c);
      await sql`
        insert into gateway_run_scenarios (project_id, run_id, scenario, requests, errors, error_rate, rps, p50_ms, p95_ms, p99_ms, passed, status, thresholds)
        select r.project_id, r.run_id, sc, 100 * ${shape.seconds}, e, e / (100.0 * ${shape.seconds}), 100, 5 + k, 20 + 2 * k, 40 + 3 * k + (extract(epoch from r.started_at)::bigint % 5000) / 1000.0,
          e = 0, case when e = 0 then 'pass' else 'fail' end, '[{"expression":"p(99)<200","passed":true}]'::jsonb
        from gateway_runs r cross join lateral unnest(${names}::text[]) with ordinality as s(sc, k)
        cross join lateral (select case when hashtext(r.run_id || sc) % 50 = 0 then 10 * ${shape.seconds} else 0 end as e) errs
        where r.project_id = ${project}`.execute(c);
      await sql`
        insert into gateway_points (project_id, run_id, scenario, t, run_started_at, received_at, requests, errors, rps, p50_ms, p95_ms, p99_ms, histogram, snapshot)
        select r.project_id, r.run_id, sc, t, r.started_at, r.started_at + make_interval(secs => t), 100,
          case when hashtext(r.run_id || sc) % 50 = 0 then 10 else 0 end, 100,
          5 + k + (t % 3), 20 + 2 * k + (t % 7), 40 + 3 * k + (t % 11),
          'HISTFAKE' || md5(r.run_id || sc || t), '{"dropped":0,"active":10,"target_rps":100}'::jsonb
        from gateway_runs r cross join lateral unnest(${names}::text[]) with ordinality as s(sc, k) cross join generate_series(1, ${shape.seconds}) t
        where r.project_id = ${project}`.execute(c);
      // The connection goes back to the pool as it came (the benchmark reads on it).
      await sql`reset all`.execute(c);
    });
    if (pi % 5 === 4 || pi === projects.length - 1) {
      const s = (performance.now() - started) / 1000;
      progress(`seeded ${pi + 1}/${projects.length} projects, ${((pi + 1) * runsPerProject * perRun).toLocaleString('en')} points, ${s.toFixed(0)} s`);
    }
  }
  await sql`vacuum analyze gateway_runs, gateway_run_scenarios, gateway_points`.execute(db);
  const seconds = (performance.now() - started) / 1000;
  const points = projects.length * runsPerProject * perRun;
  return { projects, runs: projects.length * runsPerProject, scenario_rows: projects.length * runsPerProject * shape.scenarios, points, seconds: Math.round(seconds * 10) / 10, points_per_s: Math.round(points / seconds) };
}
