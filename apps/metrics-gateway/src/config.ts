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
  });
}
