import { fileURLToPath } from 'node:url';
import { envInt, readEnv, type Env } from '@crucible/service-kit';
import { z } from 'zod';

/** What the task API reads from its environment beyond the service kit's settings. */
export interface TaskApiOptions {
  /** Largest artifact body accepted by `PUT /artifacts/:artifact_id` (413 beyond). */
  readonly artifactLimitBytes: number;
  /** How many shared documents the in-process resource cache holds at most. */
  readonly resourceCacheEntries: number;
  /** How many bytes of shared documents the resource cache holds at most. */
  readonly resourceCacheBytes: number;
  /** Folder of the shared read-only documents (default: the app's `resources/`). */
  readonly resourceDir: string;
  /** The Redis the replicas share the resource cache in (`REDIS_URL`); `undefined` = each replica's LRU alone. */
  readonly redis:
    | {
        readonly url: string;
        readonly timeoutMs: number;
        readonly keyPrefix: string;
        readonly ttlS: number;
      }
    | undefined;
  /** The ID service generated task ids come from (`ID_SERVICE_URL` and its limits). */
  readonly idService: {
    readonly url: string;
    readonly timeoutMs: number;
    readonly attempts: number;
    readonly connections: number;
    readonly blockSize: number;
    /** Largest block a project creating fast is given (`ID_BLOCK_MAX`, never below `blockSize`). */
    readonly maxBlockSize: number;
    readonly breakerFailures: number;
    readonly breakerOpenMs: number;
  };
  /** What the task API remembers of the ID service's answers about entity references (see `TaskRefs`). */
  readonly refCache: {
    readonly liveTtlMs: number;
    readonly maxEntries: number;
  };
}

const envSchema = z.object({
  ARTIFACT_LIMIT_BYTES: envInt('ARTIFACT_LIMIT_BYTES', 1, 64 << 20).default(1 << 20),
  RESOURCE_CACHE_ENTRIES: envInt('RESOURCE_CACHE_ENTRIES', 1, 10_000).default(16),
  RESOURCE_CACHE_BYTES: envInt('RESOURCE_CACHE_BYTES', 1, 256 << 20).default(4 << 20),
  RESOURCE_DIR: z.string().optional(),
  // Optional: unset, each replica caches the shared documents in its own LRU only.
  REDIS_URL: z.url({ protocol: /^rediss?$/, error: 'REDIS_URL must be a redis:// (or rediss://) URL' }).optional(),
  // A lookup waits at most this for Redis before the disk serves (a hit answers in about 1 ms).
  REDIS_TIMEOUT_MS: envInt('REDIS_TIMEOUT_MS', 1, 10_000).default(50),
  REDIS_KEY_PREFIX: z.string().max(200).default('crucible:task-api:'),
  REDIS_CACHE_TTL_S: envInt('REDIS_CACHE_TTL_S', 1, 30 * 86_400).default(3600),
  // Required: without it no generated task id can be issued, which must stop start-up, not the first create.
  ID_SERVICE_URL: z.url({ protocol: /^https?$/, error: 'ID_SERVICE_URL must be an http(s) URL of the ID service' }),
  // A frozen ID service costs a create at most attempts x timeout before the breaker opens (< 1.5 s).
  ID_SERVICE_TIMEOUT_MS: envInt('ID_SERVICE_TIMEOUT_MS', 10, 60_000).default(400),
  ID_SERVICE_ATTEMPTS: envInt('ID_SERVICE_ATTEMPTS', 1, 10).default(2),
  ID_SERVICE_CONNECTIONS: envInt('ID_SERVICE_CONNECTIONS', 1, 256).default(8),
  ID_BLOCK_SIZE: envInt('ID_BLOCK_SIZE', 1, 10_000).default(32),
  // Blocks grow to twice what a project takes during one reservation's round trip, up to this:
  // at a fixed 32 the creates of one project were capped at 32 per ID-service round trip.
  // Unused numbers of a block are skipped when the process stops, so this bounds that gap too.
  ID_BLOCK_MAX: envInt('ID_BLOCK_MAX', 1, 100_000).default(1024),
  ID_BREAKER_FAILURES: envInt('ID_BREAKER_FAILURES', 1, 100).default(3),
  ID_BREAKER_OPEN_MS: envInt('ID_BREAKER_OPEN_MS', 50, 60_000).default(500),
  // A ref read as live within the last 2 s is not asked about again, so a retirement shows as stale at most 2 s late.
  REF_STATE_CACHE_MS: envInt('REF_STATE_CACHE_MS', 0, 600_000).default(2000),
  REF_CACHE_ENTRIES: envInt('REF_CACHE_ENTRIES', 1, 1_000_000).default(10_000),
});

/** The documents shipped with the app: `apps/task-api/resources` (same path from `src/` and `dist/`). */
export const defaultResourceDir = fileURLToPath(new URL('../resources/', import.meta.url));

/**
 * Reads the task API's own settings once and freezes them. A malformed variable throws a
 * `ConfigError` (from the service kit's `readEnv`) that names it.
 *
 * @example
 * const options = loadTaskApiOptions({ ARTIFACT_LIMIT_BYTES: '65536' });
 */
export function loadTaskApiOptions(env: Env = process.env): TaskApiOptions {
  const e = readEnv(envSchema, env, { service: 'task-api' });
  return Object.freeze({
    artifactLimitBytes: e.ARTIFACT_LIMIT_BYTES,
    resourceCacheEntries: e.RESOURCE_CACHE_ENTRIES,
    resourceCacheBytes: e.RESOURCE_CACHE_BYTES,
    resourceDir: e.RESOURCE_DIR ?? defaultResourceDir,
    redis: e.REDIS_URL
      ? Object.freeze({ url: e.REDIS_URL, timeoutMs: e.REDIS_TIMEOUT_MS, keyPrefix: e.REDIS_KEY_PREFIX, ttlS: e.REDIS_CACHE_TTL_S })
      : undefined,
    idService: Object.freeze({
      url: e.ID_SERVICE_URL.replace(/\/+$/, ''),
      timeoutMs: e.ID_SERVICE_TIMEOUT_MS,
      attempts: e.ID_SERVICE_ATTEMPTS,
      connections: e.ID_SERVICE_CONNECTIONS,
      blockSize: e.ID_BLOCK_SIZE,
      maxBlockSize: Math.max(e.ID_BLOCK_SIZE, e.ID_BLOCK_MAX),
      breakerFailures: e.ID_BREAKER_FAILURES,
      breakerOpenMs: e.ID_BREAKER_OPEN_MS,
    }),
    refCache: Object.freeze({ liveTtlMs: e.REF_STATE_CACHE_MS, maxEntries: e.REF_CACHE_ENTRIES }),
  });
}
