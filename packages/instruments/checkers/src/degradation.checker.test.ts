import { describe, expect, it } from 'vitest';
import { combineDegradations, compareDegradation, spreadOf } from './degradation.checker.js';

describe('degradation between two sets of interleaved runs', () => {
  it('summarises runs by median and relative spread', () => {
    expect(spreadOf([9, 10, 11])).toEqual({ runs: [9, 10, 11], median: 10, min: 9, max: 11, relative: 0.2 });
  });

  it('passes a change of the medians within the bound', () => {
    const d = compareDegradation([10, 10.5, 9.8], [10.6, 10.9, 10.2], { metric: 'p99 ms', bound: 0.1 });
    expect(d.verdict.status).toBe('pass');
    expect(d.change).toBeCloseTo(0.6 / 10, 5);
    expect(d.pairChanges[2]).toBeCloseTo(0.4 / 9.8, 5);
  });

  it('fails a degradation past the bound that every pair shows', () => {
    const d = compareDegradation([10, 10.2, 9.9], [13, 12.5, 13.4], { metric: 'p99 ms', bound: 0.1 });
    expect(d.verdict.status).toBe('fail');
    expect(d.verdict.counts['pairs_past_bound']).toBe(3);
    expect(d.verdict.summary).toContain('past the 10.0% bound, 3 of 3 interleaved pairs past it');
  });

  it('fails on every pair but one from five pairs up: one hiccup cannot hide a degradation', () => {
    const d = compareDegradation([6, 6.2, 5.9, 40, 6.1], [8, 8.3, 7.9, 8.1, 8.2], { metric: 'p99 ms', bound: 0.1 });
    expect(d.verdict.status).toBe('fail');
    expect(d.verdict.counts['pairs_needed_to_fail']).toBe(4);
  });

  it('is indeterminate when the median is past the bound but too few pairs agree', () => {
    const d = compareDegradation([10, 14, 9], [12, 9.5, 15], { metric: 'p99 ms', bound: 0.1 });
    expect(d.verdict.status).toBe('indeterminate');
  });

  it('measures its noise floor from the baseline runs and caps it at 2.5 % of the baseline: +80 % on a 6 ms p99 fails', () => {
    // The floor this replaces was 5 ms, which passed exactly this.
    const d = compareDegradation([6.0, 6.1, 5.9], [10.8, 10.9, 10.7], { metric: 'p99 ms', bound: 0.1 });
    expect(d.noiseFloor).toBeCloseTo(0.1, 5);
    expect(d.verdict.status).toBe('fail');
    const wide = compareDegradation([4, 6, 9], [4.2, 6.1, 9.3], { metric: 'p99 ms', bound: 0.01 });
    expect(wide.noiseFloor).toBeCloseTo(0.025 * 6, 5);
  });

  it('leaves out pairs that cannot be judged, and needs three left to decide', () => {
    const starved = ['load generator starved', undefined, 'load generator starved', undefined];
    const d = compareDegradation([6, 6, 6, 6], [60, 8, 60, 8], { metric: 'p99 ms', bound: 0.1, leaveOut: starved });
    expect(d.verdict.status).toBe('indeterminate');
    expect(d.verdict.summary).toContain('only 2 of 4 pairs can be judged (3 needed): pair 1: load generator starved; pair 3: load generator starved');
    const three = compareDegradation([6, 6, 6, 6], [60, 6.1, 6.2, 6.0], { metric: 'p99 ms', bound: 0.1, leaveOut: ['starved'] });
    expect(three.verdict.status).toBe('pass');
    expect(three.verdict.counts['pairs_left_out']).toBe(1);
  });

  it('reads throughput the other way round', () => {
    const d = compareDegradation([1000, 990, 1010], [700, 690, 720], { metric: 'rps', bound: 0.1, direction: 'higher-is-better' });
    expect(d.verdict.status).toBe('fail');
    expect(d.change).toBeCloseTo(0.3, 2);
  });

  it('combines parts: fail if any fails, pass only if all pass', () => {
    const ok = compareDegradation([6, 6, 6], [6, 6, 6], { metric: 'p50', bound: 0.1 });
    const bad = compareDegradation([6, 6, 6], [9, 9, 9], { metric: 'p99', bound: 0.1 });
    const unsure = compareDegradation([6, 6, 6], [9, 9, 9], { metric: 'p99', bound: 0.1, leaveOut: ['starved'] });
    expect(combineDegradations('degradation', { p50: ok, p99: bad }).status).toBe('fail');
    expect(combineDegradations('degradation', { p50: ok, p99: ok }).status).toBe('pass');
    const v = combineDegradations('degradation', { p50: ok, p99: unsure });
    expect(v.status).toBe('indeterminate');
    expect(v.counts['p99.pairs_left_out']).toBe(1);
  });
});
