import {
  errorEnvelopeSchema,
  idRegistryResponseSchema,
  nextIdResponseSchema,
  parseId,
  reserveIdsResponseSchema,
  type ReserveIdsResponse,
} from '@crucible/contracts';
import { startService, type ServiceTestContext } from '@crucible/testbed/testing';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idService } from '../app.js';

let ids: ServiceTestContext;
let url: string;
const keys: Record<string, string> = {};

beforeAll(async () => {
  // Generous timeouts: 500 requests at once queue for 20 connections, and a test holds a row
  // lock on purpose; on a loaded 2-core machine neither may turn into 503s (those have their
  // own tests in the service kit).
  ids = await startService(idService, { env: { DB_POOL_MAX: '20', DB_ACQUIRE_TIMEOUT_MS: '15000', DB_STATEMENT_TIMEOUT_MS: '20000' } });
  url = ids.url;
  for (const id of ['alpha', 'beta', 'gamma', 'p1', 'p2', 'p3', 'p4', 'p5', 'solo', 'idem', 'bad']) keys[id] = (await ids.project(id)).key;
});
afterAll(() => ids?.close());

const key = (project: string) => {
  const k = keys[project];
  if (!k) throw new Error(`no key for ${project}`);
  return k;
};

function reserve(project: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${url}/ids/reserve`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key(project)}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

async function reserveOk(project: string, body: unknown, headers: Record<string, string> = {}): Promise<ReserveIdsResponse> {
  const res = await reserve(project, body, headers);
  const json: unknown = await res.json();
  if (res.status !== 200) throw new Error(`reserve answered ${res.status}: ${JSON.stringify(json)}`);
  return reserveIdsResponseSchema.parse(json);
}

/** `id_registry` straight from PostgreSQL, as `project/type → last_assigned_id`. */
async function registry(): Promise<Record<string, number>> {
  const { rows } = await sql<{ project_id: string; sequence_type: string; last_assigned_id: string }>`
    select project_id, sequence_type, last_assigned_id from id_registry order by 1, 2`.execute(ids.db);
  return Object.fromEntries(rows.map((r) => [`${r.project_id}/${r.sequence_type}`, Number(r.last_assigned_id)]));
}

async function reservationCount(): Promise<number> {
  const { rows } = await sql<{ n: string }>`select count(*)::text as n from id_reservations`.execute(ids.db);
  return Number(rows[0]?.n);
}

describe('POST /ids/reserve', () => {
  it('hands out a contiguous range rendered as TYPE-NNN and records it in the registry', async () => {
    const first = await reserveOk('gamma', { type: 'US', count: 6, project_id: 'gamma' });
    expect(first).toEqual({ project_id: 'gamma', type: 'US', ids: ['US-001', 'US-002', 'US-003', 'US-004', 'US-005', 'US-006'], first: 1, last: 6 });
    const next = await reserveOk('gamma', { type: 'US', count: 1 });
    expect(next.ids).toEqual(['US-007']);
    // IDs keep growing past three digits.
    const big = await reserveOk('gamma', { type: 'US', count: 1000 });
    expect(big.first).toBe(8);
    expect(big.ids.at(-1)).toBe('US-1007');
    expect(big.ids).toContain('US-999');
    expect(big.ids).toContain('US-1000');
    expect((await registry())['gamma/US']).toBe(1007);
  });

  it('50 concurrent reservations of 6 give 300 distinct, non-overlapping IDs and a registry of exactly 300', async () => {
    const answers = await Promise.all(Array.from({ length: 50 }, () => reserve('solo', { type: 'US', count: 6 })));
    expect(answers.map((r) => r.status)).toEqual(Array(50).fill(200));
    const bodies = await Promise.all(answers.map(async (r) => reserveIdsResponseSchema.parse(await r.json())));
    const ids = bodies.flatMap((b) => b.ids);
    expect(ids).toHaveLength(300);
    expect(new Set(ids).size).toBe(300);
    const ranges = bodies.map((b) => [b.first, b.last] as const).sort((a, b) => a[0] - b[0]);
    for (const [i, [first, last]] of ranges.entries()) {
      expect(last - first + 1).toBe(6);
      // Sorted by start, each range begins right after the previous one ends: no overlap, no gap.
      expect(first).toBe(i * 6 + 1);
    }
    expect(ids.map((id) => parseId(id)?.number).sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    expect((await registry())['solo/US']).toBe(300);
  });

  it('500 concurrent reservations over 5 projects × 2 types: no duplicates, each sequence contiguous from 1, registry = sum of counts', async () => {
    const projects = ['p1', 'p2', 'p3', 'p4', 'p5'];
    const types = ['US', 'BUG'];
    const calls = Array.from({ length: 500 }, (_, i) => ({
      project: projects[i % 5] as string,
      type: types[Math.floor(i / 5) % 2] as string,
      count: (i % 7) + 1,
    }));
    const answers = await Promise.all(calls.map((c) => reserveOk(c.project, { type: c.type, count: c.count })));
    const reg = await registry();
    for (const project of projects) {
      for (const type of types) {
        const mine = calls.map((c, i) => ({ c, a: answers[i] })).filter(({ c }) => c.project === project && c.type === type);
        const expected = mine.reduce((sum, { c }) => sum + c.count, 0);
        const numbers = mine.flatMap(({ a }) => (a?.ids ?? []).map((id) => parseId(id)?.number ?? -1));
        expect(mine.every(({ a }) => a?.project_id === project && a.type === type)).toBe(true);
        expect(new Set(numbers).size).toBe(numbers.length);
        expect(numbers.sort((a, b) => a - b)).toEqual(Array.from({ length: expected }, (_, i) => i + 1));
        expect(reg[`${project}/${type}`]).toBe(expected);
      }
    }
  });

  it('keeps projects independent: a locked alpha sequence does not hold up beta', async () => {
    await reserveOk('alpha', { type: 'US', count: 10 });
    await reserveOk('beta', { type: 'US', count: 20 });
    // Hold alpha's row lock from outside, as a long reservation would.
    const locker = new pg.Client({ connectionString: ids.databaseUrl });
    await locker.connect();
    try {
      await locker.query('begin');
      await locker.query(`select last_assigned_id from id_registry where project_id = 'alpha' and sequence_type = 'US' for update`);
      const next = (project: string) =>
        fetch(`${url}/ids/next?type=US&project=${project}`, { headers: { authorization: `Bearer ${key(project)}` } }).then(async (r) => {
          expect(r.status).toBe(200);
          return nextIdResponseSchema.parse(await r.json());
        });
      let alphaDone = false;
      const alpha = next('alpha').then((v) => {
        alphaDone = true;
        return v;
      });
      const beta = await next('beta');
      expect(beta).toEqual({ id: 'US-021', number: 21 });
      expect(alphaDone).toBe(false);
      await locker.query('commit');
      expect(await alpha).toEqual({ id: 'US-011', number: 11 });
    } finally {
      await locker.end();
    }
  });
});

describe('Idempotency-Key', () => {
  it('20 concurrent calls with one key allocate once and all get the same range', async () => {
    const before = await registry();
    const answers = await Promise.all(Array.from({ length: 20 }, () => reserve('idem', { type: 'US', count: 5 }, { 'idempotency-key': 'order-42' })));
    expect(answers.map((r) => r.status)).toEqual(Array(20).fill(200));
    const bodies = await Promise.all(answers.map(async (r) => reserveIdsResponseSchema.parse(await r.json())));
    for (const b of bodies) expect(b).toEqual(bodies[0]);
    expect(bodies[0]?.ids).toEqual(['US-001', 'US-002', 'US-003', 'US-004', 'US-005']);
    expect(answers.filter((r) => r.headers.get('idempotent-replayed') === 'false')).toHaveLength(1);
    expect((await registry())['idem/US']).toBe((before['idem/US'] ?? 0) + 5);
    const { rows } = await sql<{ n: string }>`select count(*)::text as n from id_reservations where project_id = 'idem'`.execute(ids.db);
    expect(rows[0]?.n).toBe('1');

    // A later retry still replays; a new key allocates the next range.
    expect((await reserveOk('idem', { type: 'US', count: 5 }, { 'idempotency-key': 'order-42' })).first).toBe(1);
    expect((await reserveOk('idem', { type: 'US', count: 5 }, { 'idempotency-key': 'order-43' })).first).toBe(6);
  });

  it('answers 422 idempotency_conflict when a key is reused for another request, and allocates nothing', async () => {
    await reserveOk('idem', { type: 'BUG', count: 2 }, { 'idempotency-key': 'k-conflict' });
    const before = await registry();
    for (const body of [{ type: 'BUG', count: 3 }, { type: 'US', count: 2 }]) {
      const res = await reserve('idem', body, { 'idempotency-key': 'k-conflict' });
      expect(res.status).toBe(422);
      const err = errorEnvelopeSchema.parse(await res.json()).error;
      expect(err.code).toBe('idempotency_conflict');
      expect(err.message).toContain('k-conflict');
    }
    // GET /ids/next is another request too.
    const next = await fetch(`${url}/ids/next?type=BUG`, { headers: { authorization: `Bearer ${key('idem')}`, 'idempotency-key': 'k-conflict' } });
    expect(next.status).toBe(422);
    expect(await registry()).toEqual(before);
  });

  it('keeps keys per project and makes GET /ids/next retryable', async () => {
    const a = await reserveOk('alpha', { type: 'TASK', count: 2 }, { 'idempotency-key': 'shared-key' });
    const b = await reserveOk('beta', { type: 'TASK', count: 3 }, { 'idempotency-key': 'shared-key' });
    expect(a.ids).toEqual(['TASK-001', 'TASK-002']);
    expect(b.ids).toEqual(['TASK-001', 'TASK-002', 'TASK-003']);
    const next = () => fetch(`${url}/ids/next?type=EPIC`, { headers: { authorization: `Bearer ${key('alpha')}`, 'idempotency-key': 'n-1' } });
    const [r1, r2] = await Promise.all([next(), next()]);
    expect(nextIdResponseSchema.parse(await r1?.json())).toEqual({ id: 'EPIC-001', number: 1 });
    expect(nextIdResponseSchema.parse(await r2?.json())).toEqual({ id: 'EPIC-001', number: 1 });
    expect((await registry())['alpha/EPIC']).toBe(1);
  });
});

describe('GET /ids/registry', () => {
  it("lists the key's project's sequences only", async () => {
    await reserveOk('beta', { type: 'ADR', count: 4 });
    const res = await fetch(`${url}/ids/registry`, { headers: { authorization: `Bearer ${key('beta')}` } });
    expect(res.status).toBe(200);
    const body = idRegistryResponseSchema.parse(await res.json());
    expect(body.project_id).toBe('beta');
    const reg = await registry();
    const expected = Object.entries(reg)
      .filter(([k]) => k.startsWith('beta/'))
      .map(([k, v]) => ({ type: k.slice('beta/'.length), last_assigned_id: v }));
    expect(body.sequences).toEqual(expected);
    expect(body.sequences).toContainEqual({ type: 'ADR', last_assigned_id: 4 });
    const foreign = await fetch(`${url}/ids/registry?project=alpha`, { headers: { authorization: `Bearer ${key('beta')}` } });
    expect(foreign.status).toBe(404);
  });
});

interface BadCase {
  name: string;
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  auth?: string | null;
  body?: string;
  status: number;
  code: string;
  /** A fragment the message must contain (the field at fault). */
  names?: string;
}

const json = JSON.stringify;
const badCases: BadCase[] = [
  { name: 'no API key', auth: null, body: json({ type: 'US', count: 1 }), status: 401, code: 'unauthorized' },
  { name: 'unknown API key', auth: 'ck_forged', body: json({ type: 'US', count: 1 }), status: 401, code: 'unauthorized' },
  { name: 'lower-case type', body: json({ type: 'us', count: 1 }), status: 400, code: 'validation_failed', names: 'body.type' },
  { name: 'type too long', body: json({ type: 'A'.repeat(17), count: 1 }), status: 400, code: 'validation_failed', names: 'body.type' },
  { name: 'type with a dash', body: json({ type: 'U-S', count: 1 }), status: 400, code: 'validation_failed', names: 'body.type' },
  { name: 'type missing', body: json({ count: 1 }), status: 400, code: 'validation_failed', names: 'body.type' },
  { name: 'type a number', body: json({ type: 7, count: 1 }), status: 400, code: 'validation_failed', names: 'body.type' },
  { name: 'count 0', body: json({ type: 'US', count: 0 }), status: 400, code: 'validation_failed', names: 'body.count' },
  { name: 'count negative', body: json({ type: 'US', count: -5 }), status: 400, code: 'validation_failed', names: 'body.count' },
  { name: 'count 10001', body: json({ type: 'US', count: 10_001 }), status: 400, code: 'validation_failed', names: 'body.count' },
  { name: 'count fractional', body: json({ type: 'US', count: 1.5 }), status: 400, code: 'validation_failed', names: 'body.count' },
  { name: 'count a string', body: json({ type: 'US', count: '6' }), status: 400, code: 'validation_failed', names: 'body.count' },
  { name: 'count missing', body: json({ type: 'US' }), status: 400, code: 'validation_failed', names: 'body.count' },
  { name: 'unknown field', body: json({ type: 'US', count: 1, start: 500 }), status: 400, code: 'validation_failed', names: 'body.start' },
  { name: 'malformed project_id', body: json({ type: 'US', count: 1, project_id: 'Not Valid' }), status: 400, code: 'validation_failed', names: 'body.project_id' },
  { name: "another project's id", body: json({ type: 'US', count: 1, project_id: 'alpha' }), status: 404, code: 'project_not_found', names: 'alpha' },
  { name: 'a project that does not exist', body: json({ type: 'US', count: 1, project_id: 'nope' }), status: 404, code: 'project_not_found', names: 'nope' },
  { name: 'malformed JSON', body: '{"type": "US", "count": ', status: 400, code: 'invalid_json' },
  { name: 'a JSON array', body: json([{ type: 'US', count: 1 }]), status: 400, code: 'validation_failed', names: 'body' },
  { name: 'JSON null', body: 'null', status: 400, code: 'invalid_json' },
  { name: 'not JSON at all', headers: { 'content-type': 'text/plain' }, body: 'type=US&count=1', status: 400, code: 'validation_failed', names: 'body' },
  { name: 'a 2 MB body', body: json({ type: 'US', count: 1, pad: 'x'.repeat(2 << 20) }), status: 413, code: 'payload_too_large' },
  { name: 'unknown query parameter', path: '/ids/reserve?count=5', body: json({ type: 'US', count: 1 }), status: 400, code: 'validation_failed', names: 'query.count' },
  { name: 'Idempotency-Key too long', headers: { 'idempotency-key': 'k'.repeat(256) }, body: json({ type: 'US', count: 1 }), status: 400, code: 'validation_failed', names: 'header.idempotency-key' },
  { name: 'Idempotency-Key with a space', headers: { 'idempotency-key': 'my key' }, body: json({ type: 'US', count: 1 }), status: 400, code: 'validation_failed', names: 'header.idempotency-key' },
  { name: 'empty Idempotency-Key', headers: { 'idempotency-key': '' }, body: json({ type: 'US', count: 1 }), status: 400, code: 'validation_failed', names: 'header.idempotency-key' },
  { name: 'GET on /ids/reserve', method: 'GET', status: 405, code: 'method_not_allowed' },
  { name: 'next without type', method: 'GET', path: '/ids/next', status: 400, code: 'validation_failed', names: 'query.type' },
  { name: 'next with a bad type', method: 'GET', path: '/ids/next?type=us', status: 400, code: 'validation_failed', names: 'query.type' },
  { name: 'next with type twice', method: 'GET', path: '/ids/next?type=US&type=BUG', status: 400, code: 'validation_failed', names: 'query.type' },
  { name: 'next with an unknown parameter', method: 'GET', path: '/ids/next?type=US&count=5', status: 400, code: 'validation_failed', names: 'query.count' },
  { name: "next for another project", method: 'GET', path: '/ids/next?type=US&project=alpha', status: 404, code: 'project_not_found', names: 'alpha' },
  { name: 'next without a key', method: 'GET', path: '/ids/next?type=US', auth: null, status: 401, code: 'unauthorized' },
  { name: 'HEAD on /ids/next', method: 'HEAD', path: '/ids/next?type=US', status: 405, code: 'method_not_allowed' },
  { name: 'POST on /ids/next', method: 'POST', path: '/ids/next?type=US', status: 405, code: 'method_not_allowed' },
  { name: "another project's registry", method: 'GET', path: '/ids/registry?project=alpha', status: 404, code: 'project_not_found' },
  { name: 'registry with an unknown parameter', method: 'GET', path: '/ids/registry?type=US', status: 400, code: 'validation_failed', names: 'query.type' },
];

describe('bad input', () => {
  it.each(badCases)('$name → $status $code, registry unchanged', async (c) => {
    // Give the project a sequence first, so "unchanged" is a real comparison.
    await reserveOk('bad', { type: 'US', count: 3 });
    const before = await registry();
    const reservations = await reservationCount();
    const method = c.method ?? 'POST';
    const res = await fetch(`${url}${c.path ?? '/ids/reserve'}`, {
      method,
      headers: {
        ...(c.auth === null ? {} : { authorization: `Bearer ${c.auth ?? key('bad')}` }),
        ...(c.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...c.headers,
      },
      ...(c.body === undefined ? {} : { body: c.body }),
    });
    expect(res.status).toBe(c.status);
    if (method !== 'HEAD') {
      const err = errorEnvelopeSchema.parse(await res.json()).error;
      expect(err.code).toBe(c.code);
      if (c.names) expect(err.message).toContain(c.names);
    }
    expect(await registry()).toEqual(before);
    expect(await reservationCount()).toBe(reservations);
  });
});
