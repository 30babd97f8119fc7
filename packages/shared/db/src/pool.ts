import pg from 'pg';
import { Kysely, PostgresDialect } from 'kysely';
import type { Database } from './database.js';

/** How a service talks to PostgreSQL. Every figure is configurable. */
export interface PoolOptions {
  connectionString: string;
  /** Largest number of connections (default 10). */
  max?: number;
  /** How long a request may wait for a free connection before it fails (default 2000 ms). */
  acquireTimeoutMs?: number;
  /** Server-side `statement_timeout` for every connection (default 5000 ms). */
  statementTimeoutMs?: number;
  /** Client-side limit on one query, so a silent network cannot hang a request (default statement timeout + 1000 ms). */
  queryTimeoutMs?: number;
  /** Idle connections are closed after this long (default 10000 ms). */
  idleTimeoutMs?: number;
  applicationName?: string;
}

/** Resolved pool figures, as reported in `/health`. */
export type ResolvedPoolOptions = Required<PoolOptions>;

export function resolvePoolOptions(options: PoolOptions): ResolvedPoolOptions {
  const statementTimeoutMs = options.statementTimeoutMs ?? 5000;
  return {
    connectionString: options.connectionString,
    max: options.max ?? 10,
    acquireTimeoutMs: options.acquireTimeoutMs ?? 2000,
    statementTimeoutMs,
    queryTimeoutMs: options.queryTimeoutMs ?? statementTimeoutMs + 1000,
    idleTimeoutMs: options.idleTimeoutMs ?? 10_000,
    applicationName: options.applicationName ?? 'crucible',
  };
}

/**
 * Creates a `pg` pool whose waits are bounded: acquiring a connection fails after
 * `acquireTimeoutMs` (pg-pool applies `connectionTimeoutMillis` to queued waits too), and
 * statements are limited on both sides of the wire.
 *
 * @example
 * const pool = createPool({ connectionString: process.env.DATABASE_URL!, max: 20 });
 * const db = createDb(pool);
 */
export function createPool(options: PoolOptions): pg.Pool {
  const o = resolvePoolOptions(options);
  const pool = new pg.Pool({
    connectionString: o.connectionString,
    max: o.max,
    connectionTimeoutMillis: o.acquireTimeoutMs,
    idleTimeoutMillis: o.idleTimeoutMs,
    statement_timeout: o.statementTimeoutMs,
    query_timeout: o.queryTimeoutMs,
    application_name: o.applicationName,
    keepAlive: true,
  });
  // An idle client that loses its server emits 'error' on the pool; without a listener
  // that would crash the process. The next checkout simply gets a fresh connection.
  pool.on('error', () => {});
  // A checked-out client has no pool listener: a connection cut while in use (reset,
  // database restart) would emit an unhandled 'error' and kill the process. The query in
  // flight gets the error anyway, and the pool drops the client on release (not queryable).
  pool.on('connect', (client) => client.on('error', () => {}));
  // A query that hit query_timeout leaves its client waiting for the stale answer; reused,
  // the next request would queue behind it (or forever, on a silent network). Close such a
  // client on release instead (`end()` marks it ending, so the pool removes it).
  pool.on('release', (err, client) => {
    if (!err && (client as unknown as { _activeQuery?: unknown })._activeQuery) void client.end().catch(() => {});
  });
  return pool;
}

/** Wraps a pool in a typed Kysely instance. */
export function createDb(pool: pg.Pool): Kysely<Database> {
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

/** Current pool counters. */
export function poolStats(pool: pg.Pool, max: number): { total: number; idle: number; waiting: number; max: number } {
  return { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount, max };
}
