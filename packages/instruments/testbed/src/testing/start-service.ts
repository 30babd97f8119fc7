import { createProjectResponseSchema } from '@crucible/contracts';
import { createDb, createPool, type Database } from '@crucible/db';
import type { Kysely } from 'kysely';
import { clientFor, send, type ApiClient } from './api-client.js';
import { testAdminToken, testDatabase, testServiceEnv } from './fixtures.js';

/** What {@link startService} needs of a service: it listens (on the port its env names) and closes. */
export interface ServiceUnderTest {
  /** Starts listening; resolves with the base URL. */
  listen(): Promise<string>;
  close(): Promise<void>;
}

/** Builds the service under test from its environment (`DATABASE_URL`, admin token, `PORT=0` …). */
export type ServiceFactory<S extends ServiceUnderTest> = (env: Readonly<Record<string, string>>) => S;

export interface StartServiceOptions {
  /** Variables added to, or overriding, the test environment (pool size, limits …). */
  env?: Record<string, string>;
}

/** A running service on a fresh database of its own. */
export interface ServiceTestContext<S extends ServiceUnderTest = ServiceUnderTest> extends AsyncDisposable {
  /** Base URL, e.g. `http://127.0.0.1:40123`. */
  readonly url: string;
  /** The service object the factory built (for its context, metrics …). */
  readonly service: S;
  /** A separate connection to the service's database, for SQL evidence and seeding. */
  readonly db: Kysely<Database>;
  readonly databaseUrl: string;
  /** Creates a project through the real admin endpoint and returns a client with its key. */
  project(id: string): Promise<ApiClient>;
  /** Stops the service and closes the evidence connection (once; later calls wait for it). */
  close(): Promise<void>;
}

/**
 * Starts a service in this process for a black-box test: a fresh migrated database (dropped
 * after the file), the service built by `create` from the test environment and listening on
 * a free port (`PORT=0`), and a separate connection for SQL evidence. Dispose of it (or call
 * `close`) when done.
 *
 * @example
 * await using api = await startService((env) => createService(loadConfig('id-service', env), definition), { env: { DB_POOL_MAX: '20' } });
 * const alpha = await api.project('alpha');
 * const res = await alpha.request('POST', '/ids/reserve', { json: { type: 'US', count: 6 } });
 */
export async function startService<S extends ServiceUnderTest>(create: ServiceFactory<S>, options: StartServiceOptions = {}): Promise<ServiceTestContext<S>> {
  const database = await testDatabase();
  const service = create(testServiceEnv(database, options.env));
  let url: string;
  try {
    url = await service.listen();
  } catch (err) {
    await service.close().catch(() => {});
    throw err;
  }
  const db = createDb(createPool({ connectionString: database.url, max: 2 }));
  let closed: Promise<void> | undefined;
  const close = () => (closed ??= Promise.all([service.close(), db.destroy()]).then(() => {}));
  return {
    url,
    service,
    db,
    databaseUrl: database.url,
    async project(id) {
      const created = await send(url, 'POST', '/admin/projects', { json: { id }, headers: { authorization: `Bearer ${testAdminToken}` } });
      if (created.status !== 201) throw new Error(`creating project ${id}: ${created.status} ${JSON.stringify(created.body)}`);
      return clientFor(url, createProjectResponseSchema.parse(created.body).api_key);
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
