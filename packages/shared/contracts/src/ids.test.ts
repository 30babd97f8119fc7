import { describe, expect, it } from 'vitest';
import {
  entityIdSchema,
  idRegistryQuerySchema,
  idempotencyKeySchema,
  lookupIdsRequestSchema,
  maxLookupIds,
  nextIdQuerySchema,
  reserveIdsHeadersSchema,
  reserveIdsQuerySchema,
  reserveIdsRequestSchema,
  retireIdRequestSchema,
} from './ids.js';

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

  it('spells an entity id one way only, as formatId renders it', () => {
    for (const id of ['US-001', 'US-011', 'EPIC-003', 'BUG_2-999', 'US-1000', 'TASK-123456']) expect(entityIdSchema.safeParse(id).success, id).toBe(true);
    for (const id of ['US-1', 'US-01', 'US-0011', 'US-000', 'us-001', 'US001', 'US-001 ', '-001', 'US-99999999999999999999', 'A'.repeat(17) + '-001']) {
      expect(entityIdSchema.safeParse(id).success, id).toBe(false);
    }
  });

  it('bounds a lookup to 1..maxLookupIds ids and takes nothing else', () => {
    expect(lookupIdsRequestSchema.safeParse({ ids: ['US-001'] }).success).toBe(true);
    expect(lookupIdsRequestSchema.safeParse({ ids: [] }).success).toBe(false);
    expect(lookupIdsRequestSchema.safeParse({ ids: Array(maxLookupIds + 1).fill('US-001') }).success).toBe(false);
    expect(retireIdRequestSchema.safeParse({ id: 'US-001', project_id: 'x' }).success).toBe(false);
  });
});
