// Who waits inside PostgreSQL while a step's load runs: the client backends of the system's
// database, sampled from pg_stat_activity by a probe. A database bottleneck shows here first
// as backends waiting on a heavyweight lock (`Lock`: a row or a table) or on an internal one
// (`LWLock`: buffer mapping, WAL insertion), long before it shows in a percentile.
import type { Database } from '@crucible/db';
import { sql, type Kysely } from 'kysely';
import { startProbe, type Probe, type ProbeSample } from './probe.js';

/** One sample of the database's client backends (the probe's own connection left out). */
export interface PgWaitSample {
  /** Client backends connected to the database: the apps' pooled connections. */
  readonly backends: number;
  /** Of them, running a statement (`state = 'active'`): connections the pools have lent out and that are working. */
  readonly active: number;
  /** Waiting on a heavyweight lock (`wait_event_type = 'Lock'`). */
  readonly lock: number;
  /** Waiting on a lightweight lock (`wait_event_type = 'LWLock'`). */
  readonly lwlock: number;
}

/** What a run's samples add up to, as report metrics. */
export interface PgWaitFigures {
  readonly pg_samples: number;
  readonly pg_backends_max: number;
  readonly pg_active_max: number;
  readonly pg_active_mean: number;
  readonly pg_lock_waiting_max: number;
  readonly pg_lock_waiting_mean: number;
  readonly pg_lwlock_waiting_max: number;
  readonly pg_lwlock_waiting_mean: number;
  /** Share of samples (%) in which any backend waited on a Lock or LWLock. */
  readonly pg_samples_with_lock_waits_pct: number;
}

/** One sample of `pg_stat_activity` for the connected database. */
export async function samplePgWaits(db: Kysely<Database>): Promise<PgWaitSample> {
  const { rows } = await sql<{ backends: number; active: number; lock: number; lwlock: number }>`
    select count(*)::int as backends,
      (count(*) filter (where state = 'active'))::int as active,
      (count(*) filter (where wait_event_type = 'Lock'))::int as lock,
      (count(*) filter (where wait_event_type = 'LWLock'))::int as lwlock
    from pg_stat_activity
    where datname = current_database() and backend_type = 'client backend' and pid <> pg_backend_pid()`.execute(db);
  const r = rows[0];
  if (!r) throw new Error('pg_stat_activity answered no row');
  return r;
}

/**
 * Samples `pg_stat_activity` every `intervalMs` (default 100) on `db` until `stop()`. Read the
 * samples with {@link pgWaitFigures}.
 *
 * @example
 * const waits = startPgWaitProbe(kit.db);
 * const result = await kit.runOne(load);
 * Object.assign(result.metrics, pgWaitFigures(await waits.stop()));
 */
export function startPgWaitProbe(db: Kysely<Database>, intervalMs = 100): Probe<PgWaitSample> {
  return startProbe(() => samplePgWaits(db), intervalMs);
}

/**
 * Maxima and means of the samples. Throws when there is none: a figure that was never
 * observed must not read as "no waits".
 */
export function pgWaitFigures(samples: readonly ProbeSample<PgWaitSample>[]): PgWaitFigures {
  if (samples.length === 0) throw new Error('no pg_stat_activity sample was taken during the load');
  const values = samples.map((s) => s.value);
  const max = (f: keyof PgWaitSample) => Math.max(...values.map((v) => v[f]));
  const mean = (f: keyof PgWaitSample) => Math.round((values.reduce((a, v) => a + v[f], 0) / values.length) * 100) / 100;
  return {
    pg_samples: values.length,
    pg_backends_max: max('backends'),
    pg_active_max: max('active'),
    pg_active_mean: mean('active'),
    pg_lock_waiting_max: max('lock'),
    pg_lock_waiting_mean: mean('lock'),
    pg_lwlock_waiting_max: max('lwlock'),
    pg_lwlock_waiting_mean: mean('lwlock'),
    pg_samples_with_lock_waits_pct: Math.round((values.filter((v) => v.lock + v.lwlock > 0).length / values.length) * 1000) / 10,
  };
}
