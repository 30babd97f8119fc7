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

  it('reads a tag selector on latency, errors and requests, and refuses one elsewhere or without a value', () => {
    expect(parseThreshold('latency{endpoint:GET /tasks}: p(99)<200')).toMatchObject({ metric: 'latency', tag: { key: 'endpoint', value: 'GET /tasks' }, percentile: 99 });
    expect(normalizeThresholds({ 'errors{endpoint:POST /tasks}': ['rate<0.01'] })).toEqual(['errors{endpoint:POST /tasks}: rate<0.01']);
    expect(parseThreshold('p(99)<200').tag).toBeUndefined();
    expect(() => parseThreshold('checks{endpoint:GET /x}: rate>0.9')).toThrow(/only latency, errors, requests take a tag selector/);
    expect(() => parseThreshold('latency{endpoint:}: p(99)<1')).toThrow(/names no value/);
    expect(() => parseThreshold('latency{endpoint}: p(99)<1')).toThrow(/is not valid/);
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
