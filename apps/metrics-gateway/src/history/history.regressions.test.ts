import { describe, expect, it } from 'vitest';
import { judgeRun, type HistoryRun } from './history.regressions.js';

const run = (id: string, p99: number, o: Partial<HistoryRun> = {}): HistoryRun => ({ run_id: id, started_at: new Date(0), status: 'pass', p50_ms: p99 / 4, p95_ms: p99 / 2, p99_ms: p99, rps: 100, error_rate: 0, ...o });

describe('judgeRun', () => {
  it('gives no verdict with fewer than 3 earlier runs', () => {
    expect(judgeRun(run('c', 400), [run('a', 40), run('b', 41)])).toMatchObject({ judged: false, regressed: false, baseline_runs: ['a', 'b'] });
  });

  it('flags a p99 past the earlier runs’ noise with how much and the bound, and not one inside it', () => {
    const earlier = [run('a', 40), run('b', 42), run('c', 39)];
    expect(judgeRun(run('d', 43), earlier)).toMatchObject({ judged: true, regressed: false, figures: [] });
    const slow = judgeRun(run('e', 80), earlier);
    expect(slow.regressed).toBe(true);
    expect(slow.figures.find((f) => f.metric === 'latency_ms.p99')).toEqual({ metric: 'latency_ms.p99', baseline: 40, current: 80, by: 40, bound: 6 });
    // Lower is worse for the throughput: `by` is how much worse, positive.
    expect(judgeRun(run('f', 40, { rps: 50 }), earlier).figures).toEqual([{ metric: 'rps.achieved', baseline: 100, current: 50, by: 50, bound: 10 }]);
  });

  it('judges only the error rate of an inconclusive (starved) run, and says which figures it could not', () => {
    const starved = judgeRun(run('s', 400, { status: 'inconclusive', error_rate: 0.2 }), [run('a', 40), run('b', 42), run('c', 39)]);
    expect(starved.figures.map((f) => f.metric)).toEqual(['error_rate']);
    expect(starved.unjudged.map((u) => u.figure)).toEqual(['latency_ms.p50', 'latency_ms.p95', 'latency_ms.p99', 'rps.achieved']);
  });
});
