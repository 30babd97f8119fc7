import { readFileSync } from 'node:fs';
import path from 'node:path';
import { errorEnvelopeSchema, healthResponseSchema, resourceListResponseSchema } from '@crucible/contracts';
import { Pool } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envelope, send, startService, type ApiClient, type ServiceTestContext } from '@crucible/testbed/testing';
import { defaultResourceDir } from '../config.js';
import { taskApiService } from '../app.js';

// Never called: these tests create no task with a generated id (the client connects on first use).
const noIdService = { ID_SERVICE_URL: 'http://127.0.0.1:9' };

const shipped = ['definition-of-done.md', 'review-checklist.md', 'sdlc-core.md'];

async function cacheFigures(api: ServiceTestContext) {
  const health = healthResponseSchema.parse((await send(api.url, 'GET', '/health')).body);
  const metrics = (await send<string>(api.url, 'GET', '/metrics')).body;
  const counter = (name: string) => Number(new RegExp(`^${name}\\{[^}]*\\} (\\d+)`, 'm').exec(metrics)?.[1] ?? NaN);
  return {
    health: health.extra?.['resource_cache'] as { hits: number; misses: number; hit_rate: number | null; entries: number; evictions: number },
    hits: counter('task_api_resource_cache_hits_total'),
    misses: counter('task_api_resource_cache_misses_total'),
  };
}

describe('shared resources', () => {
  let api: ServiceTestContext;
  let alpha: ApiClient;
  let beta: ApiClient;
  beforeAll(async () => {
    api = await startService(taskApiService, { env: noIdService });
    alpha = await api.project('alpha');
    beta = await api.project('beta');
  });
  afterAll(() => api?.close());

  it('lists and serves the shipped markdown documents to every project', async () => {
    const list = resourceListResponseSchema.parse((await alpha.request('GET', '/resources')).body);
    expect(list.items.map((i) => i.name)).toEqual(shipped);
    for (const name of shipped) {
      const onDisk = readFileSync(path.join(defaultResourceDir, name));
      expect(onDisk.length).toBeGreaterThan(1500); // a real page, not a stub
      expect(list.items.find((i) => i.name === name)?.size).toBe(onDisk.length);
      for (const client of [alpha, beta]) {
        const res = await client.request('GET', `/resources/${name}`);
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toBe('text/markdown; charset=utf-8');
        expect(res.bytes.equals(onDisk)).toBe(true);
      }
    }
    const noKey = await send(api.url, 'GET', '/resources/sdlc-core.md');
    expect(noKey.status).toBe(401);
  });

  it('counts a miss once per document, then hits, on /metrics and as a hit rate in /health', async () => {
    // The previous test read each of 3 documents twice: 3 misses, 3 hits.
    let f = await cacheFigures(api);
    expect(f).toMatchObject({ hits: 3, misses: 3 });
    expect(f.health).toMatchObject({ hits: 3, misses: 3, hit_rate: 0.5, entries: 3, evictions: 0 });
    for (let i = 0; i < 4; i++) await alpha.request('GET', '/resources/sdlc-core.md');
    const etag = (await alpha.request('GET', '/resources/sdlc-core.md')).headers.get('etag') ?? '';
    const notModified = await alpha.request('GET', '/resources/sdlc-core.md', { headers: { 'if-none-match': etag } });
    expect(notModified.status).toBe(304);
    f = await cacheFigures(api);
    expect(f).toMatchObject({ hits: 9, misses: 3 });
    expect(f.health.hit_rate).toBe(0.75);
  });

  it('refuses names that try to leave the folder and 404s unknown documents, without touching the cache', async () => {
    const before = await cacheFigures(api);
    // Sent through an undici Pool, whose paths go on the wire as written (fetch would
    // resolve `..` segments before sending).
    const raw = new Pool(api.url);
    try {
      for (const name of ['..', '%2e%2e', '..%2f..%2fpackage.json', '%2e%2e%2fsrc%2fapp.ts', '.hidden.md', 'SDLC-core.md', 'a%00.md', '%2fetc%2fpasswd']) {
        const res = await raw.request({ method: 'GET', path: `/resources/${name}`, headers: { authorization: `Bearer ${alpha.key}` } });
        const body = errorEnvelopeSchema.parse(await res.body.json());
        expect(res.statusCode, name).toBe(400);
        expect(body.error.code).toBe('validation_failed');
        expect(body.error.message).toContain('params.name');
      }
      // More segments than the route has: no route, not a file outside the folder.
      const deeper = await raw.request({ method: 'GET', path: '/resources/../package.json', headers: { authorization: `Bearer ${alpha.key}` } });
      expect(deeper.statusCode).toBe(404);
      expect(errorEnvelopeSchema.parse(await deeper.body.json()).error.code).toBe('not_found');
    } finally {
      await raw.close();
    }
    for (const name of ['nope.md', 'package.json', 'tsconfig.json']) {
      const res = await alpha.request('GET', `/resources/${name}`);
      expect(res.status, name).toBe(404);
      expect(envelope(res).code).toBe('resource_not_found');
    }
    const after = await cacheFigures(api);
    expect({ hits: after.hits, misses: after.misses }).toEqual({ hits: before.hits, misses: before.misses });
  });
});

describe('a cold burst on one document', () => {
  it('reads the disk once: one miss, every other concurrent lookup a hit', async () => {
    await using api = await startService(taskApiService, { env: noIdService });
    const alpha = await api.project('alpha');
    await alpha.request('GET', '/resources'); // warm the key cache, not the resource cache
    const answers = await Promise.all(Array.from({ length: 20 }, () => alpha.request('GET', '/resources/review-checklist.md')));
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
    expect(new Set(answers.map((a) => a.bytes.toString())).size).toBe(1);
    const f = await cacheFigures(api);
    expect(f).toMatchObject({ hits: 19, misses: 1 });
  });
});

describe('a resource cache smaller than the catalogue', () => {
  it('stays bounded and misses again after evicting', async () => {
    await using api = await startService(taskApiService, { env: { ...noIdService, RESOURCE_CACHE_ENTRIES: '2' } });
    const alpha = await api.project('alpha');
    for (const name of shipped) expect((await alpha.request('GET', `/resources/${name}`)).status).toBe(200);
    // Least recently used first: definition-of-done.md was evicted by sdlc-core.md.
    await alpha.request('GET', '/resources/sdlc-core.md'); // hit
    await alpha.request('GET', '/resources/definition-of-done.md'); // miss again
    const f = await cacheFigures(api);
    expect(f).toMatchObject({ hits: 1, misses: 4 });
    expect(f.health).toMatchObject({ entries: 2, evictions: 2, hit_rate: 0.2 });
  });
});
