import { createLatencyHistogram, encodeHistogram, recordLatencyMs } from '@crucible/instrument-kit';
import { classifyGenerator, type ScenarioResult } from '@crucible/load-engine';
import { scenarioReport } from '@crucible/reporting';
import { describe, expect, it } from 'vitest';
import { starvedToRerun } from './rerun.js';

const quiet = { lagP99Ms: 1, loopDelayP99Ms: 2, loopDelayMaxMs: 5, cpuShare: 0.9, cpuCores: 0.2, loadPerCore: 0.5 };
const starved = classifyGenerator({ ...quiet, lagP99Ms: 140 });

function result(name: string, thresholds: string[], generator = starved): ScenarioResult {
  const h = createLatencyHistogram();
  for (let i = 0; i < 100; i++) recordLatencyMs(h, 10 + (i % 7));
  const histogram = encodeHistogram(h);
  h.destroy();
  return {
    name, executor: { type: 'constant-arrival-rate', rate: 100, timeUnitMs: 1000, durationMs: 1000, preAllocatedVUs: 10, maxVUs: 10 } as ScenarioResult['executor'],
    tags: {}, segment: '0:1', startedAt: new Date(0).toISOString(), durationS: 1, requests: 100, successes: 100, errors: {}, dropped: 0, checks: {}, metrics: { duplicates: 0 }, rates: {},
    histogram, series: [], thresholds, rpsTarget: 100, latencyBasis: 'intended', outcomes: [], verdicts: [], evidence: [], generator,
  };
}

describe('starvedToRerun', () => {
  it('names a starved engine result with an inconclusive threshold, with the figures', () => {
    expect(starvedToRerun(result('writes', ['p(99)<100', 'rate<0.01']), undefined)).toEqual(['writes (start lag p99 140 ms > 100 ms)']);
  });

  it('leaves alone what a second run could not change, and a step that opted out', () => {
    expect(starvedToRerun(result('burst', ['rate<0.01', 'duplicates: count==0']), undefined)).toEqual([]);
    expect(starvedToRerun(result('writes', ['p(99)<100'], classifyGenerator(quiet)), undefined)).toEqual([]);
    expect(starvedToRerun(result('writes', ['p(99)<100']), false)).toEqual([]);
  });

  it('re-runs for a finished report only when the step opts in', () => {
    const report = scenarioReport(result('fan-out', ['p(99)<100']));
    expect(report.thresholds[0]?.status).toBe('inconclusive');
    expect(starvedToRerun(report, undefined)).toEqual([]);
    expect(starvedToRerun([report], true)).toEqual(['fan-out (start lag p99 140 ms > 100 ms)']);
  });

  it('names a starved result whose verdict could not decide (a capacity measured by a starved generator)', () => {
    const r = result('capacity', []);
    const undecided = { ...r, verdicts: [{ checker: 'capacity', status: 'indeterminate' as const, summary: 'inconclusive: load generator starved', counts: {}, examples: [] }] };
    expect(starvedToRerun(undecided, undefined)).toEqual(['capacity (start lag p99 140 ms > 100 ms)']);
  });
});
