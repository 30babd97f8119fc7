import { z } from 'zod';

/** Pool counters as `pg` reports them. */
export const poolStatsSchema = z.object({
  total: z.number().int().nonnegative(),
  idle: z.number().int().nonnegative(),
  waiting: z.number().int().nonnegative(),
  max: z.number().int().positive(),
  /** Most connections checked out at once since start (or the last reset). */
  peak_in_use: z.number().int().nonnegative().optional(),
  /** Requests that could not get a connection within the acquire timeout. */
  acquire_timeouts: z.number().int().nonnegative().optional(),
});
export type PoolStats = z.infer<typeof poolStatsSchema>;

/** `GET /health` answer: 200 when the database answers, 503 otherwise. */
export const healthResponseSchema = z.object({
  status: z.enum(['ok', 'unavailable']),
  service: z.string(),
  uptime_s: z.number().nonnegative(),
  database: z.object({
    reachable: z.boolean(),
    latency_ms: z.number().nonnegative().nullable(),
    error: z.string().optional(),
  }),
  pool: poolStatsSchema,
  /** Service-specific figures (e.g. the resource cache hit rate). */
  extra: z.record(z.string(), z.unknown()).optional(),
});
export type HealthResponse = z.infer<typeof healthResponseSchema>;

/** One query plan (`EXPLAIN ANALYZE` text) of a service's hot query. */
export const queryPlanSchema = z.object({ title: z.string(), plan: z.string() });
export type QueryPlan = z.infer<typeof queryPlanSchema>;

/** `GET /admin/explain?project=` answer. */
export const explainResponseSchema = z.object({ project: z.string(), plans: z.array(queryPlanSchema) });
export type ExplainResponse = z.infer<typeof explainResponseSchema>;
