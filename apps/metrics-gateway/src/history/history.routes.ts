import { errorBreakdownQuery, listRunsQuery, runPointsQuery, runQuery, runScenariosQuery, trendQuery, type Database } from '@crucible/db';
import { failpoint, ServiceError, parseInput, requireApiKey, scopeOf, type ApiKeyVerifier } from '@crucible/service-kit';
import { Router } from 'express';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { compareRuns, runFigures } from './history.compare.js';
import { historyPage } from './history.page.js';
import { judgeRun, judgeRuns, kRange, scenarioHistoryQuery } from './history.regressions.js';

const runsQuerySchema = z.strictObject({
  branch: z.string().min(1).max(256).optional(),
  scenario: z.string().min(1).max(128).optional(),
  outcome: z.enum(['passed', 'failed', 'inconclusive', 'running']).optional(),
  since: z.iso.datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});
/** How many earlier runs of the scenario on the same machine class a run is compared with. */
const kSchema = z.coerce.number().int().min(kRange.min).max(kRange.max).default(kRange.default);
const trendQuerySchema = z.strictObject({
  scenario: z.string().min(1).max(128),
  last: z.coerce.number().int().min(1).max(1000).default(20),
  k: kSchema,
});
const runParamsSchema = z.object({ id: z.string().min(1).max(128) });
const regressionsQuerySchema = z.strictObject({ k: kSchema });
const pageQuerySchema = z.strictObject({
  scenario: z.string().min(1).max(128).optional(),
  run: z.string().min(1).max(128).optional(),
  last: z.coerce.number().int().min(2).max(200).default(30),
  k: kSchema,
});
const compareQuerySchema = z.strictObject({
  base: z.string().min(1).max(128),
  run: z.string().min(1).max(128),
});
const dayMs = 86_400_000;
/** The widest error breakdown window: a quarter of a year, so one request cannot sum the whole history. */
const maxWindowDays = 92;
const errorsQuerySchema = z
  .strictObject({
    since: z.iso.datetime({ offset: true }).optional(),
    until: z.iso.datetime({ offset: true }).optional(),
    bucket: z.enum(['hour', 'day', 'week']).default('day'),
    scenario: z.string().min(1).max(128).optional(),
    branch: z.string().min(1).max(256).optional(),
  })
  .transform((q) => {
    const until = q.until ? new Date(q.until) : new Date();
    return { ...q, until, since: q.since ? new Date(q.since) : new Date(until.getTime() - 7 * dayMs) };
  })
  .refine((q) => q.since < q.until, { path: ['since'], message: 'since must be before until' })
  .refine((q) => q.until.getTime() - q.since.getTime() <= maxWindowDays * dayMs, { path: ['since'], message: `the window (since to until) is at most ${maxWindowDays} days` });
const pointsLimit = 10_000;

const iso = (d: Date | null) => (d === null ? null : d.toISOString());
const num = (v: string | number) => Number(v);

/**
 * `/api/v1`: the run history, read with a project API key (the keys the other services
 * use; the gateway shares their database). Every query is scoped to the key's project;
 * another project's run is answered as not found.
 *
 * - `GET /api/v1/runs?branch=&scenario=&outcome=&since=&limit=`: runs, newest first.
 * - `GET /api/v1/runs/:id`: one run, its scenario summaries (thresholds, verdicts) and points.
 * - `GET /api/v1/trend?scenario=&last=N&k=5`: p50/p95/p99 and error rate per run, newest first,
 *   each with `regression`: the run against the last `k` (3–50) ended runs of the scenario on
 *   its machine class, noise-aware (@crucible/baseline), the regressed figures `{metric, by, bound}`.
 * - `GET /api/v1/runs/:id/regressions?k=5`: the same verdict for every scenario of one run.
 * - `GET /api/v1/compare?base=&run=`: `run` against `base`, noise-aware, per scenario and figure.
 * - `GET /api/v1/errors?since=&until=&bucket=hour|day|week&scenario=&branch=`: errors per
 *   scenario per time bucket (the last 7 days by default, at most 92).
 *
 * And `GET /history?scenario=&run=&last=&k=`: the history page (a trend chart of p50/p95/p99
 * per run, regressions flagged, a point opens its run); it reads `/api/v1` with the key the
 * user gives it (the URL's `#key=` fragment, never sent to the server, or its form).
 */
export function historyRouter(db: Kysely<Database>, verifier: ApiKeyVerifier): Router {
  const router = Router();
  router.get('/history', (req, res) => {
    const q = parseInput(pageQuerySchema, req.query, 'query');
    const page = historyPage(q);
    res.setHeader('Content-Security-Policy', page.csp);
    res.setHeader('Cache-Control', 'no-store');
    res.type('html').send(page.html);
  });
  router.use('/api/v1', requireApiKey(verifier));

  router.get('/api/v1/runs', async (req, res) => {
    const q = parseInput(runsQuerySchema, req.query, 'query');
    // Planted defect (gateway.api.unscoped): the list forgets its project filter.
    const rows = await listRunsQuery(db, scopeOf(res), { ...q, since: q.since ? new Date(q.since) : undefined }, { listUnscoped: failpoint('gateway.api.unscoped') }).execute();
    res.json({ runs: rows.map((r) => ({ ...r, started_at: iso(r.started_at), ended_at: iso(r.ended_at) })) });
  });

  router.get('/api/v1/runs/:id', async (req, res) => {
    const { id } = parseInput(runParamsSchema, req.params, 'params');
    const scope = scopeOf(res);
    const run = await runQuery(db, scope, id).executeTakeFirst();
    if (!run) throw new ServiceError('not_found', `run ${id} not found for this API key`);
    const [scenarios, points] = await Promise.all([runScenariosQuery(db, scope, id).execute(), runPointsQuery(db, scope, id, pointsLimit).execute()]);
    res.json({
      run: { ...run, started_at: iso(run.started_at), ended_at: iso(run.ended_at) },
      scenarios: scenarios.map((s) => ({ ...s, requests: num(s.requests), errors: num(s.errors) })),
      points: points.map((p) => ({ ...p, requests: num(p.requests), errors: num(p.errors) })),
      points_truncated: points.length === pointsLimit,
    });
  });

  router.get('/api/v1/trend', async (req, res) => {
    const q = parseInput(trendQuerySchema, req.query, 'query');
    const scope = scopeOf(res);
    const rows = await trendQuery(db, scope, q.scenario, q.last, { trendUnindexed: failpoint('gateway.trend.unindexed'), trendSlow: failpoint('gateway.trend.slow') }).execute();
    const verdicts = await judgeRuns(db, scope, q.scenario, rows, q.k);
    res.json({
      scenario: q.scenario,
      k: q.k,
      runs: rows.map((r) => ({ ...r, started_at: iso(r.started_at), requests: num(r.requests), errors: num(r.errors), regression: verdicts.get(r.run_id) ?? null })),
    });
  });

  router.get('/api/v1/runs/:id/regressions', async (req, res) => {
    const { id } = parseInput(runParamsSchema, req.params, 'params');
    const { k } = parseInput(regressionsQuerySchema, req.query, 'query');
    const scope = scopeOf(res);
    const run = await runQuery(db, scope, id).executeTakeFirst();
    if (!run) throw new ServiceError('not_found', `run ${id} not found for this API key`);
    const summaries = await runScenariosQuery(db, scope, id).execute();
    const scenarios = await Promise.all(
      summaries.map(async (s) => {
        const earlier = await scenarioHistoryQuery(db, scope, s.scenario, run.machine, k, { startedAt: run.started_at, runId: id }).execute();
        return { scenario: s.scenario, ...judgeRun({ ...s, run_id: id, started_at: run.started_at }, earlier) };
      }),
    );
    res.json({ run_id: id, machine: run.machine, k, regressed: scenarios.some((s) => s.regressed), scenarios });
  });
  router.get('/api/v1/compare', async (req, res) => {
    const q = parseInput(compareQuerySchema, req.query, 'query');
    const scope = scopeOf(res);
    const [base, run] = await Promise.all([runQuery(db, scope, q.base).executeTakeFirst(), runQuery(db, scope, q.run).executeTakeFirst()]);
    if (!base) throw new ServiceError('not_found', `run ${q.base} (base) not found for this API key`);
    if (!run) throw new ServiceError('not_found', `run ${q.run} (run) not found for this API key`);
    const [basePoints, runPoints, baseSummaries, runSummaries] = await Promise.all([
      runPointsQuery(db, scope, q.base, pointsLimit).execute(),
      runPointsQuery(db, scope, q.run, pointsLimit).execute(),
      runScenariosQuery(db, scope, q.base).execute(),
      runScenariosQuery(db, scope, q.run).execute(),
    ]);
    const comparison = compareRuns(runFigures(basePoints, baseSummaries), runFigures(runPoints, runSummaries));
    res.json({
      base: { ...base, started_at: iso(base.started_at), ended_at: iso(base.ended_at), points: basePoints.length },
      run: { ...run, started_at: iso(run.started_at), ended_at: iso(run.ended_at), points: runPoints.length },
      comparison,
    });
  });

  router.get('/api/v1/errors', async (req, res) => {
    const q = parseInput(errorsQuerySchema, req.query, 'query');
    const rows = await errorBreakdownQuery(db, scopeOf(res), q, { errorsUnscoped: failpoint('gateway.errors.unscoped') }).execute();
    res.json({
      since: q.since.toISOString(),
      until: q.until.toISOString(),
      bucket: q.bucket,
      series: rows.map((r) => {
        const requests = num(r.requests);
        const errors = num(r.errors);
        return { bucket_start: iso(r.bucket_start), scenario: r.scenario, runs: num(r.runs), failed_runs: num(r.failed_runs), requests, errors, error_rate: requests === 0 ? null : errors / requests };
      }),
    });
  });
  return router;
}
