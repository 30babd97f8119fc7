import type { Database } from '@crucible/db';
import { ServiceError, parseInput, requireApiKey, scopeOf, type ApiKeyVerifier } from '@crucible/service-kit';
import { Router } from 'express';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { listRunsQuery, runPointsQuery, runQuery, runScenariosQuery, trendQuery } from './history.queries.js';

const runsQuerySchema = z.strictObject({
  branch: z.string().min(1).max(256).optional(),
  scenario: z.string().min(1).max(128).optional(),
  outcome: z.enum(['passed', 'failed', 'inconclusive', 'running']).optional(),
  since: z.iso.datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});
const trendQuerySchema = z.strictObject({
  scenario: z.string().min(1).max(128),
  last: z.coerce.number().int().min(1).max(1000).default(20),
});
const runParamsSchema = z.object({ id: z.string().min(1).max(128) });
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
 * - `GET /api/v1/trend?scenario=&last=N`: p50/p95/p99 and error rate per run, newest first.
 */
export function historyRouter(db: Kysely<Database>, verifier: ApiKeyVerifier): Router {
  const router = Router();
  router.use('/api/v1', requireApiKey(verifier));

  router.get('/api/v1/runs', async (req, res) => {
    const q = parseInput(runsQuerySchema, req.query, 'query');
    const rows = await listRunsQuery(db, scopeOf(res), { ...q, since: q.since ? new Date(q.since) : undefined }).execute();
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
    const rows = await trendQuery(db, scopeOf(res), q.scenario, q.last).execute();
    res.json({
      scenario: q.scenario,
      runs: rows.map((r) => ({ ...r, started_at: iso(r.started_at), requests: num(r.requests), errors: num(r.errors) })),
    });
  });
  return router;
}
