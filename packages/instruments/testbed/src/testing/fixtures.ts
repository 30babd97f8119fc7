// The run's PostgreSQL (from the global setup), a fresh database per test file, and the
// environment a service under test is configured with.
import { afterAll, inject } from 'vitest';
import { createDatabase, type TestDatabase } from '../databases.js';
import type { PostgresServer } from '../postgres.js';

/** The admin token test services are configured with. */
export const testAdminToken = 'test-admin-token-0123456789abcdef';

function serverFromInjected(): PostgresServer {
  const adminUrl = inject('crucibleAdminUrl');
  if (!adminUrl) throw new Error('no test PostgreSQL: add `database: true` to this project\'s crucibleVitest() options');
  const stop = async () => {};
  const u = new URL(adminUrl);
  return {
    adminUrl,
    kind: 'external',
    host: u.hostname,
    port: Number(u.port || 5432),
    urlFor: (name) => {
      const v = new URL(adminUrl);
      v.pathname = `/${name}`;
      return v.toString();
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

/** The run's PostgreSQL server (started by the global setup). */
export function testServer(): PostgresServer {
  return serverFromInjected();
}

/**
 * A fresh migrated database for this test file, copied from the run's template and dropped
 * after the file's tests.
 */
export async function testDatabase(): Promise<TestDatabase> {
  const db = await createDatabase(serverFromInjected(), inject('crucibleTemplate'), 'crucible_test');
  afterAll(() => db.drop());
  return db;
}

/** Environment for a service under test on `db`. */
export function testServiceEnv(db: { url: string }, extra: Record<string, string> = {}): Record<string, string> {
  return { DATABASE_URL: db.url, CRUCIBLE_ADMIN_TOKEN: testAdminToken, LOG_LEVEL: 'silent', HOST: '127.0.0.1', PORT: '0', ...extra };
}
