import { describe, expect, it } from 'vitest';
import { compareFigures } from './compare.js';

const seconds = (center: number, n = 30) => Array.from({ length: n }, (_, i) => center + ((i * 7) % 5) - 2);

describe('compareFigures', () => {
  it('flags a p99 that rose past the noise, and not one that moved within it', () => {
    const base = { checkout: { 'latency_ms.p99': seconds(40) } };
    expect(compareFigures(base, { checkout: { 'latency_ms.p99': seconds(41) } }).regressed).toBe(false);
    const slow = compareFigures(base, { checkout: { 'latency_ms.p99': seconds(80) } });
    expect(slow.regressed).toBe(true);
    expect(slow.figures[0]).toMatchObject({ scenario: 'checkout', figure: 'latency_ms.p99', baseline: 40, current: 80, regressed: true });
  });

  it('lists a figure one side lacks as not compared, never as a pass', () => {
    const c = compareFigures({ checkout: { 'latency_ms.p99': [1, 2, 3] } }, { checkout: { error_rate: [0, 0, 0] } });
    expect(c.figures).toEqual([]);
    expect(c.unjudged.map((u) => u.figure).sort()).toEqual(['error_rate', 'latency_ms.p99']);
  });
});
