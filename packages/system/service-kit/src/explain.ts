import { projectIdSchema, type QueryPlan } from '@crucible/contracts';
import { explainAnalyze, type Database } from '@crucible/db';
import { Router } from 'express';
import type { Compilable, Kysely, Transaction } from 'kysely';
import { z } from 'zod';
import { requireAdmin } from './auth.js';
import { parseInput } from './validate.js';

/** A service's hot query, built exactly as its route builds it, for EXPLAIN. */
export interface HotQuery {
  title: string;
  query: Compilable;
}

/** Builds a service's hot queries for one project, on the given transaction. */
export type HotQueries = (trx: Transaction<Database>, projectId: string) => HotQuery[];

/**
 * EXPLAIN ANALYZE of every hot query, inside one transaction that is always rolled back, so
 * writes (upserts, claims) are planned and run but nothing changes.
 */
export async function explainHotQueries(db: Kysely<Database>, hotQueries: HotQueries, projectId: string): Promise<QueryPlan[]> {
  const plans: QueryPlan[] = [];
  const rollback = new Error('rollback');
  try {
    await db.transaction().execute(async (trx) => {
      for (const { title, query } of hotQueries(trx, projectId)) plans.push({ title, plan: await explainAnalyze(trx, query) });
      throw rollback;
    });
  } catch (err) {
    if (err !== rollback) throw err;
  }
  return plans;
}

/** A hot query as the service sends it: its title, SQL text and parameters. */
export interface HotQueryText {
  title: string;
  sql: string;
  parameters: readonly unknown[];
}

/**
 * The hot queries compiled, not run (built on a transaction that is rolled back untouched):
 * what a benchmark's reference handler runs to measure the same statements without the service.
 */
export async function compileHotQueries(db: Kysely<Database>, hotQueries: HotQueries, projectId: string): Promise<HotQueryText[]> {
  let out: HotQueryText[] = [];
  const rollback = new Error('rollback');
  try {
    await db.transaction().execute(async (trx) => {
      out = hotQueries(trx, projectId).map(({ title, query }) => {
        const { sql, parameters } = query.compile();
        return { title, sql, parameters };
      });
      throw rollback;
    });
  } catch (err) {
    if (err !== rollback) throw err;
  }
  return out;
}

const explainQuerySchema = z.strictObject({ project: projectIdSchema });

/**
 * `GET /admin/explain?project=<id>` behind the admin token: the plans, for reports; and
 * `GET /admin/hot-queries?project=<id>`: the same statements' SQL and parameters, for benchmarks.
 */
export function explainRouter(db: Kysely<Database>, adminToken: string, hotQueries: HotQueries): Router {
  const router = Router();
  router.get('/admin/explain', requireAdmin(adminToken), async (req, res) => {
    const { project } = parseInput(explainQuerySchema, req.query, 'query');
    res.json({ project, plans: await explainHotQueries(db, hotQueries, project) });
  });
  router.get('/admin/hot-queries', requireAdmin(adminToken), async (req, res) => {
    const { project } = parseInput(explainQuerySchema, req.query, 'query');
    res.json({ project, queries: await compileHotQueries(db, hotQueries, project) });
  });
  return router;
}
