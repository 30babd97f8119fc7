import { describe, expect, it } from 'vitest';
import { compareRuns, compareTask, hasRegression } from './compare.js';
import { summarise } from './stats.js';

// Deterministic pseudo-random samples (mulberry32), so the tests do not depend on luck.
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** n samples around `median` with spread `sd` (approximately normal), plus a few slow outliers. */
function samples(seed: number, median: number, sd: number, n = 500, outliers = 0.02): number[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => {
    const normal = Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
    const v = median + sd * normal;
    return r() < outliers ? v * 20 : Math.max(v, median * 0.05);
  });
}

describe('summarise', () => {
  it('reports median and MAD that outliers do not move', () => {
    const s = summarise([1, 1.1, 0.9, 1.05, 0.95, 100]);
    expect(s.median_ms).toBeCloseTo(1.025, 6);
    expect(s.mad_ms).toBeCloseTo(0.075, 6);
    expect(s.max_ms).toBe(100);
    expect(s.mean_ms).toBeGreaterThan(10);
    expect(s.samples).toBe(6);
  });
});

describe('compareTask', () => {
  const opts = { tolerance: 0.25 };

  it('flags a real regression: the median moved 50 % with a tight spread', () => {
    const base = summarise(samples(1, 1.0, 0.05));
    const slow = summarise(samples(2, 1.5, 0.05));
    const c = compareTask('reserve', base, slow, opts);
    expect(c.verdict).toBe('regressed');
    expect(c.delta_ratio).toBeGreaterThan(0.4);
    expect(c.reason).toContain('tolerance');
  });

  it('does not flag noise: the same distribution measured twice', () => {
    for (let seed = 10; seed < 30; seed++) {
      const c = compareTask('reserve', summarise(samples(seed, 1.0, 0.3)), summarise(samples(seed + 100, 1.0, 0.3)), opts);
      expect(c.verdict).toBe('unchanged');
    }
  });

  it('does not flag a 40 % shift that stays inside a wide spread', () => {
    // Beyond the relative tolerance, but the samples scatter by ±1 ms around 1 ms:
    // on a shared machine such a move is noise, not a regression.
    const c = compareTask('http', summarise(samples(3, 1.0, 1.0)), summarise(samples(4, 1.4, 1.0)), opts);
    expect(c.delta_ratio).toBeGreaterThan(0.25);
    expect(c.verdict).toBe('unchanged');
    expect(c.reason).toContain('noise band');
  });

  it('does not flag a clear but small change below the tolerance', () => {
    // Beyond the noise (spread 0.001 ms) yet only +10 %: not worth failing a build on.
    const c = compareTask('format', summarise(samples(5, 1.0, 0.001, 500, 0)), summarise(samples(6, 1.1, 0.001, 500, 0)), opts);
    expect(c.verdict).toBe('unchanged');
    expect(c.reason).toContain('tolerance');
  });

  it('reports an improvement without failing', () => {
    const c = compareTask('reserve', summarise(samples(7, 2.0, 0.1)), summarise(samples(8, 1.0, 0.1)), opts);
    expect(c.verdict).toBe('improved');
    expect(hasRegression([c])).toBe(false);
  });

  it('calls too few samples inconclusive', () => {
    const c = compareTask('x', summarise([1, 1, 1]), summarise([3, 3, 3]), opts);
    expect(c.verdict).toBe('inconclusive');
  });
});

describe('compareRuns', () => {
  it('marks new and missing tasks, applies per-task tolerances and finds the regression', () => {
    const base = { a: summarise(samples(11, 1, 0.02)), gone: summarise(samples(12, 1, 0.02)) };
    const cur = { a: summarise(samples(13, 1.3, 0.02)), fresh: summarise(samples(14, 1, 0.02)) };
    const strict = compareRuns(base, cur, { tolerance: 0.2 });
    expect(Object.fromEntries(strict.map((c) => [c.name, c.verdict]))).toEqual({ a: 'regressed', fresh: 'new', gone: 'missing' });
    expect(hasRegression(strict)).toBe(true);
    const lenient = compareRuns(base, cur, { tolerance: 0.2, toleranceFor: (t) => (t === 'a' ? 0.5 : undefined) });
    expect(lenient.find((c) => c.name === 'a')?.verdict).toBe('unchanged');
    expect(hasRegression(lenient)).toBe(false);
  });
});
