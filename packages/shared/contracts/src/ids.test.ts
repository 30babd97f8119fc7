import { describe, expect, it } from 'vitest';
import { idRegistryQuerySchema, idempotencyKeySchema, nextIdQuerySchema, reserveIdsHeadersSchema, reserveIdsQuerySchema, reserveIdsRequestSchema } from './ids.js';

describe('ID contracts', () => {
  it('accepts the Idempotency-Key shapes clients use and rejects the rest', () => {
    for (const key of ['order-42', '0b8e1a6e-4f0c-4a5e-9d55-0c2b6e7f9a10', '01HZX3J8Q4M9V6T2K7R5N1B0CD', 'YWJj+/=', 'a'.repeat(255)]) {
      expect(idempotencyKeySchema.safeParse(key).success).toBe(true);
    }
    for (const key of ['', 'a'.repeat(256), 'my key', 'ключ', 'a,b', 'a\nb']) {
      expect(idempotencyKeySchema.safeParse(key).success).toBe(false);
    }
  });

  it('reads only the idempotency-key header and treats it as optional', () => {
    expect(reserveIdsHeadersSchema.parse({ host: 'x', 'idempotency-key': 'k1' })).toEqual({ 'idempotency-key': 'k1' });
    expect(reserveIdsHeadersSchema.parse({ host: 'x' })).toEqual({});
  });

  it('rejects unknown query parameters and fields', () => {
    expect(reserveIdsQuerySchema.safeParse({ count: '5' }).success).toBe(false);
    expect(reserveIdsQuerySchema.safeParse({}).success).toBe(true);
    expect(idRegistryQuerySchema.safeParse({ project: 'alpha' }).success).toBe(true);
    expect(idRegistryQuerySchema.safeParse({ type: 'US' }).success).toBe(false);
    expect(nextIdQuerySchema.safeParse({ type: 'US', count: '2' }).success).toBe(false);
    expect(reserveIdsRequestSchema.safeParse({ type: 'US', count: 1, start: 5 }).success).toBe(false);
  });

  it('bounds count to whole numbers 1..10000', () => {
    for (const count of [1, 10_000]) expect(reserveIdsRequestSchema.safeParse({ type: 'US', count }).success).toBe(true);
    for (const count of [0, 10_001, 1.5, -1, '6']) expect(reserveIdsRequestSchema.safeParse({ type: 'US', count }).success).toBe(false);
  });
});
