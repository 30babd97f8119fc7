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
}

const envSchema = z.object({
  ARTIFACT_LIMIT_BYTES: envInt('ARTIFACT_LIMIT_BYTES', 1, 64 << 20).default(1 << 20),
  RESOURCE_CACHE_ENTRIES: envInt('RESOURCE_CACHE_ENTRIES', 1, 10_000).default(16),
  RESOURCE_CACHE_BYTES: envInt('RESOURCE_CACHE_BYTES', 1, 256 << 20).default(4 << 20),
  RESOURCE_DIR: z.string().optional(),
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
  });
}
