import { describe, expect, it } from 'vitest';
import { latencies, scenarioFrom } from '../tests/report-fixture.js';
import { evaluateThresholds, finalizeReport } from './thresholds.js';

// The syntax itself is tested in @crucible/instrument-kit (thresholds.test.ts).

describe('threshold evaluation', () => {
  const s = scenarioFrom('s', [latencies(1000, 50, 40)], { failures: 5, metrics: { duplicates: 0, leaked_rows: 3 } });

  it('computes latency percentiles from the histogram (any percentile), error rate and counts', () => {
    const r = evaluateThresholds(['p(99)<100', 'p(50)>200', 'p(99.99)<1000', 'avg<60', 'rate<0.01', 'count<=5', 'requests: count==1000', 'checks: rate==1'], s);
    expect(r.map((t) => t.passed)).toEqual([true, false, true, true, true, true, true, true]);
    expect(r[1]?.actual).toBeGreaterThan(40);
    expect(r[1]?.actual).toBeLessThan(60);
    expect(r[1]?.message).toMatch(/failed: latency p\(50\) = /);
    expect(r[4]?.actual).toBeCloseTo(0.005);
  });

  it('evaluates custom metrics attached by a suite', () => {
    const r = evaluateThresholds(['duplicates: count==0', 'leaked_rows: count==0', 'leaked_rows: value<10'], s);
    expect(r.map((t) => t.passed)).toEqual([true, false, true]);
    // A custom rate (ctx.rate) is one number, its fraction of true samples; `rate` reads it.
    const hits = scenarioFrom('hits', [latencies(10, 5, 1)], { metrics: { cache_hit: 0.75 } });
    expect(evaluateThresholds(['cache_hit: rate>0.9', 'cache_hit: rate>=0.75'], hits).map((t) => [t.passed, t.actual])).toEqual([[false, 0.75], [true, 0.75]]);
  });

  it('fails — never passes — a threshold on an unknown metric or a wrong aggregation', () => {
    const r = evaluateThresholds(['ghosts: count==0', 'errors: p(99)<1', 'duplicates: p(50)<1'], s);
    expect(r.every((t) => !t.passed && t.actual === null)).toBe(true);
    expect(r[0]?.message).toMatch(/unknown metric "ghosts" \(known: latency, errors, requests, dropped_iterations, checks, schedule_lag, duplicates, leaked_rows\)/);
    expect(r[1]?.message).toMatch(/does not apply to metric "errors"/);
  });
});

describe('schedule lag thresholds', () => {
  it('read the generator’s start lag when the scenario has one, and fail when it has none', () => {
    const lagged = { ...scenarioFrom('open', [latencies(100, 10, 5)]), schedule_lag_ms: { p50: 0.2, p90: 1, p95: 2, p99: 40, p999: 60, max: 80, mean: 1, min: 0.001 } };
    expect(evaluateThresholds(['schedule_lag: p(99)<50', 'schedule_lag: max<50'], lagged).map((t) => t.passed)).toEqual([true, false]);
    const closed = scenarioFrom('closed', [latencies(100, 10, 5)]);
    expect(evaluateThresholds(['schedule_lag: p(99)<50'], closed)[0]).toMatchObject({ passed: false, actual: null });
  });
});

describe('finalizeReport', () => {
  it('turns a verdict or metric attached after the report was built into pass/fail', () => {
    const s = scenarioFrom('ids', [latencies(50, 10, 2)], { thresholdExpressions: ['duplicates: count==0'], metrics: { duplicates: 0 } });
    const report = { schema_version: 1 as const, run: { id: 'r', suite: 's', started_at: '', finished_at: '', commit: null, machine: { hostname: 'h', platform: 'p', cpus: 2, memory_gb: 1 }, node: 'v20', config: {} }, scenarios: [s], passed: true };
    expect(finalizeReport(report).passed).toBe(true);
    const withDuplicates = { ...report, scenarios: [{ ...s, metrics: { duplicates: 3 } }] };
    expect(finalizeReport(withDuplicates).scenarios[0]?.thresholds[0]).toMatchObject({ passed: false, actual: 3 });
    expect(finalizeReport(withDuplicates).passed).toBe(false);
    const withVerdict = { ...report, scenarios: [{ ...s, verdicts: [{ checker: 'uniqueness', status: 'fail' as const, summary: 'dup', counts: {}, examples: [] }] }] };
    expect(finalizeReport(withVerdict).passed).toBe(false);
  });
});
