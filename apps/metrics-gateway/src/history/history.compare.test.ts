import { describe, expect, it } from 'vitest';
import { compareRuns, runFigures } from './history.compare.js';

const point = (p99: number, errors = 0, requests = 100) => ({ scenario: 'checkout', requests: String(requests), errors: String(errors), rps: 100, p50_ms: p99 / 4, p95_ms: p99 / 2, p99_ms: p99 });

describe('runFigures and compareRuns', () => {
  it('takes each second as one measurement, leaves a second without requests out of the error rate, and falls back to the summary', () => {
    const f = runFigures([point(40), point(42, 5), point(41, 0, 0)], [{ scenario: 'login', error_rate: 0.01, rps: 9, p50_ms: 1, p95_ms: 2, p99_ms: 3 }]);
    expect(f['checkout']).toMatchObject({ 'latency_ms.p99': [40, 42, 41], error_rate: [0, 0.05], 'rps.achieved': [100, 100, 100] });
    expect(f['login']).toEqual({ 'latency_ms.p50': [1], 'latency_ms.p95': [2], 'latency_ms.p99': [3], 'rps.achieved': [9], error_rate: [0.01] });
  });

  it('flags a doubled p99 and not one inside the seconds’ noise', () => {
    const base = runFigures(Array.from({ length: 20 }, (_, t) => point(40 + (t % 5))), []);
    expect(compareRuns(base, runFigures(Array.from({ length: 20 }, (_, t) => point(41 + (t % 5))), [])).regressed).toBe(false);
    const slow = compareRuns(base, runFigures(Array.from({ length: 20 }, (_, t) => point(80 + (t % 5))), []));
    expect(slow.figures.filter((x) => x.regressed).map((x) => x.figure)).toEqual(['latency_ms.p50', 'latency_ms.p95', 'latency_ms.p99']);
  });
});
