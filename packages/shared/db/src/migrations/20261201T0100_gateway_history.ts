import { sql, type Kysely } from 'kysely';

/**
 * The metrics gateway's run history: one row per run, one per scenario summary (from the
 * run's `run_end`), one per per-second snapshot. Every table leads with `project_id`, so each
 * key-scoped query is an index range on its project. `gateway_runs.project_id` has no foreign
 * key on purpose: the flush is one transaction per batch, and a run the operator's token
 * filed under a project that does not exist must not make every later batch fail.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('gateway_runs')
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('run_id', 'text', (c) => c.notNull())
    .addColumn('commit', 'text')
    .addColumn('branch', 'text')
    .addColumn('machine', 'text')
    .addColumn('profile', 'text')
    .addColumn('started_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('ended_at', 'timestamptz')
    /** `passed`, `failed` or `inconclusive` once the run ended; null while it runs. */
    .addColumn('outcome', 'text')
    .addColumn('duration_s', 'double precision')
    .addPrimaryKeyConstraint('gateway_runs_pkey', ['project_id', 'run_id'])
    .execute();
  await db.schema.createIndex('gateway_runs_project_started').on('gateway_runs').columns(['project_id', 'started_at desc']).execute();

  await db.schema
    .createTable('gateway_run_scenarios')
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('run_id', 'text', (c) => c.notNull())
    .addColumn('scenario', 'text', (c) => c.notNull())
    .addColumn('requests', 'bigint', (c) => c.notNull())
    .addColumn('errors', 'bigint', (c) => c.notNull())
    .addColumn('error_rate', 'double precision', (c) => c.notNull())
    .addColumn('rps', 'double precision', (c) => c.notNull())
    .addColumn('p50_ms', 'double precision')
    .addColumn('p95_ms', 'double precision')
    .addColumn('p99_ms', 'double precision')
    .addColumn('passed', 'boolean', (c) => c.notNull())
    .addColumn('status', 'text')
    .addColumn('thresholds', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addPrimaryKeyConstraint('gateway_run_scenarios_pkey', ['project_id', 'run_id', 'scenario'])
    .addForeignKeyConstraint('gateway_run_scenarios_run_fkey', ['project_id', 'run_id'], 'gateway_runs', ['project_id', 'run_id'], (c) => c.onDelete('cascade'))
    .execute();
  // The trend: a scenario's last N runs of a project.
  await db.schema.createIndex('gateway_run_scenarios_trend').on('gateway_run_scenarios').columns(['project_id', 'scenario']).execute();

  await db.schema
    .createTable('gateway_points')
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('run_id', 'text', (c) => c.notNull())
    .addColumn('scenario', 'text', (c) => c.notNull())
    /** Seconds since the scenario started (the snapshot's `t`). */
    .addColumn('t', 'double precision', (c) => c.notNull())
    .addColumn('received_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('requests', 'bigint', (c) => c.notNull())
    .addColumn('errors', 'bigint', (c) => c.notNull())
    .addColumn('rps', 'double precision', (c) => c.notNull())
    .addColumn('p50_ms', 'double precision')
    .addColumn('p95_ms', 'double precision')
    .addColumn('p99_ms', 'double precision')
    /** The second's HDR histogram, base64, as the publisher encoded it. */
    .addColumn('histogram', 'text')
    /** The whole snapshot as sent (errors by kind, dropped, active, target rate). */
    .addColumn('snapshot', 'jsonb', (c) => c.notNull())
    .addPrimaryKeyConstraint('gateway_points_pkey', ['project_id', 'run_id', 'scenario', 't'])
    .addForeignKeyConstraint('gateway_points_run_fkey', ['project_id', 'run_id'], 'gateway_runs', ['project_id', 'run_id'], (c) => c.onDelete('cascade'))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('gateway_points').execute();
  await db.schema.dropTable('gateway_run_scenarios').execute();
  await db.schema.dropTable('gateway_runs').execute();
}
