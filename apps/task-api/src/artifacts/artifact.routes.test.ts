import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { artifactMetaSchema } from '@crucible/contracts';
import { rowsPerProject } from '@crucible/db';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envelope, startService, type ApiClient, type ServiceTestContext } from '@crucible/testbed/testing';
import { taskApiService } from '../app.js';

// Never called: these tests create no task with a generated id (the client connects on first use).
const noIdService = { ID_SERVICE_URL: 'http://127.0.0.1:9' };

const limit = 64 * 1024;
let api: ServiceTestContext;
let alpha: ApiClient;
let beta: ApiClient;

beforeAll(async () => {
  // The artifact limit is set apart from (and above) the JSON body limit on purpose.
  api = await startService(taskApiService, { env: { ...noIdService, ARTIFACT_LIMIT_BYTES: String(limit), BODY_LIMIT_BYTES: '4096' } });
  alpha = await api.project('alpha');
  beta = await api.project('beta');
});
afterAll(() => api?.close());

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('artifacts', () => {
  it('stores any bytes with their content type and returns them with an ETag', async () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff, 0x00, 0x10]);
    const put = await alpha.request('PUT', '/artifacts/logo.png', { body: png, headers: { 'content-type': 'image/png' } });
    expect(put.status).toBe(201);
    const meta = artifactMetaSchema.parse(put.body);
    expect(meta).toMatchObject({ project_id: 'alpha', artifact_id: 'logo.png', content_type: 'image/png', size: 12, sha256: sha(png), created: true });
    expect(put.headers.get('etag')).toBe(`"${sha(png)}"`);

    const got = await alpha.request('GET', '/artifacts/logo.png');
    expect(got.status).toBe(200);
    expect(got.bytes.equals(png)).toBe(true);
    expect(got.headers.get('content-type')).toBe('image/png');
    expect(got.headers.get('etag')).toBe(meta.etag);
    expect(got.headers.get('x-content-type-options')).toBe('nosniff');

    const fresh = await alpha.request('GET', '/artifacts/logo.png', { headers: { 'if-none-match': `"other", W/${meta.etag}` } });
    expect(fresh.status).toBe(304);
    expect(fresh.bytes.length).toBe(0);
    const stale = await alpha.request('GET', '/artifacts/logo.png', { headers: { 'if-none-match': '"other"' } });
    expect(stale.status).toBe(200);
  });

  it('stores the bytes sent whatever the case of the path (Express routes case-blind; the JSON parser skip must too)', async () => {
    for (const [i, path] of ['/ARTIFACTS/case-upper', '/Artifacts/case-mixed', '/artifacts/case-lower'].entries()) {
      const text = `{"n": ${i},  "kept": "as sent" }`;
      const put = await alpha.request('PUT', path, { body: text, headers: { 'content-type': 'application/json' } });
      expect(put.status).toBe(201);
      expect(artifactMetaSchema.parse(put.body).size).toBe(Buffer.byteLength(text));
      const got = await alpha.request('GET', path.toLowerCase());
      expect(got.bytes.toString('utf8')).toBe(text);
    }
  });

  it('stores a JSON artifact byte for byte (whitespace, key order, duplicate keys kept), beyond the JSON body limit', async () => {
    const text = `{ "b": 1,\n  "a": [1, 2 ,3], "a": "dup"  }\n${' '.repeat(10_000)}`;
    const put = await alpha.request('PUT', '/artifacts/report.json', { body: text, headers: { 'content-type': 'application/json' } });
    expect(put.status).toBe(201);
    const got = await alpha.request('GET', '/artifacts/report.json');
    expect(got.headers.get('content-type')).toBe('application/json');
    expect(got.bytes.toString('utf8')).toBe(text);
    // Not even valid JSON is refused: an artifact is bytes, not a document the API reads.
    const broken = await alpha.request('PUT', '/artifacts/broken.json', { body: '{"a":', headers: { 'content-type': 'application/json' } });
    expect(broken.status).toBe(201);
    expect((await alpha.request('GET', '/artifacts/broken.json')).bytes.toString()).toBe('{"a":');
  });

  it('replaces an artifact (200, created=false), defaults the type, accepts an empty body, and deletes', async () => {
    const first = await alpha.request('PUT', '/artifacts/notes', { body: 'v1', headers: { 'content-type': 'text/plain; charset=utf-8' } });
    expect(first.status).toBe(201);
    const second = await alpha.request('PUT', '/artifacts/notes', { body: new Uint8Array([1, 2, 3]) });
    expect(second.status).toBe(200);
    expect(artifactMetaSchema.parse(second.body)).toMatchObject({ created: false, size: 3, content_type: 'application/octet-stream' });
    expect((await alpha.request('GET', '/artifacts/notes')).bytes).toEqual(Buffer.from([1, 2, 3]));

    const empty = await alpha.request('PUT', '/artifacts/empty', { body: '', headers: { 'content-type': 'text/plain' } });
    expect(artifactMetaSchema.parse(empty.body)).toMatchObject({ size: 0, sha256: sha(Buffer.alloc(0)) });

    expect((await alpha.request('DELETE', '/artifacts/notes')).status).toBe(204);
    const gone = await alpha.request('GET', '/artifacts/notes');
    expect(gone.status).toBe(404);
    expect(envelope(gone).code).toBe('artifact_not_found');
  });

  it('accepts exactly the limit and answers 413 one byte beyond, storing nothing', async () => {
    const atLimit = await alpha.request('PUT', '/artifacts/big', { body: Buffer.alloc(limit, 7) });
    expect(atLimit.status).toBe(201);
    const over = await alpha.request('PUT', '/artifacts/too-big', { body: Buffer.alloc(limit + 1, 7) });
    expect(over.status).toBe(413);
    expect(envelope(over).code).toBe('payload_too_large');
    expect((await alpha.request('GET', '/artifacts/too-big')).status).toBe(404);
  });

  it('refuses compressed bodies instead of storing them decompressed', async () => {
    const res = await alpha.request('PUT', '/artifacts/zipped', {
      body: gzipSync('hello'),
      headers: { 'content-type': 'text/plain', 'content-encoding': 'gzip' },
    });
    expect(res.status).toBe(415);
    expect(envelope(res).code).toBe('unsupported_media_type');
  });

  it('keeps artifacts per project: the same id coexists, another project’s is 404, and the table agrees', async () => {
    await alpha.request('PUT', '/artifacts/shared-name', { body: 'alpha secret', headers: { 'content-type': 'text/plain' } });
    const cross = await beta.request('GET', '/artifacts/shared-name');
    expect(cross.status).toBe(404);
    expect(envelope(cross).code).toBe('artifact_not_found');
    expect(JSON.stringify(cross.body)).not.toContain('alpha secret');
    expect((await beta.request('DELETE', '/artifacts/shared-name')).status).toBe(404);

    const own = await beta.request('PUT', '/artifacts/shared-name', { body: 'beta data', headers: { 'content-type': 'text/plain' } });
    expect(own.status).toBe(201); // created in beta, not a replacement of alpha's
    expect((await alpha.request('GET', '/artifacts/shared-name')).bytes.toString()).toBe('alpha secret');
    expect((await beta.request('GET', '/artifacts/shared-name')).bytes.toString()).toBe('beta data');

    const evidence = await rowsPerProject(api.db, ['alpha', 'beta']);
    expect(evidence['artifacts']?.['beta']).toBe(1);
    const { rows } = await sql<{ project_id: string; content: Buffer }>`
      select project_id, content from artifacts where artifact_id = 'shared-name' order by project_id`.execute(api.db);
    expect(rows.map((r) => [r.project_id, r.content.toString()])).toEqual([
      ['alpha', 'alpha secret'],
      ['beta', 'beta data'],
    ]);
  });
});
