/**
 * @crucible/testbed/testing — one-call fixtures for tests. Use with the `database: true`
 * option of the shared Vitest preset, which starts one PostgreSQL for the run.
 *
 * @example
 * const db = await testDatabase();           // fresh, migrated, dropped after the file
 * const config = { DATABASE_URL: db.url, CRUCIBLE_ADMIN_TOKEN: testAdminToken };
 *
 * // or a whole service on its own database, on a free port:
 * await using api = await startService((env) => createService(loadConfig('id-service', env), definition));
 * const alpha = await api.project('alpha');
 */
export { testAdminToken, testDatabase, testServer, testServiceEnv } from './fixtures.js';
export { startService, type ServiceFactory, type ServiceTestContext, type ServiceUnderTest, type StartServiceOptions } from './start-service.js';
export { clientFor, envelope, send, type Answer, type ApiClient, type RequestInput } from './api-client.js';
