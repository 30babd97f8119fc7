/**
 * A bounded least-recently-used cache: at most `maxEntries` entries and `maxBytes` of
 * values (as `sizeOf` measures them). A `get` makes an entry the most recent; a `set` past
 * either bound evicts from the least recent end. A value larger than `maxBytes` is not kept.
 *
 * @example
 * const cache = new LruCache<string, Buffer>({ maxEntries: 16, maxBytes: 1 << 20, sizeOf: (b) => b.length });
 */
export class LruCache<K, V> {
  // A Map iterates in insertion order, so re-inserting on access keeps the least recent first.
  readonly #entries = new Map<K, V>();
  readonly #maxEntries: number;
  readonly #maxBytes: number;
  readonly #sizeOf: (value: V) => number;
  #bytes = 0;
  #evictions = 0;

  constructor(options: { maxEntries: number; maxBytes?: number; sizeOf?: (value: V) => number }) {
    if (!(options.maxEntries >= 1)) throw new RangeError('maxEntries must be at least 1');
    this.#maxEntries = options.maxEntries;
    this.#maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
    this.#sizeOf = options.sizeOf ?? (() => 0);
  }

  /** The value for `key` (now the most recently used), or `undefined`. */
  get(key: K): V | undefined {
    const value = this.#entries.get(key);
    if (value === undefined) return undefined;
    this.#entries.delete(key);
    this.#entries.set(key, value);
    return value;
  }

  /** Stores `value` as the most recently used entry, evicting the least recent past the bounds. */
  set(key: K, value: V): void {
    const size = this.#sizeOf(value);
    this.delete(key);
    if (size > this.#maxBytes) return;
    this.#entries.set(key, value);
    this.#bytes += size;
    while (this.#entries.size > this.#maxEntries || this.#bytes > this.#maxBytes) {
      const oldest = this.#entries.keys().next();
      if (oldest.done) break;
      this.delete(oldest.value);
      this.#evictions++;
    }
  }

  /** Removes `key`; true when it was there. */
  delete(key: K): boolean {
    const value = this.#entries.get(key);
    if (value === undefined) return false;
    this.#entries.delete(key);
    this.#bytes -= this.#sizeOf(value);
    return true;
  }

  /** Number of entries held. */
  get size(): number {
    return this.#entries.size;
  }

  /** Bytes held, as `sizeOf` measures them. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Entries evicted to stay within the bounds since creation. */
  get evictions(): number {
    return this.#evictions;
  }

  /** Keys from least to most recently used. */
  keys(): K[] {
    return [...this.#entries.keys()];
  }
}
