import { createService, loadConfig, type Env, type Service, type ServiceContext, type ServiceDefinition } from '@crucible/service-kit';
import { artifactBodyPath, artifactRoutes } from './artifacts/artifact.routes.js';
import { loadTaskApiOptions, type TaskApiOptions } from './config.js';
import { TaskIdBlocks } from './ids/id.blocks.js';
import { IdClient } from './ids/id.client.js';
import { loadDefects } from './load-defects.js';
import { TaskRefs } from './ids/id.refs.js';
import { resourceRoutes } from './resources/resource.routes.js';
import { ResourceStore } from './resources/resource.store.js';
import { SharedCache } from './resources/shared-cache.js';
import { taskHotQueries } from './tasks/task.explain.js';
import { taskRoutes } from './tasks/task.routes.js';

/**
 * The task API: multi-project tasks (create, keyset list, next, exactly-once claims,
 * optimistic updates), project artifacts, and shared documents behind an LRU cache.
 * Generated task ids come from the ID service (`ID_SERVICE_URL`) in blocks per project.
 * Health, metrics, admin and auth come from the service kit.
 *
 * @example
 * await runService('task-api', createTaskApi(loadTaskApiOptions()));
 */
export function createTaskApi(options: TaskApiOptions): ServiceDefinition {
  // One store per service built from this definition (tests build several per process).
  const stores = new WeakMap<ServiceContext, ResourceStore>();
  const clients = new WeakMap<ServiceContext, IdClient>();
  const shared = new WeakMap<ServiceContext, SharedCache>();
  return {
    ownBodyPaths: [artifactBodyPath],
    hotQueries: taskHotQueries,
    routes(app, ctx) {
      const redis = options.redis ? new SharedCache({ ...options.redis, logger: ctx.logger }) : undefined;
      if (redis) shared.set(ctx, redis);
      const store = new ResourceStore({
        dir: options.resourceDir,
        maxEntries: options.resourceCacheEntries,
        maxBytes: options.resourceCacheBytes,
        registry: ctx.metrics.registry,
        shared: redis,
      });
      stores.set(ctx, store);
      const { blockSize, maxBlockSize, ...call } = options.idService;
      const client = new IdClient({ ...call, logger: ctx.logger });
      clients.set(ctx, client);
      const defects = loadDefects();
      if (defects) app.use(defects);
      app.use(taskRoutes(ctx, new TaskIdBlocks(client, { blockSize, lowWater: Math.ceil(blockSize / 4), maxBlockSize }), new TaskRefs(client, options.refCache)));
      app.use(artifactRoutes(ctx, { limitBytes: options.artifactLimitBytes }));
      app.use(resourceRoutes(ctx, store));
    },
    healthExtra(ctx) {
      const store = stores.get(ctx);
      const ids = clients.get(ctx);
      return {
        ...(store ? { resource_cache: store.stats(), artifact_limit_bytes: options.artifactLimitBytes } : {}),
        // The ID service's state as this replica sees it: an open breaker is not a failed health check (reads and given ids still work).
        ...(ids ? { id_service: { url: options.idService.url, circuit: ids.state } } : {}),
      };
    },
    async onClose(ctx) {
      await clients.get(ctx)?.close();
      await shared.get(ctx)?.close();
    },
  };
}

/** The task API configured from `process.env` (see {@link loadTaskApiOptions}). */
export function taskApiFromEnv(env: Env = process.env): ServiceDefinition {
  return createTaskApi(loadTaskApiOptions(env));
}

/**
 * The task API as a service built from `env` alone (the kit's configuration and the task
 * API's own), ready to listen: what a test starts in process.
 *
 * @example
 * await using api = await startService(taskApiService, { env: { ARTIFACT_LIMIT_BYTES: '8192' } });
 */
export function taskApiService(env: Env = process.env): Service {
  return createService(loadConfig('task-api', env), taskApiFromEnv(env));
}
