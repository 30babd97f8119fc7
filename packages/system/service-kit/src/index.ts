/**
 * @crucible/service-kit — what every Crucible HTTP app shares, written once: frozen config,
 * pino logs, the error registry and envelope, API-key and admin auth, `/health`,
 * `/metrics`, fast 503s when the database or pool cannot serve, graceful shutdown.
 *
 * @example
 * import { runService } from '@crucible/service-kit';
 * await runService('id-service', { routes: (app, ctx) => app.use(idRoutes(ctx)) });
 */
export { loadConfig, type ServiceConfig } from './config.js';
export { failpoint, parseFailpoints, armFailpoints, armedFailpoints, type FailpointSettings } from './failpoints.js';
export { readEnv, ConfigError, envInt, envLogLevel, logLevels, type Env, type LogLevel } from './env.js';
export { baseApp, errorEdge } from './base-app.js';
export { ServiceError, normaliseError } from './errors.js';
export { idempotencyKeyOf, parseInput } from './validate.js';
export {
  ApiKeyVerifier,
  generateApiKey,
  hashApiKey,
  requireAdmin,
  requireApiKey,
  resolveProject,
  scopeOf,
  type ProjectScope,
} from './auth.js';
export { adminRouter, createProject } from './admin.js';
export { ServiceMetrics } from './metrics.js';
export { DatabaseWatch, type DatabaseWatchOptions } from './database-watch.js';
export { createService, waitForDatabase, waitForSchema, type Service, type ServiceContext, type ServiceDefinition } from './service.js';
export { runProcess, runService, type Listener, type RunProcessOptions } from './run.js';
export { listenHttp } from './listen.js';
export { compileHotQueries, explainHotQueries, explainRouter, type HotQuery, type HotQueries, type HotQueryText } from './explain.js';
