import { errorEnvelopeSchema, errorStatus, type ErrorCode } from '@crucible/contracts';
import { gzipSync } from 'node:zlib';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send, type ApiClient, type ServiceTestContext } from '@crucible/testbed/testing';
import { startTaskApi } from '../tests/with-id-service.js';

interface Case {
  name: string;
  method: string;
  path: string;
  json?: unknown;
  body?: string | Buffer;
  headers?: Record<string, string>;
  /** Which key to send (default alpha's). */
  key?: 'none' | 'forged';
  code: ErrorCode;
  /** The field the message must name. */
  field?: string;
}

const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

const cases: Case[] = [
  // POST /tasks
  { name: 'no API key', method: 'POST', path: '/tasks', json: { title: 't' }, key: 'none', code: 'unauthorized' },
  { name: 'forged API key', method: 'POST', path: '/tasks', json: { title: 't' }, key: 'forged', code: 'unauthorized' },
  { name: 'no body', method: 'POST', path: '/tasks', code: 'validation_failed', field: 'body' },
  { name: 'text body', method: 'POST', path: '/tasks', body: 'title=t', headers: { 'content-type': 'text/plain' }, code: 'validation_failed', field: 'body' },
  { name: 'malformed JSON', method: 'POST', path: '/tasks', body: '{"title": ', headers: { 'content-type': 'application/json' }, code: 'invalid_json' },
  { name: 'JSON array', method: 'POST', path: '/tasks', json: [{ title: 't' }], code: 'validation_failed', field: 'body' },
  { name: 'missing title', method: 'POST', path: '/tasks', json: {}, code: 'validation_failed', field: 'body.title' },
  { name: 'empty title', method: 'POST', path: '/tasks', json: { title: '' }, code: 'validation_failed', field: 'body.title' },
  { name: 'title too long', method: 'POST', path: '/tasks', json: { title: 'x'.repeat(501) }, code: 'validation_failed', field: 'body.title' },
  { name: 'title with NUL', method: 'POST', path: '/tasks', json: { title: 'a\u0000b' }, code: 'validation_failed', field: 'body.title' },
  { name: 'numeric title', method: 'POST', path: '/tasks', json: { title: 42 }, code: 'validation_failed', field: 'body.title' },
  { name: 'negative priority', method: 'POST', path: '/tasks', json: { title: 't', priority: -1 }, code: 'validation_failed', field: 'body.priority' },
  { name: 'priority too high', method: 'POST', path: '/tasks', json: { title: 't', priority: 1001 }, code: 'validation_failed', field: 'body.priority' },
  { name: 'fractional priority', method: 'POST', path: '/tasks', json: { title: 't', priority: 1.5 }, code: 'validation_failed', field: 'body.priority' },
  { name: 'priority as string', method: 'POST', path: '/tasks', json: { title: 't', priority: '5' }, code: 'validation_failed', field: 'body.priority' },
  { name: 'unknown status', method: 'POST', path: '/tasks', json: { title: 't', status: 'started' }, code: 'validation_failed', field: 'body.status' },
  { name: 'task_id with a space', method: 'POST', path: '/tasks', json: { task_id: 'a b', title: 't' }, code: 'validation_failed', field: 'body.task_id' },
  { name: 'task_id with a slash', method: 'POST', path: '/tasks', json: { task_id: '../x', title: 't' }, code: 'validation_failed', field: 'body.task_id' },
  { name: 'task_id too long', method: 'POST', path: '/tasks', json: { task_id: 'x'.repeat(65), title: 't' }, code: 'validation_failed', field: 'body.task_id' },
  { name: 'reserved task_id', method: 'POST', path: '/tasks', json: { task_id: 'next', title: 't' }, code: 'validation_failed', field: 'body.task_id' },
  { name: 'empty task_id', method: 'POST', path: '/tasks', json: { task_id: '', title: 't' }, code: 'validation_failed', field: 'body.task_id' },
  { name: 'unknown field', method: 'POST', path: '/tasks', json: { title: 't', owner: 'me' }, code: 'validation_failed', field: 'body.owner' },
  { name: 'payload PostgreSQL cannot store', method: 'POST', path: '/tasks', json: { title: 't', payload: { note: 'a\u0000b' } }, code: 'validation_failed', field: 'body.payload' },
  { name: 'payload nested 1,500 deep', method: 'POST', path: '/tasks', body: `{"title":"t","payload":${'['.repeat(1500)}${']'.repeat(1500)}}`, headers: { 'content-type': 'application/json' }, code: 'validation_failed', field: 'body.payload' },
  { name: 'body over the JSON limit', method: 'POST', path: '/tasks', json: { title: 't', payload: 'x'.repeat(5000) }, code: 'payload_too_large' },
  { name: 'duplicate task_id', method: 'POST', path: '/tasks', json: { task_id: 'exists-1', title: 'again' }, code: 'task_exists' },

  // GET /tasks
  { name: 'limit 0', method: 'GET', path: '/tasks?limit=0', code: 'validation_failed', field: 'query.limit' },
  { name: 'limit 501', method: 'GET', path: '/tasks?limit=501', code: 'validation_failed', field: 'query.limit' },
  { name: 'limit not a number', method: 'GET', path: '/tasks?limit=ten', code: 'validation_failed', field: 'query.limit' },
  { name: 'empty limit', method: 'GET', path: '/tasks?limit=', code: 'validation_failed', field: 'query.limit' },
  { name: 'unknown status filter', method: 'GET', path: '/tasks?status=open', code: 'validation_failed', field: 'query.status' },
  { name: 'status twice', method: 'GET', path: '/tasks?status=pending&status=done', code: 'validation_failed', field: 'query.status' },
  { name: 'malformed project', method: 'GET', path: '/tasks?project=Not_Valid', code: 'validation_failed', field: 'query.project' },
  { name: 'unknown query parameter', method: 'GET', path: '/tasks?sort=desc', code: 'validation_failed', field: 'query.sort' },
  { name: 'cursor not base64 JSON', method: 'GET', path: '/tasks?cursor=!!!', code: 'validation_failed', field: 'query.cursor' },
  { name: 'cursor of another shape', method: 'GET', path: `/tasks?cursor=${b64({ offset: 10 })}`, code: 'validation_failed', field: 'query.cursor' },
  { name: 'cursor with 31 February', method: 'GET', path: `/tasks?cursor=${b64(['2026-02-31T00:00:00.000000Z', 'TASK-001'])}`, code: 'validation_failed', field: 'query.cursor' },
  { name: 'cursor in year 0', method: 'GET', path: `/tasks?cursor=${b64(['0000-01-01T00:00:00.000000Z', 'TASK-001'])}`, code: 'validation_failed', field: 'query.cursor' },
  { name: 'cursor with a bad task id', method: 'GET', path: `/tasks?cursor=${b64(['2026-01-01T00:00:00.000000Z', "x' or 1=1 --"])}`, code: 'validation_failed', field: 'query.cursor' },
  { name: 'cursor too long', method: 'GET', path: `/tasks?cursor=${'A'.repeat(513)}`, code: 'validation_failed', field: 'query.cursor' },

  // GET /tasks/next
  { name: 'next: unknown status', method: 'GET', path: '/tasks/next?status=waiting', code: 'validation_failed', field: 'query.status' },
  { name: 'next: unknown parameter', method: 'GET', path: '/tasks/next?limit=1', code: 'validation_failed', field: 'query.limit' },
  { name: 'next: another project', method: 'GET', path: '/tasks/next?project=beta', code: 'project_not_found' },

  // POST /tasks/claim
  { name: 'claim: no body', method: 'POST', path: '/tasks/claim', code: 'validation_failed', field: 'body' },
  { name: 'claim: no worker', method: 'POST', path: '/tasks/claim', json: {}, code: 'validation_failed', field: 'body.worker' },
  { name: 'claim: empty worker', method: 'POST', path: '/tasks/claim', json: { worker: '' }, code: 'validation_failed', field: 'body.worker' },
  { name: 'claim: worker too long', method: 'POST', path: '/tasks/claim', json: { worker: 'w'.repeat(129) }, code: 'validation_failed', field: 'body.worker' },
  { name: 'claim: numeric worker', method: 'POST', path: '/tasks/claim', json: { worker: 7 }, code: 'validation_failed', field: 'body.worker' },
  { name: 'claim: worker with NUL', method: 'POST', path: '/tasks/claim', json: { worker: 'w\u0000' }, code: 'validation_failed', field: 'body.worker' },
  { name: 'claim: unknown field', method: 'POST', path: '/tasks/claim', json: { worker: 'w', project_id: 'beta' }, code: 'validation_failed', field: 'body.project_id' },

  // /tasks/:task_id
  { name: 'get: bad task id', method: 'GET', path: '/tasks/bad%20id', code: 'validation_failed', field: 'params.task_id' },
  { name: 'get: undecodable task id', method: 'GET', path: '/tasks/%E0%A4%A', code: 'validation_failed' },
  { name: 'get: missing task', method: 'GET', path: '/tasks/missing', code: 'task_not_found' },
  { name: 'patch: nothing to change', method: 'PATCH', path: '/tasks/exists-1', json: {}, code: 'validation_failed', field: 'body' },
  { name: 'patch: only expected_version', method: 'PATCH', path: '/tasks/exists-1', json: { expected_version: 1 }, code: 'validation_failed', field: 'body' },
  { name: 'patch: empty title', method: 'PATCH', path: '/tasks/exists-1', json: { title: '' }, code: 'validation_failed', field: 'body.title' },
  { name: 'patch: unknown status', method: 'PATCH', path: '/tasks/exists-1', json: { status: 'paused' }, code: 'validation_failed', field: 'body.status' },
  { name: 'patch: priority too high', method: 'PATCH', path: '/tasks/exists-1', json: { priority: 5000 }, code: 'validation_failed', field: 'body.priority' },
  { name: 'patch: expected_version 0', method: 'PATCH', path: '/tasks/exists-1', json: { title: 'x', expected_version: 0 }, code: 'validation_failed', field: 'body.expected_version' },
  { name: 'patch: expected_version beyond int4', method: 'PATCH', path: '/tasks/exists-1', json: { title: 'x', expected_version: 2 ** 31 }, code: 'validation_failed', field: 'body.expected_version' },
  { name: 'patch: claimed_by is not writable', method: 'PATCH', path: '/tasks/exists-1', json: { claimed_by: 'me' }, code: 'validation_failed', field: 'body.claimed_by' },
  { name: 'patch: stale version', method: 'PATCH', path: '/tasks/exists-1', json: { title: 'x', expected_version: 7 }, code: 'version_conflict' },
  { name: 'patch: bad task id', method: 'PATCH', path: '/tasks/-x', json: { title: 'x' }, code: 'validation_failed', field: 'params.task_id' },
  { name: 'patch: missing task', method: 'PATCH', path: '/tasks/missing', json: { title: 'x' }, code: 'task_not_found' },
  { name: 'delete: bad task id', method: 'DELETE', path: '/tasks/a%2Fb', code: 'validation_failed', field: 'params.task_id' },
  { name: 'delete: missing task', method: 'DELETE', path: '/tasks/missing', code: 'task_not_found' },
  { name: 'delete: no API key', method: 'DELETE', path: '/tasks/exists-1', key: 'none', code: 'unauthorized' },

  // /artifacts/:artifact_id
  { name: 'put: bad artifact id', method: 'PUT', path: '/artifacts/-x', body: 'x', code: 'validation_failed', field: 'params.artifact_id' },
  { name: 'put: artifact id too long', method: 'PUT', path: `/artifacts/${'a'.repeat(129)}`, body: 'x', code: 'validation_failed', field: 'params.artifact_id' },
  { name: 'put: not a media type', method: 'PUT', path: '/artifacts/new', body: 'x', headers: { 'content-type': 'nonsense' }, code: 'validation_failed', field: 'header.content-type' },
  { name: 'put: broken parameter', method: 'PUT', path: '/artifacts/new', body: 'x', headers: { 'content-type': 'text/plain; charset' }, code: 'validation_failed', field: 'header.content-type' },
  { name: 'put: over the artifact limit', method: 'PUT', path: '/artifacts/new', body: Buffer.alloc(8193), code: 'payload_too_large' },
  { name: 'put: gzip body', method: 'PUT', path: '/artifacts/new', body: gzipSync('x'), headers: { 'content-encoding': 'gzip' }, code: 'unsupported_media_type' },
  { name: 'put: no API key', method: 'PUT', path: '/artifacts/new', body: 'x', key: 'none', code: 'unauthorized' },
  { name: 'get: bad artifact id', method: 'GET', path: '/artifacts/.x', code: 'validation_failed', field: 'params.artifact_id' },
  { name: 'get: missing artifact', method: 'GET', path: '/artifacts/missing', code: 'artifact_not_found' },
  { name: 'delete: bad artifact id', method: 'DELETE', path: '/artifacts/a%20b', code: 'validation_failed', field: 'params.artifact_id' },

  // /resources/:name and the rest
  { name: 'resource: upper-case name', method: 'GET', path: '/resources/SDLC-core.md', code: 'validation_failed', field: 'params.name' },
  { name: 'resource: unknown name', method: 'GET', path: '/resources/unknown.md', code: 'resource_not_found' },
  { name: 'resource: no API key', method: 'GET', path: '/resources/sdlc-core.md', key: 'none', code: 'unauthorized' },
  { name: 'unknown route', method: 'GET', path: '/tasks/exists-1/comments', code: 'not_found' },
  { name: 'unsupported method', method: 'PUT', path: '/tasks', json: { title: 't' }, code: 'not_found' },
];

let api: ServiceTestContext;
let alpha: ApiClient;

// Everything a request could have written: rows, versions, timestamps and sequences.
async function fingerprint() {
  const { rows } = await sql<{ tasks: string; artifacts: string; registry: string }>`
    select (select count(*) || ':' || coalesce(md5(string_agg(t::text, '|' order by project_id, task_id)), '') from tasks t) as tasks,
           (select count(*) || ':' || coalesce(md5(string_agg(a::text, '|' order by project_id, artifact_id)), '') from artifacts a) as artifacts,
           (select count(*) || ':' || coalesce(md5(string_agg(r::text, '|' order by project_id, sequence_type)), '') from id_registry r) as registry`.execute(api.db);
  return rows[0];
}

beforeAll(async () => {
  api = await startTaskApi({ env: { BODY_LIMIT_BYTES: '4096', ARTIFACT_LIMIT_BYTES: '8192' } });
  alpha = await api.project('alpha');
  await api.project('beta');
  expect((await alpha.request('POST', '/tasks', { json: { task_id: 'exists-1', title: 'already here' } })).status).toBe(201);
  expect((await alpha.request('POST', '/tasks', { json: { title: 'generated' } })).status).toBe(201); // id_registry row exists
  expect((await alpha.request('PUT', '/artifacts/art-1', { body: 'kept' })).status).toBe(201);
});
afterAll(() => api?.close());

describe('bad input on every endpoint: the documented 4xx, the envelope naming the field, nothing written', () => {
  let before: Awaited<ReturnType<typeof fingerprint>>;
  beforeAll(async () => {
    before = await fingerprint();
  });

  it.each(cases)('$method $path — $name → $code', async (c) => {
    const headers: Record<string, string> = { ...c.headers };
    if (c.key === 'forged') headers['authorization'] = 'Bearer ck_forged';
    const res =
      c.key === 'none' || c.key === 'forged'
        ? await send(api.url, c.method, c.path, { json: c.json, body: c.body, headers })
        : await alpha.request(c.method, c.path, { json: c.json, body: c.body, headers });
    expect(res.status, JSON.stringify(res.body)).toBe(errorStatus[c.code]);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(res.headers.get('content-type')).toContain('application/json');
    const { error } = errorEnvelopeSchema.parse(res.body);
    expect(error.code).toBe(c.code);
    if (c.field) expect(error.message).toContain(c.field);
    expect(await fingerprint()).toEqual(before);
  });

  it('leaves the valid data readable afterwards', async () => {
    expect((await alpha.request('GET', '/tasks/exists-1')).body).toMatchObject({ title: 'already here', version: 1 });
    expect((await alpha.request('GET', '/artifacts/art-1')).bytes.toString()).toBe('kept');
    const created = await alpha.request('POST', '/tasks', { json: { title: 'after the bad inputs' } });
    expect(created.body).toMatchObject({ task_id: 'TASK-002' }); // no failed create consumed a number
  });

  it('never answers 5xx to junk in any field of any endpoint', async () => {
    const junk: unknown[] = [null, true, 0, -1, 2 ** 31, 2 ** 53, 1e308, 1.5, '', ' ', 'x'.repeat(3000), '\u0000', '\ud800', '😀', '../../etc/passwd', "' or 1=1 --", {}, [], [1], { a: { b: [] } }];
    const bodies: [string, string, (v: unknown) => unknown][] = [
      ['POST', '/tasks', (v) => ({ title: v })],
      ['POST', '/tasks', (v) => ({ title: 't', task_id: v })],
      ['POST', '/tasks', (v) => ({ title: 't', status: v })],
      ['POST', '/tasks', (v) => ({ title: 't', priority: v })],
      ['POST', '/tasks', (v) => ({ title: 't', task_id: 'junk-payload', payload: v })],
      ['POST', '/tasks/claim', (v) => ({ worker: v })],
      ['PATCH', '/tasks/exists-1', (v) => ({ title: v, expected_version: 99 })],
      ['PATCH', '/tasks/exists-1', (v) => ({ priority: v, expected_version: 99 })],
      ['PATCH', '/tasks/exists-1', (v) => ({ status: 'done', expected_version: v })],
    ];
    const answers: string[] = [];
    for (const [method, path, make] of bodies) {
      for (const v of junk) {
        const res = await alpha.request(method, path, { json: make(v) });
        answers.push(`${method} ${path} ${JSON.stringify(make(v)).slice(0, 60)} → ${res.status}`);
        if (res.status >= 400) errorEnvelopeSchema.parse(res.body);
        // Junk that is valid is accepted: any JSON payload, any non-empty worker name (a claim).
        if (res.status === 201) await alpha.request('DELETE', '/tasks/junk-payload');
      }
    }
    for (const name of ['limit', 'status', 'cursor', 'project']) {
      for (const v of junk) {
        let encoded: string;
        try {
          encoded = encodeURIComponent(typeof v === 'string' ? v : JSON.stringify(v));
        } catch {
          continue; // a lone surrogate cannot be put in a URL at all
        }
        const res = await alpha.request('GET', `/tasks?${name}=${encoded}`);
        answers.push(`GET /tasks ${name}=${String(v).slice(0, 40)} → ${res.status}`);
      }
    }
    expect(answers.filter((a) => / → 5\d\d$/.test(a))).toEqual([]);
  });
});
