// Planted defects for the id-service stress suite's verdicts: the suite's own steps run
// against the real id-service on a real PostgreSQL with a failpoint armed, and the verdict
// that exists to catch the defect fails, naming it; the same steps pass on the clean service.
import { describe, expect, it } from 'vitest';
import { reportVerdicts, runSuiteSteps } from '@crucible/suite-kit/testing';
import { burstOf } from './stress/bursts.js';
import { independentSequences } from './stress/independent-sequences.js';
import { idStressSuite } from './stress/suite.js';

describe('id-service stress verdicts', () => {
  it('pass on the clean service: a burst of 200 and five independent sequences', async () => {
    const report = await runSuiteSteps(idStressSuite, [burstOf(200, 0), independentSequences]);
    expect(report.scenarios.flatMap((s) => s.verdicts.filter((v) => v.status !== 'pass'))).toEqual([]);
    expect(reportVerdicts(report, 'api-isolation').map((v) => v.counts['ids_answered'])).toEqual([200 * 1.5, 150]);
    expect(report.passed).toBe(true);
  });

  it('id-uniqueness and id-reconciliation fail, naming duplicate IDs, when 5 % of allocations read then write without the row lock', async () => {
    // 200 concurrent reservations at 0.05: the failpoint fires on none with probability
    // 0.95^200 ≈ 3.5e-5 (10 expected), and a firing call almost always races: 200 calls queue
    // on one row lock, so another allocation commits between its read and its write.
    const report = await runSuiteSteps(idStressSuite, [burstOf(200, 0)], { CRUCIBLE_FAILPOINTS: 'ids.allocate.read-then-write=0.05' });
    const [uniqueness] = reportVerdicts(report, 'id-uniqueness');
    const [reconciliation] = reportVerdicts(report, 'id-reconciliation');
    expect(uniqueness?.status).toBe('fail');
    expect(uniqueness?.counts['duplicate_ids']).toBeGreaterThan(0);
    expect(reconciliation?.status).toBe('fail');
    expect(reconciliation?.counts['duplicate_ids']).toBeGreaterThan(0);
    expect(reconciliation?.examples).toContainEqual(expect.objectContaining({ kind: 'duplicate', project_id: 'burst-200', type: 'B0' }));
    expect(report.scenarios[0]?.thresholds.find((t) => t.metric === 'duplicate_ids')?.passed).toBe(false);
    expect(report.passed).toBe(false);
  });

  it("api-isolation fails, naming both projects, when 20 % of reservations are drawn from another project's sequence", async () => {
    // 50 reservations across 5 projects at 0.2: a call fires once another project has a US
    // sequence (after the first few); none of ~45 such calls firing has probability
    // 0.8^45 ≈ 4e-5. A firing project answers IDs its sequence did not allocate, and the
    // source (the first other project by id) allocated more than its own calls asked.
    const report = await runSuiteSteps(idStressSuite, [independentSequences], { CRUCIBLE_FAILPOINTS: 'ids.reserve.wrong-project=0.2' });
    const [isolation] = reportVerdicts(report, 'api-isolation');
    expect(isolation?.status).toBe('fail');
    expect(isolation?.summary).toMatch(/p\d\/US answered \d+ IDs, its sequence advanced \d+ \(IDs not from the project's own sequence\)/);
    expect(isolation?.summary).toMatch(/\(the sequence allocated for another project's calls\)/);
    expect(isolation?.counts['answered_not_allocated_ids']).toBeGreaterThan(0);
    expect(isolation?.counts['allocated_for_others_ids']).toBeGreaterThan(0);
    expect(report.passed).toBe(false);
  });
});
