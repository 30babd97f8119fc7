import { describe, expect, it } from 'vitest';
import { compareDegradation, median, spreadOf } from './degradation.checker.js';

describe('degradation between two sets of runs', () => {
  it('summarises runs by median and relative spread', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(spreadOf([9, 10, 11])).toEqual({ runs: [9, 10, 11], median: 10, min: 9, max: 11, relative: 0.2 });
  });

  it('passes a change within the bound', () => {
    const d = compareDegradation([10, 10.5, 9.8], [10.6, 10.9, 10.2], { metric: 'p99 ms', bound: 0.1 });
    expect(d.verdict.status).toBe('pass');
    expect(d.change).toBeCloseTo(0.6 / 10, 5);
  });

  it('fails a degradation past the bound that every pairing of runs shows', () => {
    const d = compareDegradation([10, 10.2, 9.9], [13, 12.5, 13.4], { metric: 'p99 ms', bound: 0.1 });
    expect(d.verdict.status).toBe('fail');
    expect(d.verdict.counts['change']).toBeCloseTo(0.3, 5);
    expect(d.verdict.summary).toContain('past the 10.0% bound');
  });

  it('is indeterminate when the medians differ past the bound but the runs overlap', () => {
    const d = compareDegradation([10, 14, 9], [12, 9.5, 15], { metric: 'p99 ms', bound: 0.1 });
    expect(d.verdict.status).toBe('indeterminate');
  });

  it('treats a difference under the noise floor as noise, whatever its relative size', () => {
    const d = compareDegradation([2.0, 2.1, 2.0], [2.9, 3.0, 2.8], { metric: 'p99 ms', bound: 0.1, noiseFloor: 2 });
    expect(d.change).toBeGreaterThan(0.4);
    expect(d.verdict.status).toBe('pass');
  });

  it('reads throughput the other way round', () => {
    const d = compareDegradation([1000, 990, 1010], [700, 690, 720], { metric: 'rps', bound: 0.1, direction: 'higher-is-better' });
    expect(d.verdict.status).toBe('fail');
    expect(d.change).toBeCloseTo(0.3, 5);
  });
});
