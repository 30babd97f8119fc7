// The burst-latency threshold (p(99)<100 on 500 concurrent reservations of one sequence),
// shown failing on a real id-service whose group commit is planted off
// (`ids.reserve.uncoalesced`: each call allocates alone and holds the row lock 1 ms, so 500
// calls queue for at least 0.5 s), and the clean service measured against it in the same
// file: the suite's own steps, on a real PostgreSQL.
import type { RunReport, ScenarioReport } from '@crucible/contracts';
import { reportVerdicts, runSuiteSteps } from '@crucible/suite-kit/testing';
import { describe, expect, it } from 'vitest';
import { burstLatency, burstP99Ms } from './burst-latency.js';
import { idStressSuite } from './suite.js';

const expression = `p(99)<${burstP99Ms}`;
const p99Of = (s: ScenarioReport | undefined) => s?.thresholds.find((t) => t.expression === expression);
const correctness = ['id-uniqueness', 'id-reconciliation', 'api-isolation'];

/**
 * The keyed and the unkeyed burst of 500 on a service started with `failpoints`, measured
 * again (up to 3 runs in all) while a latency threshold is `inconclusive`: this shared machine
 * starved the load generator, so the figure says nothing about the service.
 */
async function measured(failpoints?: string): Promise<RunReport> {
  let report: RunReport | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    report = await runSuiteSteps(idStressSuite, [burstLatency(true, attempt), burstLatency(false, attempt)], failpoints ? { CRUCIBLE_FAILPOINTS: failpoints } : {});
    if (!report.scenarios.some((s) => p99Of(s)?.status === 'inconclusive')) break;
  }
  return report as RunReport;
}

/** A scenario's name without the ` (round N)` a measured-again attempt carries (its own sequence). */
const burstName = (s: ScenarioReport | undefined) => s?.name.replace(/ \(round \d+\)$/, '');
const batchedCalls = (s: ScenarioReport | undefined) => (s?.evidence.find((e) => e.title.startsWith('How the coalescer took the burst'))?.content as { batched_calls?: number; mean_batch?: number } | undefined) ?? {};

describe('burst-latency: p(99)<100 on a burst of 500 concurrent reservations', () => {
  let planted: RunReport;

  it('fails, keyed and unkeyed, when group commit is off (every call alone on the row lock, 1 ms each)', async () => {
    planted = await measured('ids.reserve.uncoalesced=1');
    expect(planted.scenarios.map(burstName)).toEqual(['burst of 500 concurrent reservations', 'burst of 500 concurrent unkeyed reservations']);
    for (const s of planted.scenarios) {
      const p99 = p99Of(s);
      expect(p99?.status, p99?.message).toBe('fail');
      // 500 calls each holding the row lock ≥ 1 ms: the 495th answer waited for ≥ 495 of them.
      expect(p99?.actual).toBeGreaterThanOrEqual(450);
      // None of it went through the coalescer, and the IDs are still right: the defect is latency alone.
      expect(batchedCalls(s).batched_calls).toBe(0);
      expect(s.thresholds.filter((t) => t.expression !== expression).every((t) => t.passed)).toBe(true);
    }
    for (const checker of correctness) expect(reportVerdicts(planted, checker).map((v) => v.status)).toEqual(['pass', 'pass']);
    expect(planted.passed).toBe(false);
  });

  it('the clean service coalesces the burst, keyed and unkeyed, with no collision, well inside the planted latency', async () => {
    const clean = await measured();
    for (const s of clean.scenarios) {
      const p99 = p99Of(s);
      const slow = p99Of(planted?.scenarios.find((p) => burstName(p) === burstName(s)));
      // Every call went through a batch, most with others (the mean batch holds several calls).
      expect(batchedCalls(s).batched_calls).toBe(500);
      expect(batchedCalls(s).mean_batch).toBeGreaterThan(2);
      expect(s.thresholds.filter((t) => t.expression !== expression).every((t) => t.passed)).toBe(true);
      // The goal where this machine allows it; on a loaded shared one (this CI box, 2 cores
      // with the generator on them) at least half the planted p99, measured in the same file.
      expect(slow?.actual, 'the planted run measured this burst').toBeGreaterThan(0);
      if (p99?.status !== 'pass') expect(p99?.actual, p99?.message).toBeLessThan((slow?.actual ?? 0) / 2);
    }
    for (const checker of correctness) expect(reportVerdicts(clean, checker).map((v) => v.status)).toEqual(['pass', 'pass']);
  });
});
