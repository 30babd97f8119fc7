// POST /ids/retire and POST /ids/lookup on the real ID service and PostgreSQL: an id's state
// per project (issued, retired, unknown), never another project's.
import { lookupIdsResponseSchema, maxLookupIds, retireIdResponseSchema } from '@crucible/contracts';
import { envelope, send, startService, testAdminToken, type ApiClient, type ServiceTestContext } from '@crucible/testbed/testing';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idService } from '../app.js';

let ids: ServiceTestContext;
let alpha: ApiClient;
let beta: ApiClient;

beforeAll(async () => {
  ids = await startService(idService);
  alpha = await ids.project('ref-alpha');
  beta = await ids.project('ref-beta');
  // alpha holds US-001..US-012 and EPIC-001..003; beta only US-001..US-002.
  for (const [client, type, count] of [[alpha, 'US', 12], [alpha, 'EPIC', 3], [beta, 'US', 2]] as const) {
    expect((await client.request('POST', '/ids/reserve', { json: { type, count } })).status).toBe(200);
  }
});
afterAll(() => ids?.close());

const lookup = async (client: ApiClient, list: string[]) => {
  const res = await client.request('POST', '/ids/lookup', { json: { ids: list } });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return Object.fromEntries(lookupIdsResponseSchema.parse(res.body).ids.map((r) => [r.id, r.state]));
};

describe('POST /ids/lookup', () => {
  it("answers issued up to the project's high-water mark, unknown beyond it and for another project's ids", async () => {
    expect(await lookup(alpha, ['US-001', 'US-012', 'US-013', 'EPIC-003', 'EPIC-004', 'BUG-001'])).toEqual({
      'US-001': 'issued',
      'US-012': 'issued',
      'US-013': 'unknown',
      'EPIC-003': 'issued',
      'EPIC-004': 'unknown',
      'BUG-001': 'unknown',
    });
    // EPIC-001 is alpha's; beta never had an EPIC sequence. US-005 is alpha's, beta's stops at 2.
    expect(await lookup(beta, ['EPIC-001', 'US-005', 'US-002'])).toEqual({ 'EPIC-001': 'unknown', 'US-005': 'unknown', 'US-002': 'issued' });
  });

  it('refuses ill-formed ids and oversized lists with a 400 naming the field, and needs a key', async () => {
    for (const bad of [{ ids: ['US-1'] }, { ids: ['US-0001'] }, { ids: ['US-000'] }, { ids: ['us-001'] }, { ids: [] }, { ids: Array.from({ length: maxLookupIds + 1 }, (_, i) => `US-${String(i + 1).padStart(3, '0')}`) }, { ids: ['US-001'], project: 'x' }]) {
      const res = await alpha.request('POST', '/ids/lookup', { json: bad });
      expect(res.status, JSON.stringify(bad)).toBe(400);
      expect(envelope(res).message).toMatch(/body/);
    }
    const ill = await alpha.request('POST', '/ids/lookup', { json: { ids: ['US-001', 'US-0001'] } });
    expect(envelope(ill).message).toContain('body.ids.1');
    expect((await fetch(`${ids.url}/ids/lookup`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"ids":["US-001"]}' })).status).toBe(401);
    expect((await alpha.request('GET', '/ids/lookup')).status).toBe(405);
  });
});

describe('POST /ids/retire', () => {
  it('retires an issued id once: lookup then answers retired, and a second retirement keeps the first time', async () => {
    const first = await alpha.request('POST', '/ids/retire', { json: { id: 'US-011' } });
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    const r1 = retireIdResponseSchema.parse(first.body);
    expect(r1).toMatchObject({ project_id: 'ref-alpha', id: 'US-011', state: 'retired' });
    const again = retireIdResponseSchema.parse((await alpha.request('POST', '/ids/retire', { json: { id: 'US-011' } })).body);
    expect(again.retired_at).toBe(r1.retired_at);
    expect(await lookup(alpha, ['US-011', 'US-010'])).toEqual({ 'US-011': 'retired', 'US-010': 'issued' });
    // Retired in alpha only: beta's lookup of the same text still says nothing about alpha.
    expect(await lookup(beta, ['US-011'])).toEqual({ 'US-011': 'unknown' });
    const { rows } = await sql<{ n: string }>`select count(*)::text as n from id_retirements where project_id = 'ref-alpha'`.execute(ids.db);
    expect(rows[0]?.n).toBe('1');
  });

  it('answers 404 id_not_found naming a never-issued id or another project\'s, and stores nothing', async () => {
    for (const [client, id] of [[alpha, 'US-013'], [alpha, 'BUG-001'], [beta, 'EPIC-001'], [beta, 'US-012']] as const) {
      const res = await client.request('POST', '/ids/retire', { json: { id } });
      expect(res.status).toBe(404);
      expect(envelope(res)).toMatchObject({ code: 'id_not_found', details: [{ path: 'body.id' }] });
      expect(envelope(res).message).toContain(id);
    }
    // beta's failed attempt on alpha's EPIC-001 left it issued for alpha.
    expect(await lookup(alpha, ['EPIC-001'])).toEqual({ 'EPIC-001': 'issued' });
    const { rows } = await sql<{ n: string }>`select count(*)::text as n from id_retirements where project_id = 'ref-beta'`.execute(ids.db);
    expect(rows[0]?.n).toBe('0');
  });

  it('refuses a bad body with 400 naming body.id, and 20 concurrent retirements of one id all answer the same retirement', async () => {
    for (const bad of [{}, { id: 'US-1' }, { id: 42 }, { id: 'US-001', extra: 1 }]) {
      const res = await alpha.request('POST', '/ids/retire', { json: bad });
      expect(res.status, JSON.stringify(bad)).toBe(400);
      expect(envelope(res).message).toMatch(/body/);
    }
    const answers = await Promise.all(Array.from({ length: 20 }, () => alpha.request('POST', '/ids/retire', { json: { id: 'EPIC-002' } })));
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
    expect(new Set(answers.map((a) => retireIdResponseSchema.parse(a.body).retired_at)).size).toBe(1);
  });
});

describe('GET /admin/explain', () => {
  it('has the plan of the lookup the task API sends, as the route builds it', async () => {
    const res = await send<{ plans: { title: string; plan: string }[] }>(ids.url, 'GET', '/admin/explain?project=ref-alpha', { headers: { authorization: `Bearer ${testAdminToken}` } });
    expect(res.status).toBe(200);
    const lookupPlan = res.body.plans.find((p) => p.title.startsWith('POST /ids/lookup'))?.plan;
    // The project's rows of both tables through their primary keys, never a scan of a table.
    expect(lookupPlan).toContain('id_registry_pkey');
    expect(lookupPlan).toContain('id_retirements_pkey');
    expect(lookupPlan).not.toMatch(/Seq Scan on id_(registry|retirements)/);
  });
});
