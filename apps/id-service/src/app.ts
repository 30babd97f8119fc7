import { createService, loadConfig, type Env, type Service, type ServiceDefinition } from '@crucible/service-kit';
import { idHotQueries } from './ids/id.explain.js';
import { idRoutes } from './ids/id.routes.js';

/**
 * The ID service: per-project, per-type sequences. Health, metrics, admin and auth come
 * from the service kit; the ID routes are added here.
 */
export const definition: ServiceDefinition = {
  routes(app, ctx) {
    idRoutes(ctx, app);
  },
  hotQueries: idHotQueries,
};

/**
 * The ID service built from `env` (the kit's configuration), ready to listen: what a test
 * starts in process.
 *
 * @example
 * await using ids = await startService(idService, { env: { DB_POOL_MAX: '20' } });
 */
export function idService(env: Env = process.env): Service {
  return createService(loadConfig('id-service', env), definition);
}
