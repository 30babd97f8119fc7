import type { RunReport, ScenarioReport } from '@crucible/contracts';
import { createLatencyHistogram, encodeHistogram, recordLatencyMs, summarizeHistogram } from '@crucible/instrument-kit';
import { finalizeScenario } from '../src/thresholds.js';

/**
 * A scenario report built the way the engine builds one: real HDR histograms (total and per
 * second) from latencies, thresholds evaluated. `latencies[t]` are the latencies of second t.
 */
export function scenarioFrom(name: string, latencies: number[][], extra: Partial<ScenarioReport> & { thresholdExpressions?: string[]; failures?: number } = {}): ScenarioReport {
  const total = createLatencyHistogram();
  const series = latencies.map((second, t) => {
    const h = createLatencyHistogram();
    for (const ms of second) {
      recordLatencyMs(h, ms);
      recordLatencyMs(total, ms);
    }
    const s = summarizeHistogram(h);
    const point = { t, requests: second.length, errors: 0, rps: second.length, p50: s?.p50 ?? 0, p95: s?.p95 ?? 0, p99: s?.p99 ?? 0, dropped: 0, histogram: encodeHistogram(h) };
    h.destroy();
    return point;
  });
  const requests = latencies.reduce((a, s) => a + s.length, 0);
  const failures = extra.failures ?? 0;
  const { thresholdExpressions = [], failures: _f, ...rest } = extra;
  const base: ScenarioReport = {
    name,
    executor: 'constant-arrival-rate',
    tags: {},
    started_at: '2026-01-01T00:00:00.000Z',
    duration_s: latencies.length,
    requests,
    successes: requests - failures,
    error_rate: requests ? failures / requests : 0,
    errors: failures ? { 'HTTP 503': failures } : {},
    dropped_iterations: 0,
    rps: { achieved: requests / Math.max(1, latencies.length), target: requests / Math.max(1, latencies.length) },
    latency_ms: summarizeHistogram(total),
    histogram: encodeHistogram(total),
    series,
    metrics: {},
    thresholds: thresholdExpressions.map((expression) => ({ expression, metric: '', actual: null, passed: false })),
    verdicts: [],
    evidence: [],
    checks: {},
    segment: '0:1',
    latency_basis: 'intended',
    passed: true,
    ...rest,
  };
  total.destroy();
  return finalizeScenario(base);
}

/** A run report around scenarios (pass/fail from them). */
export function runFrom(scenarios: ScenarioReport[], run: Partial<RunReport['run']> = {}): RunReport {
  return {
    schema_version: 1,
    run: {
      id: 'run-1',
      suite: 'fixture suite',
      project: 'fixture',
      target: 'stress',
      started_at: '2026-01-01T00:00:00.000Z',
      finished_at: '2026-01-01T00:00:05.000Z',
      commit: 'abc123',
      machine: { hostname: 'test', platform: 'linux-x64', cpus: 2, memory_gb: 24 },
      node: 'v20.20.0',
      config: {},
      ...run,
    },
    scenarios,
    passed: scenarios.every((s) => s.passed),
  };
}

/** Deterministic pseudo-random latencies around `center` ms (±`spread`). */
export function latencies(count: number, center: number, spread: number, seed = 1): number[] {
  let x = seed;
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    out.push(Math.max(0.01, center + ((x / 2147483648) * 2 - 1) * spread));
  }
  return out;
}
