import { healthResponseSchema, type Evidence } from '@crucible/contracts';

/**
 * Pool figures of every replica from `GET /health`: the largest peak in use, the pool size
 * and the acquire timeouts, plus the raw figures as report evidence.
 */
export async function poolEvidence(urls: readonly string[]): Promise<{ peak: number; max: number; acquireTimeouts: number; evidence: Evidence }> {
  const replicas = await Promise.all(
    urls.map(async (url) => {
      const res = await fetch(`${url}/health`);
      return { url, pool: healthResponseSchema.parse(await res.json()).pool };
    }),
  );
  const peak = Math.max(...replicas.map((r) => r.pool.peak_in_use ?? r.pool.total - r.pool.idle));
  const max = Math.max(...replicas.map((r) => r.pool.max));
  const acquireTimeouts = replicas.reduce((n, r) => n + (r.pool.acquire_timeouts ?? 0), 0);
  return { peak, max, acquireTimeouts, evidence: { title: 'Database pool per replica (GET /health)', kind: 'json', content: replicas } };
}
