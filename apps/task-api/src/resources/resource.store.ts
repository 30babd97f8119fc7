import { createHash } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { resourceNameSchema, type ResourceListResponse } from '@crucible/contracts';
import { failpoint } from '@crucible/service-kit';
import { Counter, type Registry } from 'prom-client';
import { LruCache } from './lru-cache.js';
import type { SharedCache } from './shared-cache.js';

/** A shared document as served. */
export interface Resource {
  readonly name: string;
  readonly content: Buffer;
  readonly etag: string;
}

/** Which tier answered a lookup: this replica's LRU, the shared Redis, or the disk (a miss). */
export type ResourceTier = 'lru' | 'redis' | 'disk';

/** A document as served, with the tier that answered. */
export interface ResourceLookup extends Resource {
  readonly tier: ResourceTier;
}

/** Cache figures for `/health`. */
export interface ResourceCacheStats {
  hits: number;
  misses: number;
  /** hits / (hits + misses), `null` before the first lookup. */
  hit_rate: number | null;
  entries: number;
  bytes: number;
  evictions: number;
  max_entries: number;
  max_bytes: number;
  /** Lookups per tier: `lru_hits` + `redis_hits` = `hits`; `disk_reads` = `misses`. */
  lru_hits: number;
  redis_hits: number;
  /** Lookups the shared tier had no entry for, or could not answer (down, timed out), or that skipped it. */
  redis_misses: number;
  redis_errors: number;
  /** The shared tier's connection (`ready`, `reconnecting`, …), `off` without `REDIS_URL`. */
  redis: string;
}

/**
 * The shared read-only documents shipped with the app (`resources/*.md`), looked up in a
 * bounded in-process LRU, then (with `REDIS_URL`) in the Redis every replica shares, then read
 * from disk and stored in both. A Redis that is down or slow costs at most its short timeout
 * and the disk serves: never an error. The catalogue is fixed at start-up: a name that is not
 * a file of the folder is never looked up, so no name can reach outside it. A hit is a lookup
 * served without the disk (either cache); a miss is a disk read. Both, and the lookups per
 * tier, are Prometheus counters on the service's registry.
 */
export class ResourceStore {
  readonly #dir: string;
  readonly #sizes: ReadonlyMap<string, number>;
  readonly #cache: LruCache<string, Resource>;
  readonly #maxEntries: number;
  readonly #maxBytes: number;
  readonly #hitsCounter: Counter;
  readonly #missesCounter: Counter;
  readonly #tierCounter: Counter<'tier' | 'result'>;
  readonly #shared: SharedCache | undefined;
  // Reads in flight, so a burst of cold lookups of one document reads Redis and the disk once.
  readonly #loading = new Map<string, Promise<ResourceLookup>>();
  #hits = 0;
  #misses = 0;
  readonly #tiers = { lru_hits: 0, redis_hits: 0, redis_misses: 0, redis_errors: 0 };

  constructor(options: { dir: string; maxEntries: number; maxBytes: number; registry: Registry; shared?: SharedCache | undefined }) {
    this.#shared = options.shared;
    this.#dir = path.resolve(options.dir);
    const sizes = new Map<string, number>();
    for (const name of readdirSync(this.#dir).sort()) {
      if (!name.endsWith('.md') || !resourceNameSchema.safeParse(name).success) continue;
      const stat = statSync(path.join(this.#dir, name));
      if (stat.isFile()) sizes.set(name, stat.size);
    }
    this.#sizes = sizes;
    this.#maxEntries = options.maxEntries;
    this.#maxBytes = options.maxBytes;
    this.#cache = new LruCache({ maxEntries: options.maxEntries, maxBytes: options.maxBytes, sizeOf: (r) => r.content.length });
    this.#hitsCounter = new Counter({
      name: 'task_api_resource_cache_hits_total',
      help: 'Shared resource lookups answered without the disk (the in-process cache or Redis)',
      registers: [options.registry],
    });
    this.#missesCounter = new Counter({
      name: 'task_api_resource_cache_misses_total',
      help: 'Shared resource lookups that read the document from disk',
      registers: [options.registry],
    });
    this.#tierCounter = new Counter({
      name: 'task_api_resource_cache_tier_lookups_total',
      help: 'Shared resource lookups per cache tier (lru, redis) and result (hit, miss, error)',
      labelNames: ['tier', 'result'],
      registers: [options.registry],
    });
  }

  /** Every document with its size, sorted by name. */
  list(): ResourceListResponse['items'] {
    return [...this.#sizes].map(([name, size]) => ({ name, size }));
  }

  /** The document `name` and the tier that served it, or `undefined` when the app ships no such document. */
  async get(name: string): Promise<ResourceLookup | undefined> {
    if (!this.#sizes.has(name)) return undefined;
    // The planted cache bypass (failpoint `resources.cache.bypass`): a disk read past both caches, counted as the miss it is.
    if (failpoint('resources.cache.bypass')) {
      this.#miss();
      return this.#fromDisk(name);
    }
    // A lookup that joins a load already in flight counts as an LRU hit: only the load that
    // goes to Redis or the disk is counted there, so misses measure disk reads.
    const cached = this.#cache.get(name);
    const joined = cached ? undefined : this.#loading.get(name);
    if (cached || joined) {
      this.#hit('lru');
      return cached ? { ...cached, tier: 'lru' } : { ...(await (joined as Promise<ResourceLookup>)), tier: 'lru' };
    }
    const loading = this.#load(name);
    this.#loading.set(name, loading);
    try {
      return await loading;
    } finally {
      this.#loading.delete(name);
    }
  }

  #hit(tier: 'lru' | 'redis'): void {
    this.#hits++;
    this.#hitsCounter.inc();
    this.#tiers[`${tier}_hits`]++;
    this.#tierCounter.inc({ tier, result: 'hit' });
  }

  #miss(): void {
    this.#misses++;
    this.#missesCounter.inc();
  }

  async #load(name: string): Promise<ResourceLookup> {
    this.#tierCounter.inc({ tier: 'lru', result: 'miss' });
    const found = this.#shared ? await this.#shared.get(`resource:${name}`) : undefined;
    if (found?.kind === 'hit') {
      this.#hit('redis');
      return this.#keep(name, found.content, 'redis');
    }
    if (found) {
      this.#tiers[found.kind === 'miss' ? 'redis_misses' : 'redis_errors']++;
      this.#tierCounter.inc({ tier: 'redis', result: found.kind });
    }
    this.#miss();
    const resource = await this.#fromDisk(name);
    // Filled for the other replicas; a Redis that cannot take it costs this lookup nothing.
    if (found?.kind === 'miss') void this.#shared?.set(`resource:${name}`, resource.content);
    return resource;
  }

  async #fromDisk(name: string): Promise<ResourceLookup> {
    return this.#keep(name, await readFile(path.join(this.#dir, name)), 'disk');
  }

  #keep(name: string, content: Buffer, tier: ResourceTier): ResourceLookup {
    const resource: Resource = { name, content, etag: `"${createHash('sha256').update(content).digest('hex')}"` };
    this.#cache.set(name, resource);
    return { ...resource, tier };
  }

  /** Hit and miss counts, hit rate and occupancy. */
  stats(): ResourceCacheStats {
    const lookups = this.#hits + this.#misses;
    return {
      hits: this.#hits,
      misses: this.#misses,
      hit_rate: lookups === 0 ? null : Math.round((this.#hits / lookups) * 10_000) / 10_000,
      entries: this.#cache.size,
      bytes: this.#cache.bytes,
      evictions: this.#cache.evictions,
      max_entries: this.#maxEntries,
      max_bytes: this.#maxBytes,
      ...this.#tiers,
      redis: this.#shared?.state ?? 'off',
    };
  }
}
