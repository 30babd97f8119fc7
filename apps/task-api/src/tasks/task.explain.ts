import { explainAnalyze, type Database } from '@crucible/db';
import { parseInput, requireAdmin, type ServiceContext } from '@crucible/service-kit';
import { projectIdSchema } from '@crucible/contracts';
import { Router } from 'express';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { claimNextTaskQuery, listTasksQuery, nextTaskQuery } from './task.repository.js';

/** One query plan, as `GET /admin/explain` answers it. */
export interface QueryPlan {
  title: string;
  plan: string;
}

/**
 * EXPLAIN ANALYZE of the hot queries exactly as the routes build them. The claim is an
 * UPDATE: it runs inside a transaction that is always rolled back, so nothing changes.
 */
export async function explainHotQueries(db: Kysely<Database>, projectId: string): Promise<QueryPlan[]> {
  const scope = { projectId };
  const plans: QueryPlan[] = [
    { title: 'GET /tasks/next', plan: await explainAnalyze(db, nextTaskQuery(db, scope, 'pending')) },
    { title: 'GET /tasks (first page of 50)', plan: await explainAnalyze(db, listTasksQuery(db, scope, { limit: 50 })) },
  ];
  const rollback = new Error('rollback');
  try {
    await db.transaction().execute(async (trx) => {
      plans.push({ title: 'POST /tasks/claim (rolled back)', plan: await explainAnalyze(trx, claimNextTaskQuery(trx, scope, 'explain')) });
      throw rollback;
    });
  } catch (err) {
    if (err !== rollback) throw err;
  }
  return plans;
}

const explainQuerySchema = z.strictObject({ project: projectIdSchema });

/** `GET /admin/explain?project=<id>` behind the admin token: plans of the hot queries, for reports. */
export function explainRoutes(ctx: ServiceContext): Router {
  const router = Router();
  router.get('/admin/explain', requireAdmin(ctx.config.adminToken), async (req, res) => {
    const { project } = parseInput(explainQuerySchema, req.query, 'query');
    res.json({ project, plans: await explainHotQueries(ctx.db, project) });
  });
  return router;
}
