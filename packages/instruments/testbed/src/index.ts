/**
 * @crucible/testbed — brings the system under test up and down: a real PostgreSQL
 * (embedded by default, `DATABASE_URL` for another), migrations, the apps on free ports,
 * health waits, and teardown on success, failure, SIGINT and SIGTERM.
 *
 * @example
 * await using sut = await startSut({ apps: ['task-api'] });
 * const { api_key } = await sut.createProject('alpha');
 */
export { startPostgres, parseDatabaseUrl, type PostgresServer, type StartPostgresOptions } from './postgres.js';
export { ensureTemplate, createDatabase, type TestDatabase } from './databases.js';
export { discoverApps, startApp, waitHealthy, type AppManifest, type AppLogEvent, type RunningApp, type StartAppOptions } from './apps.js';
export { startSut, type Sut, type SutOptions } from './sut.js';
export type { SutChaos } from './sut-chaos.js';
export { startRedis, resolveRedisServer, type RedisServer, type StartRedisOptions } from './redis.js';
export { startNginx, nginxConfig, resolveNginx, type Nginx, type StartNginxOptions } from './nginx.js';
export { replicaCounters, parseCounters, counterDeltas, replicaShareVerdict, shareTolerancePoints, type ReplicaCounters } from './replica-counters.js';
export { processUsage, cpuShareOf, clockTicksPerSecond, type ProcessUsage } from './process-usage.js';
export { freePort } from './ports.js';
export { onTeardown, teardownAll } from './cleanup.js';
export { connectSut, readSutTarget, targetApps, type SutTarget, type ConnectSutOptions } from './connect.js';
