import { describe, expect, it } from 'vitest';
import { mad, madToSigma, median, quantile } from './stats.js';

describe('order statistics', () => {
  it('median: middle value, or the mean of the middle two; an empty list throws', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    expect(() => median([])).toThrow(/empty/);
  });

  it('MAD scaled to a sigma: 0 for equal values, unmoved by one outlier', () => {
    expect(mad([1, 1, 1])).toBe(0);
    expect(mad([1, 2, 3, 4, 100])).toBeCloseTo(madToSigma);
    expect(mad([5])).toBe(0);
  });

  it('quantile interpolates between neighbours; NaN when there is nothing to rank', () => {
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantile([0, 10], 0.9)).toBeCloseTo(9);
    expect(quantile([], 0.5)).toBeNaN();
  });
});
