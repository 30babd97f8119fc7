// Planted-defect test of the run history's isolation verdicts: the real gateway process with
// `gateway.api.unscoped` armed (GET /api/v1/runs forgets its project filter on some requests)
// or `gateway.errors.unscoped` (GET /api/v1/errors sums every project's points), two projects
// publishing through their own keys, and the verdicts the suite reports
// (checkHistoryIsolation) failing and naming the leak; the same on the clean gateway passes.
import type { Verdict } from '@crucible/contracts';
import { createDb, createPool } from '@crucible/db';
import { startSut } from '@crucible/testbed';
import { testServer } from '@crucible/testbed/testing';
import { describe, expect, it } from 'vitest';
import { checkHistoryIsolation } from './history-isolation.js';
import { twoProjects } from './history-fixtures.js';

// 30 rounds × 2 keys = 60 listings; at 20 % a listing the defect never fires with
// probability 0.8^60 ≈ 1.5e-6.
const rounds = 30;
const probability = 0.2;

async function isolation(failpoints?: string): Promise<Verdict[]> {
  await using sut = await startSut({ server: testServer(), apps: ['metrics-gateway'], env: { LOG_LEVEL: 'warn', ...(failpoints ? { CRUCIBLE_FAILPOINTS: failpoints } : {}) } });
  const projects = await twoProjects(sut);
  const db = createDb(createPool({ connectionString: sut.databaseUrl, max: 2 }));
  try {
    return await checkHistoryIsolation(sut.url('metrics-gateway'), db, projects, rounds);
  } finally {
    await db.destroy();
  }
}

describe('run history isolation verdicts', () => {
  it('pass on the clean gateway', async () => {
    const [api, sql] = await isolation();
    // 30 rounds × 2 keys × (a foreign run's detail + a comparison with a foreign run).
    expect(api).toMatchObject({ checker: 'api-isolation', status: 'pass', counts: { leaked_items: 0, foreign_requests: 120 } });
    expect(sql).toMatchObject({ checker: 'history-sql-isolation', status: 'pass', counts: { misplaced_runs: 0, listings_differing: 0, breakdowns: 60, breakdowns_differing: 0 } });
  });

  it('fail naming another project’s runs when the listing forgets its project filter (gateway.api.unscoped)', async () => {
    const [api, sql] = await isolation(`gateway.api.unscoped=${probability}`);
    expect(api!.status).toBe('fail');
    expect(api!.counts['leaked_items']).toBeGreaterThan(0);
    expect(api!.counts['leaking_project_pairs']).toBe(2);
    expect(api!.summary).toMatch(/rows of another project/);
    expect(api!.examples[0]).toMatchObject({ kind: 'leaked_row', endpoint: 'GET /api/v1/runs' });
    // SQL agrees the runs were stored under their publishers: the leak is in the read.
    expect(sql).toMatchObject({ status: 'fail', counts: { misplaced_runs: 0, missing_runs: 0, listings_differing: 2 } });
  });

  it('fail naming the breakdown whose sums are not its project’s when the error breakdown forgets its project filter (gateway.errors.unscoped)', async () => {
    const [api, sql] = await isolation(`gateway.errors.unscoped=${probability}`);
    // The breakdown carries no run ids: the leak shows only against SQL, and the listings are clean.
    expect(api).toMatchObject({ status: 'pass', counts: { leaked_items: 0 } });
    expect(sql!.status).toBe('fail');
    expect(sql!.counts).toMatchObject({ misplaced_runs: 0, listings_differing: 0, breakdowns: 60 });
    expect(sql!.counts['breakdowns_differing']).toBeGreaterThan(0);
    expect(sql!.summary).toMatch(/error breakdowns whose sums differ from the project's points in SQL/);
    // Each project published 3 runs × 3 points × 100 requests; the defect's sum has both projects'.
    expect(sql!.examples.find((e) => (e as { kind: string }).kind === 'breakdown_differs_from_sql')).toMatchObject({ api_requests_errors: '1800/0', sql_requests_errors: '900/0' });
  });
});
