import { envInt, envLogLevel, parseFailpoints, readEnv, type Env, type FailpointSettings, type LogLevel } from '@crucible/service-kit';
import { z } from 'zod';

const token = (name: string) => z.string().min(16, `${name} must be at least 16 characters`);

const envSchema = z.object({
  CRUCIBLE_ADMIN_TOKEN: z
    .string({
      error: 'CRUCIBLE_ADMIN_TOKEN is required: the Bearer token of the admin endpoints (and of publishers unless GATEWAY_PUBLISH_TOKEN is set)',
    })
    .min(16, 'CRUCIBLE_ADMIN_TOKEN must be at least 16 characters'),
  GATEWAY_PUBLISH_TOKEN: token('GATEWAY_PUBLISH_TOKEN').optional(),
  HOST: z.string().default('127.0.0.1'),
  PORT: envInt('PORT', 0, 65535).default(0),
  LOG_LEVEL: envLogLevel(),
  SHUTDOWN_TIMEOUT_MS: envInt('SHUTDOWN_TIMEOUT_MS', 0, 600_000).default(10_000),
  GATEWAY_HEARTBEAT_MS: envInt('GATEWAY_HEARTBEAT_MS', 100, 600_000).default(15_000),
  GATEWAY_HISTORY_SIZE: envInt('GATEWAY_HISTORY_SIZE', 1, 1_000_000).default(256),
  GATEWAY_MAX_CHANNELS: envInt('GATEWAY_MAX_CHANNELS', 1, 1_000_000).default(1000),
  GATEWAY_MAX_BUFFERED_BYTES: envInt('GATEWAY_MAX_BUFFERED_BYTES', 1024, 1 << 30).default(64 * 1024),
  GATEWAY_MAX_MESSAGE_BYTES: envInt('GATEWAY_MAX_MESSAGE_BYTES', 1024, 64 << 20).default(256 * 1024),
  GATEWAY_MAX_CONNECTIONS: envInt('GATEWAY_MAX_CONNECTIONS', 1, 1_000_000).default(20_000),
  GATEWAY_MAX_ANONYMOUS_SUBSCRIPTIONS: envInt('GATEWAY_MAX_ANONYMOUS_SUBSCRIPTIONS', 1, 100_000).default(16),
  CRUCIBLE_FAILPOINTS: z.string().optional(),
  DATABASE_URL: z.string().url('DATABASE_URL must be a postgres:// URL').optional(),
  DB_POOL_MAX: envInt('DB_POOL_MAX', 1, 100).default(4),
  DB_STATEMENT_TIMEOUT_MS: envInt('DB_STATEMENT_TIMEOUT_MS', 1, 600_000).default(5000),
  DB_STARTUP_TIMEOUT_MS: envInt('DB_STARTUP_TIMEOUT_MS', 0, 600_000).default(5000),
  GATEWAY_STORE_FLUSH_MS: envInt('GATEWAY_STORE_FLUSH_MS', 10, 60_000).default(250),
  GATEWAY_STORE_BATCH_ROWS: envInt('GATEWAY_STORE_BATCH_ROWS', 1, 100_000).default(1000),
  GATEWAY_STORE_BUFFER_ROWS: envInt('GATEWAY_STORE_BUFFER_ROWS', 1, 10_000_000).default(50_000),
  GATEWAY_HISTORY_RETAIN_MONTHS: envInt('GATEWAY_HISTORY_RETAIN_MONTHS', 1, 1200).default(12),
  GATEWAY_HISTORY_PARTITIONS_AHEAD: envInt('GATEWAY_HISTORY_PARTITIONS_AHEAD', 0, 120).default(3),
  GATEWAY_HISTORY_MAINTAIN_MS: envInt('GATEWAY_HISTORY_MAINTAIN_MS', 1000, 604_800_000).default(21_600_000),
  API_KEY_CACHE_TTL_MS: envInt('API_KEY_CACHE_TTL_MS', 0, 3_600_000).default(5000),
  REDIS_URL: z.url({ protocol: /^rediss?$/, error: 'REDIS_URL must be a redis:// (or rediss://) URL' }).optional(),
  REDIS_KEY_PREFIX: z.string().max(200).default('crucible:metrics-gateway:'),
  REDIS_TIMEOUT_MS: envInt('REDIS_TIMEOUT_MS', 1, 10_000).default(250),
  GATEWAY_STREAM_TTL_S: envInt('GATEWAY_STREAM_TTL_S', 1, 365 * 86_400).default(86_400),
});

/** Everything the metrics gateway reads from its environment, read once and frozen. */
export interface GatewayConfig {
  readonly service: string;
  readonly host: string;
  readonly port: number;
  /** Bearer token of the admin endpoints (`CRUCIBLE_ADMIN_TOKEN`). */
  readonly adminToken: string;
  /** Token publishers present (`GATEWAY_PUBLISH_TOKEN`, else the admin token). */
  readonly publishToken: string;
  readonly logLevel: LogLevel;
  readonly shutdownTimeoutMs: number;
  /** Ping interval; a connection that has not answered the previous ping is terminated. */
  readonly heartbeatMs: number;
  /**
   * Messages kept per run channel for resume (a ring: the oldest leave first). Memory is
   * at most about channels × history × message size (1000 × 256 × ~250 B ≈ 64 MB); the
   * larger it is, the longer the garbage collector's pauses under load (see docs/performance.md).
   */
  readonly historySize: number;
  /** Run channels kept; past it the least recently active channel without subscribers goes. */
  readonly maxChannels: number;
  /**
   * Past this many bytes queued on a socket, a subscriber reads from the history ring
   * instead of being sent to. Small on purpose: it multiplies by the number of subscribers.
   */
  readonly maxBufferedBytes: number;
  readonly maxMessageBytes: number;
  readonly maxConnections: number;
  /**
   * Runs one connection without the publish token may watch at once. Small: watching costs
   * a subscription, and a subscriber can only watch a channel some publisher created.
   */
  readonly maxAnonymousSubscriptions: number;
  /** Planted defects armed from `CRUCIBLE_FAILPOINTS` (tests only; empty in production). */
  readonly failpoints: FailpointSettings;
  /**
   * The run history in PostgreSQL (`DATABASE_URL`); absent, the gateway keeps nothing past a
   * run's channel (in memory only) and `/api/v1` answers 404.
   */
  readonly store: StoreConfig | undefined;
  /** How long a verified project API key is trusted without asking the database again. */
  readonly apiKeyCacheTtlMs: number;
  /**
   * The Redis whose Streams the replicas share run channels through (`REDIS_URL`); absent,
   * every channel lives in this process alone, as with a single gateway.
   */
  readonly streams: StreamsConfig | undefined;
}

/** How the gateway shares its run channels with other replicas through Redis Streams. */
export interface StreamsConfig {
  readonly url: string;
  /** Prepended to every stream key (`REDIS_KEY_PREFIX`): the replicas of one deployment share it. */
  readonly keyPrefix: string;
  /**
   * Longest a publish waits for Redis (`REDIS_TIMEOUT_MS`) before it is delivered from this
   * replica alone: a stuck Redis delays a publisher by this much, never more.
   */
  readonly timeoutMs: number;
  /** Entries a run's stream keeps, about (`XADD MAXLEN ~`): the channel history size. */
  readonly maxLen: number;
  /** A run's stream is deleted this long after its last message (`GATEWAY_STREAM_TTL_S`). */
  readonly ttlS: number;
}

/** Where and how the gateway writes its run history. */
export interface StoreConfig {
  readonly databaseUrl: string;
  readonly poolMax: number;
  readonly statementTimeoutMs: number;
  /** How long start-up waits for the database to answer (`DB_STARTUP_TIMEOUT_MS`). */
  readonly startupTimeoutMs: number;
  /** A batch is written at the latest this long after its first row arrived (`GATEWAY_STORE_FLUSH_MS`). */
  readonly flushMs: number;
  /** A batch is written at once when it reaches this many rows (`GATEWAY_STORE_BATCH_ROWS`). */
  readonly batchRows: number;
  /**
   * Rows held unwritten at most (`GATEWAY_STORE_BUFFER_ROWS`): in a database outage the gateway
   * keeps accepting up to this many, then refuses publishes (`database_unavailable`) until
   * the database takes them.
   */
  readonly bufferRows: number;
  /** Months of points kept (`GATEWAY_HISTORY_RETAIN_MONTHS`): older monthly partitions are dropped. */
  readonly retainMonths: number;
  /** Monthly partitions created ahead of this one (`GATEWAY_HISTORY_PARTITIONS_AHEAD`). */
  readonly partitionsAhead: number;
  /** How often the partitions are kept up (`GATEWAY_HISTORY_MAINTAIN_MS`), and once at start-up. */
  readonly maintainMs: number;
}

/**
 * Reads the gateway configuration from `env`. A missing or malformed variable throws a
 * `ConfigError` (from the service kit's `readEnv`) naming every variable at fault.
 */
export function loadGatewayConfig(env: Env = process.env, service = 'metrics-gateway'): GatewayConfig {
  const e = readEnv(envSchema, env, { service });
  const adminToken = e.CRUCIBLE_ADMIN_TOKEN;
  return Object.freeze({
    service,
    host: e.HOST,
    port: e.PORT,
    adminToken,
    publishToken: e.GATEWAY_PUBLISH_TOKEN ?? adminToken,
    logLevel: e.LOG_LEVEL,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    heartbeatMs: e.GATEWAY_HEARTBEAT_MS,
    historySize: e.GATEWAY_HISTORY_SIZE,
    maxChannels: e.GATEWAY_MAX_CHANNELS,
    maxBufferedBytes: e.GATEWAY_MAX_BUFFERED_BYTES,
    maxMessageBytes: e.GATEWAY_MAX_MESSAGE_BYTES,
    maxConnections: e.GATEWAY_MAX_CONNECTIONS,
    maxAnonymousSubscriptions: e.GATEWAY_MAX_ANONYMOUS_SUBSCRIPTIONS,
    failpoints: parseFailpoints(e.CRUCIBLE_FAILPOINTS),
    store: e.DATABASE_URL
      ? Object.freeze({
          databaseUrl: e.DATABASE_URL,
          poolMax: e.DB_POOL_MAX,
          statementTimeoutMs: e.DB_STATEMENT_TIMEOUT_MS,
          startupTimeoutMs: e.DB_STARTUP_TIMEOUT_MS,
          flushMs: e.GATEWAY_STORE_FLUSH_MS,
          batchRows: e.GATEWAY_STORE_BATCH_ROWS,
          bufferRows: e.GATEWAY_STORE_BUFFER_ROWS,
          retainMonths: e.GATEWAY_HISTORY_RETAIN_MONTHS,
          partitionsAhead: e.GATEWAY_HISTORY_PARTITIONS_AHEAD,
          maintainMs: e.GATEWAY_HISTORY_MAINTAIN_MS,
        })
      : undefined,
    apiKeyCacheTtlMs: e.API_KEY_CACHE_TTL_MS,
    streams: e.REDIS_URL
      ? Object.freeze({ url: e.REDIS_URL, keyPrefix: e.REDIS_KEY_PREFIX, timeoutMs: e.REDIS_TIMEOUT_MS, maxLen: e.GATEWAY_HISTORY_SIZE, ttlS: e.GATEWAY_STREAM_TTL_S })
      : undefined,
  });
}
