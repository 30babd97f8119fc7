import { describe, expect, it } from 'vitest';
import { LruCache } from './lru-cache.js';

describe('LruCache', () => {
  it('evicts the least recently used entry past maxEntries, counting a get as a use', () => {
    const cache = new LruCache<string, number>({ maxEntries: 2 });
    cache.set('a', 1);
    cache.set('b', 2);
    expect(cache.get('a')).toBe(1); // a is now the most recent
    cache.set('c', 3);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.keys()).toEqual(['a', 'c']);
    expect(cache.evictions).toBe(1);
  });

  it('stays within maxBytes, replaces in place, and never keeps a value larger than the bound', () => {
    const cache = new LruCache<string, string>({ maxEntries: 10, maxBytes: 10, sizeOf: (v) => v.length });
    cache.set('a', '1234');
    cache.set('b', '1234');
    cache.set('a', '123456'); // replacing a: 6 + 4 = 10 bytes, a becomes the most recent
    expect(cache.bytes).toBe(10);
    expect(cache.keys()).toEqual(['b', 'a']);
    cache.set('c', '12');
    expect(cache.keys()).toEqual(['a', 'c']);
    expect(cache.bytes).toBe(8);
    cache.set('huge', 'x'.repeat(11));
    expect(cache.get('huge')).toBeUndefined();
    expect(cache.bytes).toBe(8);
    expect(cache.delete('a')).toBe(true);
    expect(cache.delete('a')).toBe(false);
    expect(cache.size).toBe(1);
  });

  it('refuses a cache that can hold nothing', () => {
    expect(() => new LruCache({ maxEntries: 0 })).toThrow(RangeError);
  });
});
