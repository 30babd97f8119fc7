import { explainResponseSchema, healthResponseSchema, type Evidence } from '@crucible/contracts';
import { InstrumentError } from '@crucible/instrument-kit';

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

/**
 * EXPLAIN ANALYZE of an app's hot queries as the running app builds them
 * (`GET /admin/explain`), as report evidence.
 */
export async function explainEvidence(url: string, adminToken: string, project: string): Promise<Evidence[]> {
  const res = await fetch(`${url}/admin/explain?project=${encodeURIComponent(project)}`, { headers: { authorization: `Bearer ${adminToken}` } });
  if (res.status !== 200) throw new InstrumentError('sut_request_failed', `GET ${url}/admin/explain answered ${res.status}: ${await res.text()}`);
  const { plans } = explainResponseSchema.parse(await res.json());
  return plans.map((p) => ({ title: `EXPLAIN ANALYZE: ${p.title}`, kind: 'sql-plan', content: p.plan }));
}
