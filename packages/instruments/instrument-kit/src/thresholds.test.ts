import { describe, expect, it } from 'vitest';
import { isInstrumentError } from './errors.js';
import { normalizeThresholds, parseThreshold, ThresholdSyntaxError } from './thresholds.js';

describe('threshold syntax', () => {
  it('reads k6-style expressions with default and named metrics', () => {
    expect(parseThreshold('p(99)<200')).toMatchObject({ metric: 'latency', aggregation: 'p', percentile: 99, operator: '<', value: 200 });
    expect(parseThreshold('p(99.9) <= 500')).toMatchObject({ percentile: 99.9, operator: '<=' });
    expect(parseThreshold('rate<0.01')).toMatchObject({ metric: 'errors', aggregation: 'rate' });
    expect(parseThreshold('count==0')).toMatchObject({ metric: 'errors', aggregation: 'count', operator: '==', value: 0 });
    expect(parseThreshold('duplicates: count==0')).toMatchObject({ metric: 'duplicates', aggregation: 'count' });
    expect(normalizeThresholds({ duplicates: ['count==0'], latency: ['p(95)<100'] })).toEqual(['duplicates: count==0', 'latency: p(95)<100']);
    expect(normalizeThresholds(undefined)).toEqual([]);
  });

  it('rejects malformed expressions with a coded error naming them', () => {
    for (const bad of ['p99<200', 'p(101)<1', 'rate < abc', 'avg', '<200']) expect(() => parseThreshold(bad)).toThrow(bad === 'p(101)<1' ? /percentile must be within/ : /is not valid/);
    let error: unknown;
    try {
      normalizeThresholds({ latency: ['p99<200'] });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ThresholdSyntaxError);
    expect(isInstrumentError(error, 'threshold_syntax')).toBe(true);
    expect((error as ThresholdSyntaxError).kind).toBe('usage');
    expect((error as Error).message).toContain('"latency: p99<200"');
  });
});
