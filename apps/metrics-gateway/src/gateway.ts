import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { errorStatus, runIdSchema, type ErrorCode, type GatewayHealth } from '@crucible/contracts';
import { createDb, createPool } from '@crucible/db';
import { ApiKeyVerifier, ServiceError, adminRouter, armFailpoints, baseApp, errorEdge, listenHttp, parseInput, type ProjectScope } from '@crucible/service-kit';
import express, { type Express, type Request, type Response } from 'express';
import { pino, type Logger } from 'pino';
import { WebSocketServer } from 'ws';
import { z } from 'zod';
import type { GatewayConfig } from './config.js';
import { dashboardPage } from './dashboard.page.js';
import { GatewayMetrics } from './gateway.metrics.js';
import { historyRouter } from './history/history.routes.js';
import { HistoryStore } from './history/history.store.js';
import { CloseCode, Hub } from './hub.js';
import { jobResultsRouter } from './results/job-results.routes.js';

/** A gateway built and ready to listen. */
export interface Gateway extends AsyncDisposable {
  readonly app: Express;
  readonly hub: Hub;
  readonly metrics: GatewayMetrics;
  /** The run history writer, when the gateway has a database (`DATABASE_URL`). */
  readonly store: HistoryStore | undefined;
  /** Listens on `config.host:config.port` (0 = a free port); resolves with the base URL. */
  listen(): Promise<string>;
  /** Graceful stop: new upgrades refused, every socket closed with 1001, then the HTTP server. */
  close(): Promise<void>;
}

function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function bearer(header: string | undefined): string | undefined {
  const m = header ? /^Bearer\s+(.+)$/i.exec(header) : null;
  return m?.[1]?.trim();
}

/** Answers an upgrade request that will not become a WebSocket with the JSON error envelope. */
function refuseUpgrade(socket: Duplex, code: ErrorCode, message: string): void {
  const status = errorStatus[code];
  const body = JSON.stringify({ error: { code, message } });
  const head = [
    `HTTP/1.1 ${status} ${status === 401 ? 'Unauthorized' : status === 404 ? 'Not Found' : status === 503 ? 'Service Unavailable' : 'Bad Request'}`,
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    ...(status === 503 ? ['Retry-After: 1'] : []),
  ];
  socket.end(`${head.join('\r\n')}\r\n\r\n${body}`);
}

/**
 * Builds the metrics gateway: an Express 5 app (`/health`, `/metrics`, `/runs`, the live
 * dashboard under `/dashboard/<run>`, `POST /admin/drop-connections`) and the WebSocket hub
 * on `/ws`. Publishers authenticate with `Authorization: Bearer <token>` (or `?token=`,
 * for clients that cannot set headers); a connection without a token may only subscribe.
 *
 * @example
 * const gateway = createGateway(loadGatewayConfig());
 * const url = await gateway.listen(); // dashboard: `${url}/dashboard/<run id>`
 */
export function createGateway(config: GatewayConfig, options: { logger?: Logger } = {}): Gateway {
  const logger = options.logger ?? pino({ name: config.service, level: config.logLevel, base: { service: config.service } });
  armFailpoints(config.failpoints);
  if (Object.keys(config.failpoints).length > 0) logger.warn({ failpoints: config.failpoints }, 'failpoints armed: this process carries planted defects');
  // The metrics read the hub lazily (at scrape time), so it can be built after them.
  const metrics: GatewayMetrics = new GatewayMetrics(config.service, () => hub.stats());
  // With a database the gateway keeps every run (runs, points, summaries) and serves /api/v1;
  // without one it is the in-memory hub it always was.
  const db = config.store
    ? createDb(createPool({ connectionString: config.store.databaseUrl, max: config.store.poolMax, statementTimeoutMs: config.store.statementTimeoutMs, applicationName: config.service }))
    : undefined;
  const store = db && config.store ? new HistoryStore(db, config.store, logger) : undefined;
  const verifier = db ? new ApiKeyVerifier(db, { ttlMs: config.apiKeyCacheTtlMs }) : undefined;
  const hub = new Hub(config, logger, metrics, store);
  hub.streams?.register(metrics.registry);
  const started = performance.now();
  let closing = false;

  // Request logging stays off: the gateway's traffic is WebSocket frames, not HTTP requests.
  const app = baseApp({ httpDuration: metrics.httpDuration, isClosing: () => closing });

  app.get('/health', (_req, res) => {
    const s = hub.stats();
    const body: GatewayHealth = {
      status: closing ? 'unavailable' : 'ok',
      service: config.service,
      uptime_s: Math.round((performance.now() - started) / 10) / 100,
      instance: hub.instance,
      connections: s.connections,
      channels: s.channels,
      subscriptions: s.subscriptions,
      lagging_subscribers: s.lagging,
      messages: { ingested: s.ingested, delivered: s.delivered, dropped: s.dropped, rejected: s.rejected },
      slow_subscriber_events: s.slowSubscriberEvents,
      heartbeat_terminations: s.heartbeatTerminations,
    };
    if (closing) res.setHeader('Retry-After', '1');
    // `streams`: the Redis the replicas share run channels through (null: this process alone).
    res.status(closing ? 503 : 200).json({ ...body, history: store ? store.stats() : null, streams: hub.streams ? hub.streams.stats() : null });
  });

  app.get('/metrics', async (req, res) => {
    if (req.accepts(['text/plain', 'application/json']) === 'application/json') {
      res.json(await metrics.registry.getMetricsAsJSON());
      return;
    }
    res.setHeader('Content-Type', metrics.registry.contentType);
    res.send(await metrics.registry.metrics());
  });

  app.get('/runs', (_req, res) => {
    res.json({ runs: hub.runs() });
  });

  const sendPage = (res: Response, runId: string | null) => {
    const page = dashboardPage(runId);
    res.setHeader('Content-Security-Policy', page.csp);
    res.setHeader('Cache-Control', 'no-store');
    res.type('html').send(page.html);
  };
  app.get('/', (_req, res) => res.redirect(302, '/dashboard'));
  app.get('/dashboard', (_req, res) => sendPage(res, null));
  app.get('/dashboard/:runId', (req, res) => {
    const { runId } = parseInput(z.object({ runId: runIdSchema }), req.params, 'params');
    sendPage(res, runId);
  });

  app.post('/admin/drop-connections', (req, res) => {
    const token = bearer(req.headers.authorization);
    if (!token || !sameToken(token, config.adminToken)) {
      throw new ServiceError('unauthorized', 'this endpoint needs Authorization: Bearer <CRUCIBLE_ADMIN_TOKEN>');
    }
    // Answer at once: with thousands of sockets the close handshakes take a while, and the
    // caller wants to watch the reconnection, not wait for it.
    const { count } = hub.closeAll(CloseCode.serviceRestart, 'dropped by operator; reconnect', 2000);
    logger.warn({ dropped: count }, 'dropping every connection on request');
    res.json({ dropped: count });
  });

  // The results sink of distributed load runs (`crucible worker --results-url`): barrier and segments per job.
  app.use(jobResultsRouter({ admin: config.adminToken, publish: config.publishToken }));

  if (db && verifier) {
    app.use(historyRouter(db, verifier));
    // Projects and their keys, as on the other services (they share the database). The only
    // JSON body the gateway takes over HTTP, so the parser is mounted for it alone.
    app.use('/admin/projects', express.json({ limit: '16kb', strict: true }));
    app.use(adminRouter(db, config.adminToken));
  } else {
    app.use('/api/v1', () => {
      throw new ServiceError('not_found', 'this gateway keeps no run history: start it with DATABASE_URL');
    });
  }

  app.use((req: Request) => {
    throw new ServiceError('not_found', `no route for ${req.method} ${req.path}`);
  });
  app.use(errorEdge({ httpErrors: metrics.httpErrors, logger }));

  const wss = new WebSocketServer({ noServer: true, maxPayload: config.maxMessageBytes, perMessageDeflate: false, clientTracking: false });

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => {});
    const url = new URL(req.url ?? '/', 'http://gateway');
    const refuse = (code: ErrorCode, message: string) => {
      metrics.connectionsRejected.inc({ code });
      refuseUpgrade(socket, code, message);
    };
    if (url.pathname !== '/ws') return refuse('not_found', `no WebSocket endpoint at ${url.pathname}; use /ws`);
    if (closing) return refuse('shutting_down', 'the gateway is shutting down; reconnect to another instance');
    if (hub.size >= config.maxConnections) {
      return refuse('too_many_connections', `the gateway holds its limit of ${config.maxConnections} connections (GATEWAY_MAX_CONNECTIONS)`);
    }
    const token = bearer(req.headers.authorization) ?? url.searchParams.get('token') ?? undefined;
    const admit = (project?: string) => void (socket.destroyed || wss.handleUpgrade(req, socket, head, (ws) => hub.attach(ws, token !== undefined, project)));
    if (token === undefined || sameToken(token, config.publishToken)) return admit();
    const wrong = () => refuse('unauthorized', 'the publish token or API key is wrong; connect without one to subscribe only');
    // A project API key publishes into its project's history.
    if (!verifier) return wrong();
    const scoped = (scope: ProjectScope | undefined) => (scope ? admit(scope.projectId) : wrong());
    let found: ReturnType<ApiKeyVerifier['verify']>;
    try {
      found = verifier.verify(token);
    } catch {
      return refuse('database_unavailable', 'the API key cannot be checked now (the database is unavailable); retry');
    }
    if (!(found instanceof Promise)) return scoped(found);
    found.then(scoped, () => refuse('database_unavailable', 'the API key cannot be checked now (the database is unavailable); retry'));
  };

  let server: Server | undefined;
  let closed: Promise<void> | undefined;
  const close = () =>
    (closed ??= (async () => {
      closing = true;
      const s = server;
      const serverClosed = s ? new Promise<void>((resolve) => s.close(() => resolve())) : Promise.resolve();
      s?.closeIdleConnections();
      const all = hub.closeAll(CloseCode.goingAway, 'gateway shutting down', config.shutdownTimeoutMs);
      await all.done;
      const sockets = all.count;
      await hub.stop();
      // Every socket is closed: nothing more arrives, so what is buffered is all there is to write.
      await store?.close(config.shutdownTimeoutMs);
      await db?.destroy();
      const timer = setTimeout(() => s?.closeAllConnections(), config.shutdownTimeoutMs);
      await serverClosed;
      clearTimeout(timer);
      logger.info({ sockets }, 'stopped');
    })());

  return {
    app,
    hub,
    metrics,
    store,
    async listen() {
      let url: string;
      ({ server, url } = await listenHttp(app, config.host, config.port));
      server.on('upgrade', onUpgrade);
      logger.info({ url }, 'listening');
      return url;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
