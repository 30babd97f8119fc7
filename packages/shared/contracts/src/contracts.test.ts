import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  errorEnvelopeSchema,
  errorStatus,
  formatId,
  parseId,
  projectIdSchema,
  reserveIdsRequestSchema,
  type ErrorCode,
  type ReserveIdsRequest,
} from './index.js';

describe('formatId', () => {
  it('pads to three digits and grows past 999', () => {
    expect(formatId('US', 1)).toBe('US-001');
    expect(formatId('US', 42)).toBe('US-042');
    expect(formatId('US', 999)).toBe('US-999');
    expect(formatId('US', 1000)).toBe('US-1000');
  });
  it('round-trips through parseId', () => {
    expect(parseId(formatId('BUG_2', 1234))).toEqual({ type: 'BUG_2', number: 1234 });
    expect(parseId('us-001')).toBeUndefined();
  });
});

describe('schemas', () => {
  it('rejects unknown fields and out-of-range counts in a reservation', () => {
    expect(reserveIdsRequestSchema.safeParse({ type: 'US', count: 6 }).success).toBe(true);
    expect(reserveIdsRequestSchema.safeParse({ type: 'US', count: 0 }).success).toBe(false);
    expect(reserveIdsRequestSchema.safeParse({ type: 'US', count: 10_001 }).success).toBe(false);
    expect(reserveIdsRequestSchema.safeParse({ type: 'us', count: 1 }).success).toBe(false);
    expect(reserveIdsRequestSchema.safeParse({ type: 'US', count: 1, extra: true }).success).toBe(false);
  });
  it('accepts project ids by the documented pattern only', () => {
    expect(projectIdSchema.safeParse('alpha-1').success).toBe(true);
    expect(projectIdSchema.safeParse('-alpha').success).toBe(false);
    expect(projectIdSchema.safeParse('Alpha').success).toBe(false);
    expect(projectIdSchema.safeParse('a'.repeat(64)).success).toBe(false);
  });
  it('maps every error code to a 4xx or 5xx status', () => {
    for (const status of Object.values(errorStatus)) expect(status).toBeGreaterThanOrEqual(400);
    expect(errorEnvelopeSchema.safeParse({ error: { code: 'no_task', message: 'x' } }).success).toBe(true);
    expect(errorEnvelopeSchema.safeParse({ error: { code: 'nope', message: 'x' } }).success).toBe(false);
  });
  it('infers request types from the schemas', () => {
    expectTypeOf<ReserveIdsRequest>().toEqualTypeOf<{ type: string; count: number; project_id?: string | undefined }>();
    expectTypeOf<'no_task'>().toExtend<ErrorCode>();
  });
});
