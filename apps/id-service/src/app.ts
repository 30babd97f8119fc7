import type { ServiceDefinition } from '@crucible/service-kit';
import { idHotQueries } from './ids/id.explain.js';
import { idRoutes } from './ids/id.routes.js';

/**
 * The ID service: per-project, per-type sequences. Health, metrics, admin and auth come
 * from the service kit; the ID routes are added here.
 */
export const definition: ServiceDefinition = {
  routes(app, ctx) {
    app.use(idRoutes(ctx));
  },
  hotQueries: idHotQueries,
};
