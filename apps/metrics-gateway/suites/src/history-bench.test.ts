// The dashboard benchmark's code at a small scale (≈100k points; the 10-million-point run is
// the `history-bench` target) on a real PostgreSQL with the gateway's migrations, with the
// same verdicts: they pass on the gateway's queries as written, and fail, naming the trend,
// with `gateway.trend.unindexed` armed (the trend's project filter on an expression no index serves).
import { createDb, createPool } from '@crucible/db';
import { testDatabase } from '@crucible/testbed/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { benchmarkDashboard, benchmarkVerdicts, benchTargets, type QueryFigures } from './history-bench.js';
import { endpoints, seedHistory } from './history-seed.js';

// Many small projects, as on the 10M run: each key's share of a table is ~1 %, the
// selectivity the planner weighs against a sequential scan.
const shape = { projects: 100, scenarios: 2, seconds: 50, months: 6, points: 100_000 };

describe('run history dashboard benchmark (small scale, real PostgreSQL)', () => {
  let db: ReturnType<typeof createDb>;
  let targets: Awaited<ReturnType<typeof benchTargets>>;
  beforeAll(async () => {
    const database = await testDatabase();
    db = createDb(createPool({ connectionString: database.url, max: 1, statementTimeoutMs: 3_600_000, queryTimeoutMs: 3_600_000 }));
    const seeded = await seedHistory(db, shape);
    expect(seeded.points).toBe(100_000);
    targets = await benchTargets(db, seeded.projects, endpoints[0]);
  }, 120_000);
  afterAll(async () => {
    await db?.destroy();
  });

  const verdictsOf = (figures: QueryFigures[]) => Object.fromEntries(benchmarkVerdicts(figures).map((v) => [v.checker, v]));

  it('passes every verdict on the gateway’s queries: under budget, plans on indexes, > 95 % index use', async () => {
    const figures = await benchmarkDashboard(db, targets, { iterations: 30 });
    expect(figures.map((f) => f.name)).toEqual(['list', 'list-filtered', 'detail', 'trend', 'compare', 'errors', 'errors-30d']);
    const v = verdictsOf(figures);
    expect(v['history-index-plans'], JSON.stringify(figures.map((f) => [f.name, f.seq_scans]))).toMatchObject({ status: 'pass' });
    expect(v['history-index-use'], v['history-index-use']!.summary).toMatchObject({ status: 'pass' });
    expect(v['history-query-latency'], v['history-query-latency']!.summary).toMatchObject({ status: 'pass' });
    // The plans are the report's evidence: EXPLAIN ANALYZE with buffers, an index named.
    expect(figures.find((f) => f.name === 'trend')!.explain[0]).toMatch(/Index (Only )?Scan .*gateway_run_scenarios/);
    expect(figures.find((f) => f.name === 'trend')!.explain[0]).toMatch(/Buffers: shared hit=/);
  });

  it('fails the plan and index-use verdicts, naming the trend, when the trend query cannot use an index (gateway.trend.unindexed)', async () => {
    {
      // What the gateway's trend runs with gateway.trend.unindexed armed.
      const figures = await benchmarkDashboard(db, targets, { iterations: 30, defects: { trendUnindexed: true } });
      const v = verdictsOf(figures);
      expect(v['history-index-plans']).toMatchObject({ status: 'fail', examples: [{ kind: 'seq_scan', query: 'trend', relations: expect.arrayContaining(['gateway_run_scenarios']) }] });
      expect(v['history-index-use']!.status).toBe('fail');
      expect(v['history-index-use']!.summary).toMatch(/trend \d+(\.\d)? %/);
      expect(figures.find((f) => f.name === 'trend')!.index_use['gateway_run_scenarios']!.seq_scan).toBe(30);
    }
  });

  it('fails the latency verdict, naming the trend, when the trend query spends 150 ms in the server (gateway.trend.slow)', async () => {
    // Every call of the trend waits 150 ms: its average is past the 100 ms budget whatever the machine.
    const figures = await benchmarkDashboard(db, targets, { iterations: 10, defects: { trendSlow: true } });
    const v = verdictsOf(figures);
    expect(v['history-query-latency']!.status).toBe('fail');
    expect(v['history-query-latency']!.summary).toMatch(/^1 of 7 dashboard queries over budget: trend avg \d+(\.\d+)? ms/);
    expect(figures.find((f) => f.name === 'trend')!.avg_ms).toBeGreaterThanOrEqual(150);
  });
});
