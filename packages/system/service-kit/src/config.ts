import { z } from 'zod';
import { envInt, envLogLevel, readEnv, type Env, type LogLevel } from './env.js';
import { parseFailpoints, type FailpointSettings } from './failpoints.js';

const envSchema = z.object({
  DATABASE_URL: z
    .string({ error: 'DATABASE_URL is required: the PostgreSQL URL of the service database' })
    .refine((v) => {
      try {
        const u = new URL(v);
        return (u.protocol === 'postgres:' || u.protocol === 'postgresql:') && u.hostname !== '';
      } catch {
        return false;
      }
    }, 'DATABASE_URL must look like postgres://user:password@host:port/database'),
  CRUCIBLE_ADMIN_TOKEN: z
    .string({ error: 'CRUCIBLE_ADMIN_TOKEN is required: the Bearer token of the admin endpoints' })
    .min(16, 'CRUCIBLE_ADMIN_TOKEN must be at least 16 characters'),
  HOST: z.string().default('127.0.0.1'),
  PORT: envInt('PORT', 0, 65535).default(0),
  LOG_LEVEL: envLogLevel(),
  DB_POOL_MAX: envInt('DB_POOL_MAX', 1, 1000).default(10),
  DB_ACQUIRE_TIMEOUT_MS: envInt('DB_ACQUIRE_TIMEOUT_MS', 1, 600_000).default(1000),
  DB_STATEMENT_TIMEOUT_MS: envInt('DB_STATEMENT_TIMEOUT_MS', 1, 3_600_000).default(5000),
  DB_QUERY_TIMEOUT_MS: envInt('DB_QUERY_TIMEOUT_MS', 1, 3_600_000).optional(),
  DB_STARTUP_TIMEOUT_MS: envInt('DB_STARTUP_TIMEOUT_MS', 0, 600_000).default(5000),
  API_KEY_CACHE_TTL_MS: envInt('API_KEY_CACHE_TTL_MS', 0, 3_600_000).default(5000),
  BODY_LIMIT_BYTES: envInt('BODY_LIMIT_BYTES', 1, 1 << 30).default(1 << 20),
  SHUTDOWN_TIMEOUT_MS: envInt('SHUTDOWN_TIMEOUT_MS', 0, 600_000).default(10_000),
  CRUCIBLE_FAILPOINTS: z.string().optional(),
});

/** Everything a Crucible HTTP service reads from its environment, read once and frozen. */
export interface ServiceConfig {
  readonly service: string;
  readonly host: string;
  readonly port: number;
  readonly databaseUrl: string;
  readonly adminToken: string;
  readonly logLevel: LogLevel;
  readonly pool: {
    readonly max: number;
    readonly acquireTimeoutMs: number;
    readonly statementTimeoutMs: number;
    readonly queryTimeoutMs: number;
  };
  readonly dbStartupTimeoutMs: number;
  readonly apiKeyCacheTtlMs: number;
  readonly bodyLimitBytes: number;
  readonly shutdownTimeoutMs: number;
  /** Planted defects (`CRUCIBLE_FAILPOINTS`); empty in every real deployment. */
  readonly failpoints: FailpointSettings;
}

/**
 * Reads the configuration from `env` (default `process.env`). A missing or malformed
 * variable throws a `ConfigError` naming every variable at fault (see {@link readEnv}).
 */
export function loadConfig(service: string, env: Env = process.env): ServiceConfig {
  const e = readEnv(envSchema, env, { service });
  return Object.freeze({
    service,
    host: e.HOST,
    port: e.PORT,
    databaseUrl: e.DATABASE_URL,
    adminToken: e.CRUCIBLE_ADMIN_TOKEN,
    logLevel: e.LOG_LEVEL,
    pool: Object.freeze({
      max: e.DB_POOL_MAX,
      acquireTimeoutMs: e.DB_ACQUIRE_TIMEOUT_MS,
      statementTimeoutMs: e.DB_STATEMENT_TIMEOUT_MS,
      queryTimeoutMs: e.DB_QUERY_TIMEOUT_MS ?? e.DB_STATEMENT_TIMEOUT_MS + 1000,
    }),
    dbStartupTimeoutMs: e.DB_STARTUP_TIMEOUT_MS,
    apiKeyCacheTtlMs: e.API_KEY_CACHE_TTL_MS,
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    failpoints: parseFailpoints(e.CRUCIBLE_FAILPOINTS),
  });
}
