import { failpoint, type ServiceContext } from '@crucible/service-kit';
import { Redis } from 'ioredis';

type Logger = ServiceContext['logger'];

/** What a lookup in the shared tier found: the bytes, nothing (a miss), or no usable answer. */
export type SharedLookup = { readonly kind: 'hit'; readonly content: Buffer } | { readonly kind: 'miss' } | { readonly kind: 'error'; readonly error: string };

/** Options of {@link SharedCache}. */
export interface SharedCacheOptions {
  /** `redis://host:port` (`REDIS_URL`). */
  readonly url: string;
  /** Longest a command may take before the lookup gives up and the disk serves (`REDIS_TIMEOUT_MS`). */
  readonly timeoutMs: number;
  /** Prepended to every key (`REDIS_KEY_PREFIX`): replicas of one deployment share it. */
  readonly keyPrefix: string;
  /** How long an entry lives (`REDIS_CACHE_TTL_S`): a redeploy with changed documents is stale at most this long. */
  readonly ttlS: number;
  readonly logger?: Logger | undefined;
}

/**
 * The shared tier of the resource cache: one Redis every replica reads and fills, so a
 * document one replica loaded from disk is a hit on the others. It never fails a lookup: a
 * Redis that is down answers at once with an error (no offline queue, no command retries), a
 * slow or stuck one is given up after `timeoutMs`, and after a failure the tier is skipped for
 * `retryMs` so a stuck Redis costs one timeout per interval, not one per request. The client
 * reconnects by itself; `redis_down` / `redis_up` are logged once per outage.
 */
export class SharedCache {
  readonly #client: Redis;
  readonly #options: SharedCacheOptions;
  readonly #retryMs: number;
  #skipUntil = 0;
  #downSince: number | undefined;

  constructor(options: SharedCacheOptions) {
    this.#options = options;
    this.#retryMs = Math.max(250, options.timeoutMs * 10);
    this.#client = new Redis(options.url, {
      keyPrefix: options.keyPrefix,
      commandTimeout: options.timeoutMs,
      connectTimeout: Math.max(options.timeoutMs, 500),
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      // Reconnect forever, quickly: Redis coming back must be noticed without a restart.
      retryStrategy: (times) => Math.min(50 * times, 1000),
      lazyConnect: true,
    });
    // Without a listener ioredis prints every connection error itself; the outage is logged once below.
    this.#client.on('error', (err: Error) => this.#down(err.message));
    this.#client.on('ready', () => this.#up());
    this.#client.connect().catch((err: unknown) => this.#down(String((err as Error)?.message ?? err)));
  }

  /** `ready` when commands go through; anything else (`connecting`, `reconnecting`, …) means the disk serves. */
  get state(): string {
    return this.#client.status;
  }

  /** The document stored under `name`, a miss, or an error (down, timed out, skipped after a recent failure). */
  async get(name: string): Promise<SharedLookup> {
    if (Date.now() < this.#skipUntil) return { kind: 'error', error: 'skipped after a recent failure' };
    try {
      const content = await this.#client.getBuffer(name);
      return content ? { kind: 'hit', content } : { kind: 'miss' };
    } catch (err) {
      // The planted unguarded lookup (failpoint `resources.redis.unguarded`): the Redis error
      // escapes to the request (a 500) instead of the disk serving it.
      if (failpoint('resources.redis.unguarded')) throw err;
      this.#failed(err);
      return { kind: 'error', error: (err as Error).message };
    }
  }

  /** Stores `content` under `name`; resolves to whether it was stored (a failure is no error of the lookup). */
  async set(name: string, content: Buffer): Promise<boolean> {
    if (Date.now() < this.#skipUntil) return false;
    try {
      await this.#client.set(name, content, 'EX', this.#options.ttlS);
      return true;
    } catch (err) {
      this.#failed(err);
      return false;
    }
  }

  #failed(err: unknown): void {
    this.#skipUntil = Date.now() + this.#retryMs;
    this.#down((err as Error)?.message ?? String(err));
  }

  #down(error: string): void {
    if (this.#downSince !== undefined) return;
    this.#downSince = Date.now();
    this.#options.logger?.warn({ event: 'redis_down', dependency: 'redis', at: new Date(this.#downSince).toISOString(), error }, 'Redis unavailable: shared resources are served from disk');
  }

  #up(): void {
    if (this.#downSince === undefined) return;
    const at = Date.now();
    const outageMs = at - this.#downSince;
    this.#downSince = undefined;
    this.#skipUntil = 0;
    this.#options.logger?.warn({ event: 'redis_up', dependency: 'redis', at: new Date(at).toISOString(), outage_ms: outageMs }, 'Redis reachable again');
  }

  /** Closes the connection (no reconnects after). */
  async close(): Promise<void> {
    this.#client.disconnect(false);
  }
}
