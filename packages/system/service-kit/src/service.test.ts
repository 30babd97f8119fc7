import { errorEnvelopeSchema, explainResponseSchema, healthResponseSchema } from '@crucible/contracts';
import { testDatabase, testServiceEnv, testAdminToken } from '@crucible/testbed/testing';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';
import { resolveProject, scopeOf } from './auth.js';
import { createService, type Service } from './service.js';
import { freePort } from '@crucible/testbed';

function testService(env: Record<string, string>): Service {
  return createService(loadConfig('kit-test', env), {
    hotQueries: (trx, projectId) => [
      { title: 'project by id', query: trx.selectFrom('projects').selectAll().where('id', '=', projectId) },
      { title: 'insert a project (rolled back)', query: trx.insertInto('projects').values({ id: `${projectId}-probe` }) },
    ],
    routes(app, ctx) {
      app.get('/whoami', ctx.requireApiKey, (req, res) => {
        const project = resolveProject(scopeOf(res), req.query['project'] as string | undefined);
        res.json({ project });
      });
      app.get('/slow', async (_req, res) => {
        await sql`select pg_sleep(0.6)`.execute(ctx.db);
        res.json({ ok: true });
      });
    },
  });
}

const json = (body: unknown) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const auth = (token: string) => ({ authorization: `Bearer ${token}` });

describe('service kit against a real PostgreSQL', () => {
  let service: Service;
  let url: string;
  beforeAll(async () => {
    const db = await testDatabase();
    service = testService(testServiceEnv(db, { BODY_LIMIT_BYTES: '1024' }));
    url = await service.listen();
  });
  afterAll(() => service?.close());

  it('reports health with database and pool figures', async () => {
    const res = await fetch(`${url}/health`);
    expect(res.status).toBe(200);
    const body = healthResponseSchema.parse(await res.json());
    expect(body.status).toBe('ok');
    expect(body.database.reachable).toBe(true);
    expect(body.pool.max).toBe(10);
    expect(body.service).toBe('kit-test');
  });

  it('serves Prometheus text by default and JSON on request', async () => {
    await fetch(`${url}/health`);
    const text = await fetch(`${url}/metrics`);
    expect(text.headers.get('content-type')).toContain('text/plain');
    const body = await text.text();
    expect(body).toContain('http_request_duration_seconds_bucket');
    expect(body).toContain('db_pool_max{service="kit-test"} 10');
    const asJson = await fetch(`${url}/metrics`, { headers: { accept: 'application/json' } });
    const metrics = (await asJson.json()) as { name: string }[];
    expect(metrics.map((m) => m.name)).toContain('db_pool_waiting');
  });

  it('refuses the admin endpoint without the right token', async () => {
    const missing = await fetch(`${url}/admin/projects`, json({ id: 'alpha' }));
    expect(missing.status).toBe(401);
    expect(errorEnvelopeSchema.parse(await missing.json()).error.code).toBe('unauthorized');
    const wrong = await fetch(`${url}/admin/projects`, { ...json({ id: 'alpha' }), headers: { 'content-type': 'application/json', ...auth('nope') } });
    expect(wrong.status).toBe(401);
    expect(errorEnvelopeSchema.parse(await wrong.json()).error.message).toBe('invalid admin token');
  });

  it('creates projects once, validates ids and keeps each key in its project', async () => {
    const create = (id: unknown) =>
      fetch(`${url}/admin/projects`, { ...json({ id }), headers: { 'content-type': 'application/json', ...auth(testAdminToken) } });
    const alpha = await create('alpha');
    expect(alpha.status).toBe(201);
    const alphaBody = (await alpha.json()) as { project: { id: string }; api_key: string };
    expect(alphaBody.project.id).toBe('alpha');
    expect(alphaBody.api_key).toMatch(/^ck_/);
    const beta = (await (await create('beta')).json()) as { api_key: string };

    const again = await create('alpha');
    expect(again.status).toBe(409);
    expect(errorEnvelopeSchema.parse(await again.json()).error.code).toBe('project_exists');

    const bad = await create('Not Valid');
    expect(bad.status).toBe(400);
    const badBody = errorEnvelopeSchema.parse(await bad.json());
    expect(badBody.error.code).toBe('validation_failed');
    expect(badBody.error.message).toContain('body.id');

    const mine = await fetch(`${url}/whoami`, { headers: auth(alphaBody.api_key) });
    expect(await mine.json()).toEqual({ project: 'alpha' });
    const theirs = await fetch(`${url}/whoami?project=beta`, { headers: auth(alphaBody.api_key) });
    expect(theirs.status).toBe(404);
    expect(errorEnvelopeSchema.parse(await theirs.json()).error.code).toBe('project_not_found');
    const betaSelf = await fetch(`${url}/whoami?project=beta`, { headers: auth(beta.api_key) });
    expect(await betaSelf.json()).toEqual({ project: 'beta' });
    const noKey = await fetch(`${url}/whoami`);
    expect(noKey.status).toBe(401);
    const badKey = await fetch(`${url}/whoami`, { headers: auth('ck_forged') });
    expect(badKey.status).toBe(401);
  });

  it('answers EXPLAIN ANALYZE of the hot queries to the admin only, and writes nothing', async () => {
    const denied = await fetch(`${url}/admin/explain?project=alpha`);
    expect(denied.status).toBe(401);
    const res = await fetch(`${url}/admin/explain?project=alpha`, { headers: auth(testAdminToken) });
    expect(res.status).toBe(200);
    const body = explainResponseSchema.parse(await res.json());
    expect(body.plans.map((p) => p.title)).toEqual(['project by id', 'insert a project (rolled back)']);
    expect(body.plans[0]?.plan).toMatch(/Index Scan using projects_pkey/);
    expect(body.plans[1]?.plan).toMatch(/Insert on projects/);
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from projects where id = 'alpha-probe'`.execute(service.ctx.db);
    expect(rows[0]?.n).toBe(0);
    const bad = await fetch(`${url}/admin/explain?project=Bad_Id`, { headers: auth(testAdminToken) });
    expect(bad.status).toBe(400);
    expect(errorEnvelopeSchema.parse(await bad.json()).error.message).toContain('query.project');
  });

  it('answers bad bodies and unknown routes with the envelope', async () => {
    const headers = { 'content-type': 'application/json', ...auth(testAdminToken) };
    const broken = await fetch(`${url}/admin/projects`, { method: 'POST', headers, body: '{"id": ' });
    expect(broken.status).toBe(400);
    expect(errorEnvelopeSchema.parse(await broken.json()).error.code).toBe('invalid_json');
    const huge = await fetch(`${url}/admin/projects`, { method: 'POST', headers, body: JSON.stringify({ id: 'x'.repeat(5000) }) });
    expect(huge.status).toBe(413);
    expect(errorEnvelopeSchema.parse(await huge.json()).error.code).toBe('payload_too_large');
    const extra = await fetch(`${url}/admin/projects`, { method: 'POST', headers, body: JSON.stringify({ id: 'gamma', admin: true }) });
    expect(extra.status).toBe(400);
    expect(errorEnvelopeSchema.parse(await extra.json()).error.message).toContain('body.admin');
    const nowhere = await fetch(`${url}/nowhere`);
    expect(nowhere.status).toBe(404);
    expect(errorEnvelopeSchema.parse(await nowhere.json()).error.code).toBe('not_found');
  });
});

describe('fast 503s', () => {
  it('answers 503 pool_exhausted with Retry-After once the acquire timeout passes', async () => {
    const db = await testDatabase();
    await using service = testService(testServiceEnv(db, { DB_POOL_MAX: '1', DB_ACQUIRE_TIMEOUT_MS: '150' }));
    const url = await service.listen();
    const slow = fetch(`${url}/slow`);
    await new Promise((r) => setTimeout(r, 100));
    const t0 = performance.now();
    const blocked = await fetch(`${url}/slow`);
    const waited = performance.now() - t0;
    expect(blocked.status).toBe(503);
    expect(blocked.headers.get('retry-after')).toBe('1');
    expect(errorEnvelopeSchema.parse(await blocked.json()).error.code).toBe('pool_exhausted');
    expect(waited).toBeLessThan(550); // answered near the 150 ms acquire timeout, not after the 600 ms query
    expect((await slow).status).toBe(200);
    const health = healthResponseSchema.parse(await (await fetch(`${url}/health`)).json());
    expect(health.pool.acquire_timeouts).toBe(1);
    expect(health.pool.peak_in_use).toBe(1);
  });

  it('answers 503 database_unavailable and an unhealthy /health when the database is gone', async () => {
    const port = await freePort();
    await using service = testService(
      testServiceEnv({ url: `postgres://postgres:x@127.0.0.1:${port}/nothing` }, { DB_ACQUIRE_TIMEOUT_MS: '500' }),
    );
    const url = await service.listen();
    const t0 = performance.now();
    const res = await fetch(`${url}/slow`);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(errorEnvelopeSchema.parse(await res.json()).error.code).toBe('database_unavailable');
    const health = await fetch(`${url}/health`);
    expect(health.status).toBe(503);
    const body = healthResponseSchema.parse(await health.json());
    expect(body.database.reachable).toBe(false);
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});
