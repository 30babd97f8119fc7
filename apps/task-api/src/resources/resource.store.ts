import { createHash } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { resourceNameSchema, type ResourceListResponse } from '@crucible/contracts';
import { failpoint } from '@crucible/service-kit';
import { Counter, type Registry } from 'prom-client';
import { LruCache } from './lru-cache.js';

/** A shared document as served. */
export interface Resource {
  readonly name: string;
  readonly content: Buffer;
  readonly etag: string;
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
}

/**
 * The shared read-only documents shipped with the app (`resources/*.md`), read from disk on
 * a miss and kept in a bounded LRU cache. The catalogue is fixed at start-up: a name that is
 * not a file of the folder is never looked up on disk, so no name can reach outside it.
 * Hits and misses are Prometheus counters on the service's registry.
 */
export class ResourceStore {
  readonly #dir: string;
  readonly #sizes: ReadonlyMap<string, number>;
  readonly #cache: LruCache<string, Resource>;
  readonly #maxEntries: number;
  readonly #maxBytes: number;
  readonly #hitsCounter: Counter;
  readonly #missesCounter: Counter;
  // Reads in flight, so a burst of cold lookups of one document reads the disk once.
  readonly #loading = new Map<string, Promise<Resource>>();
  #hits = 0;
  #misses = 0;

  constructor(options: { dir: string; maxEntries: number; maxBytes: number; registry: Registry }) {
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
      help: 'Shared resource lookups answered from the in-process cache',
      registers: [options.registry],
    });
    this.#missesCounter = new Counter({
      name: 'task_api_resource_cache_misses_total',
      help: 'Shared resource lookups that read the document from disk',
      registers: [options.registry],
    });
  }

  /** Every document with its size, sorted by name. */
  list(): ResourceListResponse['items'] {
    return [...this.#sizes].map(([name, size]) => ({ name, size }));
  }

  /** The document `name`, or `undefined` when the app ships no such document. */
  async get(name: string): Promise<Resource | undefined> {
    if (!this.#sizes.has(name)) return undefined;
    // The planted cache bypass (failpoint `resources.cache.bypass`): a disk read, counted as the miss it is.
    if (failpoint('resources.cache.bypass')) {
      this.#miss();
      return this.#load(name);
    }
    // A lookup that joins a read already in flight counts as a hit: only the read that goes
    // to disk is a miss, so misses measure disk reads.
    const cached = this.#cache.get(name) ?? this.#loading.get(name);
    if (cached) {
      this.#hits++;
      this.#hitsCounter.inc();
      return cached;
    }
    this.#miss();
    const loading = this.#load(name);
    this.#loading.set(name, loading);
    try {
      return await loading;
    } finally {
      this.#loading.delete(name);
    }
  }

  #miss(): void {
    this.#misses++;
    this.#missesCounter.inc();
  }

  async #load(name: string): Promise<Resource> {
    const content = await readFile(path.join(this.#dir, name));
    const resource: Resource = { name, content, etag: `"${createHash('sha256').update(content).digest('hex')}"` };
    this.#cache.set(name, resource);
    return resource;
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
    };
  }
}
