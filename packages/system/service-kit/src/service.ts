import type { Server } from 'node:http';
import { createDb, createPool, type Database } from '@crucible/db';
import type { HealthResponse } from '@crucible/contracts';
import express, { Router, type Express, type NextFunction, type Request, type Response } from 'express';
import type { Kysely } from 'kysely';
import pg from 'pg';
import { pino, type Logger } from 'pino';
import { adminRouter } from './admin.js';
import { ApiKeyVerifier, requireApiKey } from './auth.js';
import type { ServiceConfig } from './config.js';
import { armFailpoints, failpoint } from './failpoints.js';
import { ServiceError } from './errors.js';
import { explainRouter, type HotQueries } from './explain.js';
import { baseApp, errorEdge } from './base-app.js';
import { ServiceMetrics } from './metrics.js';
import { DatabaseWatch } from './database-watch.js';
import { listenHttp } from './listen.js';

/** What a service's routes are given. */
export interface ServiceContext {
  readonly config: ServiceConfig;
  readonly db: Kysely<Database>;
  readonly pool: pg.Pool;
  readonly logger: Logger;
  readonly metrics: ServiceMetrics;
  /** Middleware that requires an API key and stores its project scope (see `scopeOf`). */
  readonly requireApiKey: ReturnType<typeof requireApiKey>;
}

export interface ServiceDefinition {
  /** Adds the service's own routes. Runs after auth, health, metrics and admin are mounted. */
  routes(app: Express, ctx: ServiceContext): void;
  /** Service-specific figures for `/health` (e.g. cache hit rate). */
  healthExtra?(ctx: ServiceContext): Record<string, unknown>;
  /** Called when the service stops, before the pool closes. */
  onClose?(ctx: ServiceContext): Promise<void> | void;
  /** Parsers for bodies that are not JSON (default: JSON only). */
  rawBodyTypes?: string[];
  /**
   * Path prefixes (e.g. `/artifacts/`) whose bodies the service's routes read themselves:
   * the global body parsers skip them, so bytes sent as `application/json` reach the route
   * exactly as sent and the route can apply its own size limit.
   */
  ownBodyPaths?: string[];
  /**
   * The service's hot queries as its routes build them; `GET /admin/explain?project=` then
   * answers their EXPLAIN ANALYZE plans (run in a rolled-back transaction) for reports.
   */
  hotQueries?: HotQueries;
}

/** A service built and ready to listen. */
export interface Service extends AsyncDisposable {
  readonly app: Express;
  readonly ctx: ServiceContext;
  /** Listens on `config.host:config.port` (0 = a free port); resolves with the base URL. */
  listen(): Promise<string>;
  /** Graceful stop: no new connections, in-flight requests finish (bounded), pool closed. */
  close(): Promise<void>;
}

class PoolWatch {
  peakInUse = 0;
  acquireTimeouts = 0;
  constructor(readonly pool: pg.Pool) {
    pool.on('acquire', () => {
      const inUse = pool.totalCount - pool.idleCount;
      if (inUse > this.peakInUse) this.peakInUse = inUse;
    });
  }
}

/**
 * The planted pool defects (failpoints; wrapped only when one is armed, never in production):
 * a connection kept from the pool after use (`db.pool.leak`) and a wait for a connection
 * without the acquire deadline (`db.acquire.no-timeout`). Kysely checks out with
 * `pool.connect()` and gives back with `client.release()`, so both are planted there.
 */
function plantPoolFaults(pool: pg.Pool): void {
  const connect = pool.connect.bind(pool) as (cb?: unknown) => Promise<pg.PoolClient>;
  const options = (pool as unknown as { options: { connectionTimeoutMillis?: number } }).options;
  const checkout = async (): Promise<pg.PoolClient> => {
    let waiting: Promise<pg.PoolClient>;
    if (failpoint('db.acquire.no-timeout')) {
      // pg-pool reads the deadline synchronously inside connect(): this one wait gets none.
      const deadline = options.connectionTimeoutMillis;
      options.connectionTimeoutMillis = 0;
      try {
        waiting = connect();
      } finally {
        options.connectionTimeoutMillis = deadline;
      }
    } else waiting = connect();
    const client = await waiting;
    const release = client.release;
    client.release = (err?: Error | boolean) => {
      if (!err && failpoint('db.pool.leak')) return;
      release(err);
    };
    return client;
  };
  // The callback form (pool.query) is left as it was: Kysely uses the promise form.
  pool.connect = ((cb?: unknown) => (typeof cb === 'function' ? connect(cb) : checkout())) as typeof pool.connect;
}

/** Whether `path` is `/admin` or under it, compared as Express routes compare (case-blind). */
function isAdminPath(path: string): boolean {
  return path.length >= 6 && (path.length === 6 || path[6] === '/') && path.slice(0, 6).toLowerCase() === '/admin';
}

/**
 * Builds an Express 5 service with everything Crucible apps share: JSON logs, the error
 * envelope for every 4xx/5xx, admin and API-key auth, `/health`, `/metrics`, fast 503s
 * when the database or the pool cannot serve, and graceful shutdown.
 *
 * @example
 * const service = createService(loadConfig('id-service'), { routes: (app, ctx) => app.use(idRoutes(ctx)) });
 * const url = await service.listen();
 */
export function createService(config: ServiceConfig, definition: ServiceDefinition, options: { logger?: Logger } = {}): Service {
  const logger = options.logger ?? pino({ name: config.service, level: config.logLevel, base: { service: config.service } });
  armFailpoints(config.failpoints);
  if (Object.keys(config.failpoints).length > 0) logger.warn({ failpoints: config.failpoints }, 'failpoints armed: this process carries planted defects');
  const pool = createPool({
    connectionString: config.databaseUrl,
    max: config.pool.max,
    acquireTimeoutMs: config.pool.acquireTimeoutMs,
    statementTimeoutMs: config.pool.statementTimeoutMs,
    queryTimeoutMs: config.pool.queryTimeoutMs,
    applicationName: config.service,
  });
  // Health has its own connection so an exhausted pool cannot make it wait.
  const healthPool = createPool({
    connectionString: config.databaseUrl,
    max: 1,
    acquireTimeoutMs: 1000,
    statementTimeoutMs: 1000,
    queryTimeoutMs: 1000,
    applicationName: `${config.service}-health`,
  });
  if (config.failpoints['db.pool.leak'] !== undefined || config.failpoints['db.acquire.no-timeout'] !== undefined) plantPoolFaults(pool);
  const watch = new PoolWatch(pool);
  // Detection and recovery of a database outage as log events (db_unreachable / db_recovered).
  const dbWatch = new DatabaseWatch({ logger, probe: () => healthPool.query('select 1') });
  const db = createDb(pool);
  const metrics = new ServiceMetrics(config.service, pool, config.pool.max);
  const verifier = new ApiKeyVerifier(db, { ttlMs: config.apiKeyCacheTtlMs });
  const ctx: ServiceContext = { config, db, pool, logger, metrics, requireApiKey: requireApiKey(verifier) };
  const started = performance.now();
  let closing = false;

  const app = baseApp({ httpDuration: metrics.httpDuration, isClosing: () => closing, logger });

  // Planted defects (failpoints; never armed in production): a healthy answer kept for 30 s
  // (`health.stale-ok`), and a breaker that refuses every request for 15 s after one
  // database error (`db.slow-recovery`).
  let staleOk: { at: number; latencyMs: number } | undefined;
  let refuseUntil = 0;

  app.get('/health', async (_req, res) => {
    const t0 = performance.now();
    let reachable = true;
    let error: string | undefined;
    let latencyMs: number | undefined;
    if (staleOk && t0 - staleOk.at < 30_000) latencyMs = staleOk.latencyMs;
    else {
      staleOk = undefined;
      try {
        await healthPool.query('select 1');
        latencyMs = Math.round((performance.now() - t0) * 100) / 100;
        dbWatch.succeeded();
        if (failpoint('health.stale-ok')) staleOk = { at: t0, latencyMs };
      } catch (err) {
        reachable = false;
        error = err instanceof Error ? err.message : String(err);
        dbWatch.failed(err);
      }
    }
    const body: HealthResponse = {
      status: reachable && !closing ? 'ok' : 'unavailable',
      service: config.service,
      uptime_s: Math.round((performance.now() - started) / 10) / 100,
      database: { reachable, latency_ms: latencyMs ?? null, ...(error ? { error } : {}) },
      pool: {
        total: pool.totalCount,
        idle: pool.idleCount,
        waiting: pool.waitingCount,
        max: config.pool.max,
        peak_in_use: watch.peakInUse,
        acquire_timeouts: watch.acquireTimeouts,
      },
      ...(definition.healthExtra ? { extra: definition.healthExtra(ctx) } : {}),
    };
    if (body.status !== 'ok') res.setHeader('Retry-After', '1');
    res.status(body.status === 'ok' ? 200 : 503).json(body);
  });

  app.get('/metrics', async (req, res) => {
    if (req.accepts(['text/plain', 'application/json']) === 'application/json') {
      res.json(await metrics.registry.getMetricsAsJSON());
      return;
    }
    res.setHeader('Content-Type', metrics.registry.contentType);
    res.send(await metrics.registry.metrics());
  });

  // Compared case-blind, as Express routes (`PUT /ARTIFACTS/x` reaches the artifact route, so
  // the JSON parser must skip it too, or it eats the bytes the route stores).
  const ownBody = (definition.ownBodyPaths ?? []).map((p) => p.toLowerCase());
  const unlessOwnBody =
    (parser: express.RequestHandler): express.RequestHandler =>
    (req, res, next) => {
      const path = req.path.toLowerCase();
      return ownBody.some((prefix) => path.startsWith(prefix)) ? next() : parser(req, res, next);
    };
  // A request without a body (no Content-Length, no Transfer-Encoding: every GET the hot routes
  // take) skips the parsers, which would only find that out themselves.
  const withBody =
    (parser: express.RequestHandler): express.RequestHandler =>
    (req, res, next) =>
      req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined ? next() : parser(req, res, next);
  const bodyParser = (parser: express.RequestHandler) => withBody(ownBody.length > 0 ? unlessOwnBody(parser) : parser);
  app.use(bodyParser(express.json({ limit: config.bodyLimitBytes, strict: true, type: ['application/json', 'application/*+json'] })));
  if (definition.rawBodyTypes) {
    app.use(bodyParser(express.raw({ limit: config.bodyLimitBytes, type: definition.rawBodyTypes })));
  }
  // The admin routers serve /admin/… only: one prefix test (case-blind, as Express routes)
  // spares every other request a walk through two nested routers and their layers.
  const admin = Router();
  admin.use(adminRouter(db, config.adminToken));
  if (definition.hotQueries) admin.use(explainRouter(db, config.adminToken, definition.hotQueries));
  app.use((req: Request, res: Response, next: NextFunction) => (isAdminPath(req.path) ? admin(req, res, next) : next()));
  // Failpoints are armed once, at start: without the planted breaker no request pays for its check.
  if (config.failpoints['db.slow-recovery'] !== undefined) {
    app.use((_req: Request, _res: Response, next: NextFunction) => {
      next(performance.now() < refuseUntil ? new ServiceError('database_unavailable', 'the database is unavailable; retry shortly') : undefined);
    });
  }
  definition.routes(app, ctx);

  app.use((req: Request) => {
    throw new ServiceError('not_found', `no route for ${req.method} ${req.path}`);
  });
  app.use(
    errorEdge({
      httpErrors: metrics.httpErrors,
      logger,
      observe(e, thrown) {
        if (e.code === 'pool_exhausted') watch.acquireTimeouts++;
        if (e.code === 'database_unavailable' && !(thrown instanceof ServiceError)) dbWatch.failed(thrown);
        // A real database error (not the breaker's own refusal) opens the planted breaker.
        if (e.code === 'database_unavailable' && !(thrown instanceof ServiceError) && failpoint('db.slow-recovery')) refuseUntil = performance.now() + 15_000;
      },
    }),
  );

  let server: Server | undefined;
  let closed: Promise<void> | undefined;

  const close = () =>
    (closed ??= (async () => {
      closing = true;
      dbWatch.close();
      if (server) {
        const s = server;
        const done = new Promise<void>((resolve) => s.close(() => resolve()));
        s.closeIdleConnections();
        const timer = setTimeout(() => s.closeAllConnections(), config.shutdownTimeoutMs);
        await done;
        clearTimeout(timer);
      }
      await definition.onClose?.(ctx);
      await Promise.allSettled([db.destroy(), healthPool.end()]);
      logger.info('stopped');
    })());

  return {
    app,
    ctx,
    async listen() {
      let url: string;
      ({ server, url } = await listenHttp(app, config.host, config.port));
      logger.info({ url }, 'listening');
      return url;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

/**
 * Waits until the database answers and holds the Crucible schema, or throws a message that
 * names the problem once `timeoutMs` has passed.
 */
export function waitForDatabase(config: ServiceConfig): Promise<void> {
  return waitForSchema(config.databaseUrl, config.dbStartupTimeoutMs, { table: 'projects', missing: 'no Crucible schema' });
}

/**
 * Waits until the database at `databaseUrl` answers and holds `schema.table`, retrying every
 * 250 ms for `timeoutMs`; throws naming the address and the last error, or at once naming the
 * migration to run when the database answers without the table.
 *
 * @example
 * await waitForSchema(url, 5000, { table: 'gateway_runs', missing: 'no run history tables (gateway_runs)' });
 */
export async function waitForSchema(databaseUrl: string, timeoutMs: number, schema: { readonly table: string; readonly missing: string }): Promise<void> {
  const target = new URL(databaseUrl);
  const deadline = Date.now() + timeoutMs;
  const noSchema = `database ${target.pathname.slice(1)} has ${schema.missing}: run the migrations (npm run migrate -w @crucible/db)`;
  let last: unknown;
  for (;;) {
    const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 2000, query_timeout: 2000 });
    let found: boolean | undefined;
    try {
      await client.connect();
      const { rows } = await client.query<{ ok: boolean }>('select to_regclass($1) is not null as ok', [`public.${schema.table}`]);
      found = rows[0]?.ok === true;
    } catch (err) {
      last = err;
    } finally {
      await client.end().catch(() => {});
    }
    if (found === true) return;
    if (found === false) throw new Error(noSchema);
    if (Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  const reason = last instanceof Error ? last.message || (last as NodeJS.ErrnoException).code : String(last);
  throw new Error(`database unreachable at DATABASE_URL (${target.hostname}:${target.port || 5432}): ${reason}`);
}
