import { randomBytes } from 'node:crypto';
import { InstrumentError } from '@crucible/instrument-kit';
import { createProjectResponseSchema, type CreateProjectResponse } from '@crucible/contracts';
import { discoverApps, startApp, type AppManifest, type RunningApp } from './apps.js';
import { onTeardown } from './cleanup.js';
import { createDatabase, ensureTemplate, type TestDatabase } from './databases.js';
import { startPostgres, type PostgresServer } from './postgres.js';
import { startRedis, type RedisServer } from './redis.js';
import { startSutChaos, type SutChaos, type SutChaosControl } from './sut-chaos.js';
import { startNginx, type Nginx } from './nginx.js';

export interface SutOptions {
  /** Apps to start by service name, with the apps they need (default: every app found under `apps/`). */
  apps?: readonly string[];
  /** Replicas per app (default 1), e.g. `{ 'task-api': 3 }`. */
  replicas?: Readonly<Record<string, number>>;
  /** External PostgreSQL (default `process.env.DATABASE_URL`; unset = embedded). */
  databaseUrl?: string | undefined;
  /** Reuse an already running server instead of starting one. */
  server?: PostgresServer;
  /** Admin token for the apps (default `CRUCIBLE_ADMIN_TOKEN` or a random one). */
  adminToken?: string;
  /** Extra environment for every app, or per app under its service name. */
  env?: Record<string, string | undefined>;
  appEnv?: Readonly<Record<string, Record<string, string | undefined>>>;
  /**
   * Rewrites the database URL an app is given, e.g. to route it through a Toxiproxy proxy.
   * Receives the direct URL; the default gives every app the direct URL.
   */
  databaseUrlFor?: (app: string, directUrl: string) => string | Promise<string>;
  /**
   * Start toxiproxy-server and put a proxy between each app and PostgreSQL (`sut.chaos`).
   * `databaseUrlFor`, if given, then receives the proxied URL.
   */
  chaos?: boolean;
  /**
   * Apps to put behind a real nginx (round robin over every replica started with the
   * system; `sut.balancedUrl(app)`, `sut.balancer(app)`), e.g. `['task-api']` with
   * `replicas: { 'task-api': 3 }`. Needs nginx (`tools/install-nginx.sh`).
   */
  balance?: readonly string[];
  /**
   * Start a redis-server (or use `REDIS_URL`) and give every app `REDIS_URL` and a
   * `REDIS_KEY_PREFIX` of this SUT's own, so SUTs sharing one Redis never see each other's keys.
   */
  redis?: boolean;
  log?: (line: string) => void;
}

/** The running system under test. */
export interface Sut extends AsyncDisposable {
  readonly server: PostgresServer;
  readonly database: TestDatabase;
  /** Direct URL of the SUT's database (for SQL evidence). */
  readonly databaseUrl: string;
  readonly adminToken: string;
  /** Every replica of every app, by service name. */
  readonly apps: Readonly<Record<string, RunningApp[]>>;
  /** The proxies between the apps and PostgreSQL, when started with `chaos: true`. */
  readonly chaos: SutChaos | undefined;
  /** The Redis the apps share, when started with `redis: true` (`kill`/`restart`/`freeze` take it away). */
  readonly redis: RedisServer | undefined;
  /** The base URL of the first replica of `app`. */
  url(app: string): string;
  /** The nginx in front of every replica of `app` (started with `balance: [app]`). */
  balancer(app: string): Nginx;
  /** The base URL of {@link Sut.balancer}: where a client of all of `app`'s replicas sends requests. */
  balancedUrl(app: string): string;
  /** Creates a project through the admin endpoint of `via` (default: first app) and returns its key. */
  createProject(id: string, via?: string): Promise<CreateProjectResponse>;
  /** Starts one more replica (or a restarted one) of `app`. */
  startReplica(app: string, env?: Record<string, string | undefined>): Promise<RunningApp>;
  /** The line `npm run sut` prints: every app URL, the database URL and the admin token. */
  summary(): Record<string, string>;
  stop(): Promise<void>;
}

/** The wanted apps and, transitively, every app they need (`crucible.needs`). */
function withDependencies(wanted: readonly string[], known: readonly AppManifest[]): AppManifest[] {
  const out: AppManifest[] = [];
  const add = (name: string, by?: string) => {
    if (out.some((m) => m.name === name)) return;
    const m = known.find((a) => a.name === name);
    if (!m) throw new InstrumentError('unknown_app', `unknown app "${name}"${by ? ` (needed by ${by})` : ''}: known apps are ${known.map((a) => a.name).join(', ') || 'none'}`);
    out.push(m);
    for (const dep of Object.values(m.needs)) add(dep, name);
  };
  for (const name of wanted) add(name);
  return out;
}

/** The apps in start order: each level needs only apps of earlier levels. */
function startOrder(manifests: readonly AppManifest[]): AppManifest[][] {
  const levels: AppManifest[][] = [];
  const started = new Set<string>();
  let left = [...manifests];
  while (left.length > 0) {
    const ready = left.filter((m) => Object.values(m.needs).every((d) => started.has(d)));
    if (ready.length === 0) throw new InstrumentError('unknown_app', `apps need each other in a cycle: ${left.map((m) => m.name).join(', ')}`);
    levels.push(ready);
    for (const m of ready) started.add(m.name);
    left = left.filter((m) => !ready.includes(m));
  }
  return levels;
}

/**
 * Brings the system under test up: PostgreSQL (embedded unless `DATABASE_URL`), a fresh
 * migrated database, and the apps as processes on free ports, each healthy before this
 * resolves. An app's dependencies (`crucible.needs`) are started too, first, and their URLs
 * passed to it (through a `<dep>-from-<app>` proxy under `chaos: true`). All apps share the
 * one database, so a project created through any of them exists in all. `stop()` (or `await using`) tears everything down, as do SIGINT and SIGTERM.
 *
 * @example
 * await using sut = await startSut({ apps: ['id-service'] });
 * const { api_key } = await sut.createProject('alpha');
 * await fetch(`${sut.url('id-service')}/ids/next?type=US`, { headers: { authorization: `Bearer ${api_key}` } });
 */
export async function startSut(options: SutOptions = {}): Promise<Sut> {
  const known = discoverApps();
  const wanted = options.apps ?? known.map((a) => a.name);
  const manifests = withDependencies(wanted, known);
  const adminToken = options.adminToken ?? process.env['CRUCIBLE_ADMIN_TOKEN'] ?? randomBytes(24).toString('base64url');
  const ownServer = !options.server;
  const server = options.server ?? (await startPostgres({ url: options.databaseUrl ?? process.env['DATABASE_URL'], log: options.log }));
  const apps: Record<string, RunningApp[]> = {};
  let database: TestDatabase | undefined;
  let chaos: SutChaosControl | undefined;
  let redis: RedisServer | undefined;
  const balancers = new Map<string, Nginx>();
  const stopAll = async () => {
    // The balancers first, so nothing is routed to a replica while it stops.
    await Promise.allSettled([...balancers.values()].map((b) => b.stop()));
    await Promise.allSettled(Object.values(apps).flat().map((a) => a.stop()));
    await chaos?.stop();
    await redis?.stop();
    await database?.drop();
    if (ownServer) await server.stop();
  };
  const unregister = onTeardown(stopAll);
  const stop = async () => {
    await unregister();
  };
  try {
    const template = await ensureTemplate(server);
    database = await createDatabase(server, template, 'crucible_sut');
    const db = database;
    if (options.chaos) chaos = await startSutChaos();
    if (options.redis) redis = await startRedis({ url: process.env['REDIS_URL'] });
    const redisEnv = redis ? { REDIS_URL: redis.url, REDIS_KEY_PREFIX: `crucible:${db.name}:` } : {};
    const routed = chaos;
    const urlFor = async (app: string) => {
      const url = routed ? await routed.databaseUrlFor(app, db.url) : db.url;
      return options.databaseUrlFor ? options.databaseUrlFor(app, url) : url;
    };
    // Through the link's proxy under chaos, so a step can take the dependency away from this caller.
    const needsFor = async (m: AppManifest) => {
      const env: Record<string, string> = {};
      for (const [variable, dep] of Object.entries(m.needs)) {
        const direct = apps[dep]?.[0]?.url;
        if (!direct) throw new InstrumentError('unknown_app', `${m.name} needs ${dep} (${variable}), which is not running`);
        env[variable] = routed ? await routed.dependencyUrlFor(m.name, dep, direct) : direct;
      }
      return env;
    };
    const envFor = async (m: AppManifest, extra?: Record<string, string | undefined>) => ({
      CRUCIBLE_ADMIN_TOKEN: adminToken,
      ...(m.database ? { DATABASE_URL: await urlFor(m.name) } : {}),
      ...(await needsFor(m)),
      ...redisEnv,
      ...options.env,
      ...options.appEnv?.[m.name],
      ...extra,
    });
    const startReplica = async (name: string, extra?: Record<string, string | undefined>) => {
      const m = manifests.find((a) => a.name === name) ?? known.find((a) => a.name === name);
      if (!m) throw new InstrumentError('unknown_app', `unknown app "${name}"`);
      const running = await startApp(m, { env: await envFor(m, extra) });
      (apps[name] ??= []).push(running);
      return running;
    };
    // Dependencies first: an app is given the URL of every app it needs when it starts.
    for (const level of startOrder(manifests)) {
      await Promise.all(level.flatMap((m) => Array.from({ length: options.replicas?.[m.name] ?? 1 }, () => startReplica(m.name))));
    }
    for (const app of options.balance ?? []) {
      const replicas = apps[app];
      if (!replicas?.length) throw new InstrumentError('unknown_app', `cannot balance "${app}": it is not one of the apps started (${manifests.map((m) => m.name).join(', ')})`);
      const websocket = manifests.find((m) => m.name === app)?.websocket ?? false;
      balancers.set(app, await startNginx({ upstreams: replicas.map((r) => r.url), websocket }));
    }
    const balancer = (app: string) => {
      const b = balancers.get(app);
      if (!b) throw new InstrumentError('unknown_app', `app "${app}" has no balancer: start the SUT with balance: ['${app}']`);
      return b;
    };
    const url = (app: string) => {
      const first = apps[app]?.[0];
      if (!first) throw new InstrumentError('unknown_app', `app "${app}" is not running in this SUT`);
      return first.url;
    };
    return {
      server,
      database: db,
      databaseUrl: db.url,
      adminToken,
      apps,
      chaos: routed,
      redis,
      url,
      balancer,
      balancedUrl: (app) => balancer(app).url,
      startReplica,
      async createProject(id, via) {
        const base = url(via ?? manifests.find((m) => m.database)?.name ?? wanted[0]!);
        const res = await fetch(`${base}/admin/projects`, {
          method: 'POST',
          headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
          body: JSON.stringify({ id }),
        });
        const body: unknown = await res.json();
        if (res.status !== 201) throw new InstrumentError('sut_request_failed', `creating project ${id} failed: ${res.status} ${JSON.stringify(body)}`);
        return createProjectResponseSchema.parse(body);
      },
      summary() {
        const line: Record<string, string> = {};
        for (const m of manifests) line[`${m.name.replaceAll('-', '_')}_url`] = url(m.name);
        line['database_url'] = db.url;
        line['admin_token'] = adminToken;
        if (routed) line['toxiproxy_url'] = routed.server.url;
        if (redis) line['redis_url'] = redis.url;
        for (const [app, b] of balancers) line[`${app.replaceAll('-', '_')}_balanced_url`] = b.url;
        return line;
      },
      stop,
      [Symbol.asyncDispose]: stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
