// The Redis tier of the resource cache, on a real redis-server shared by two task-api
// replicas (in process, each with its own LRU): a document one replica loaded is a Redis hit
// on the other; Redis killed or frozen, documents come from disk, fast, never as an error; and
// the client comes back by itself when Redis does.
import { healthResponseSchema } from '@crucible/contracts';
import { startRedis, type RedisServer } from '@crucible/testbed';
import { send, startService, type ApiClient, type ServiceTestContext } from '@crucible/testbed/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { taskApiService } from '../app.js';

const noIdService = { ID_SERVICE_URL: 'http://127.0.0.1:9' };
const timeoutMs = 50;

interface Figures {
  hits: number;
  misses: number;
  lru_hits: number;
  redis_hits: number;
  redis_misses: number;
  redis_errors: number;
  redis: string;
}

async function figures(api: ServiceTestContext): Promise<Figures> {
  return healthResponseSchema.parse((await send(api.url, 'GET', '/health')).body).extra?.['resource_cache'] as Figures;
}

async function tierCounter(api: ServiceTestContext, tier: string, result: string): Promise<number> {
  const metrics = (await send<string>(api.url, 'GET', '/metrics')).body;
  const line = metrics.split('\n').find((l) => l.startsWith('task_api_resource_cache_tier_lookups_total{') && l.includes(`tier="${tier}"`) && l.includes(`result="${result}"`));
  return Number(line?.split(' ').pop() ?? 0);
}

/** GET a document; resolves to its status, tier header, body and how long it took. */
async function read(client: ApiClient, name: string) {
  const t = performance.now();
  const res = await client.request('GET', `/resources/${name}`);
  return { status: res.status, tier: res.headers.get('x-cache-tier'), bytes: res.bytes, ms: performance.now() - t };
}

async function until(what: () => Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await what()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

describe('the shared resource cache in Redis, across two replicas', () => {
  let redis: RedisServer;
  let one: ServiceTestContext;
  let two: ServiceTestContext;
  let a: ApiClient;
  let b: ApiClient;
  beforeAll(async () => {
    redis = await startRedis();
    // An LRU of one entry, so a lookup of another document reaches Redis (or the disk).
    const env = { ...noIdService, REDIS_URL: redis.url, REDIS_TIMEOUT_MS: String(timeoutMs), REDIS_KEY_PREFIX: `t${Date.now()}:`, RESOURCE_CACHE_ENTRIES: '1' };
    one = await startService(taskApiService, { env });
    two = await startService(taskApiService, { env });
    a = await one.project('alpha');
    b = await (two as ServiceTestContext).project('beta');
    expect(await until(async () => (await figures(one)).redis === 'ready' && (await figures(two)).redis === 'ready', 5000)).toBe(true);
  });
  afterAll(async () => {
    await one?.close();
    await two?.close();
    await redis?.stop();
  });

  it('a document one replica read from disk is a Redis hit on the other, then an LRU hit there', async () => {
    const first = await read(a, 'sdlc-core.md');
    expect(first).toMatchObject({ status: 200, tier: 'disk' });
    // The fill is not awaited by the lookup: give it its round trip.
    expect(await until(async () => (await redis.ping()) && (await read(b, 'sdlc-core.md')).tier === 'redis', 2000)).toBe(true);
    const again = await read(b, 'sdlc-core.md');
    expect(again.tier).toBe('lru');
    expect(again.bytes.equals(first.bytes)).toBe(true);
    const f = await figures(two);
    expect(f).toMatchObject({ misses: 0, redis_hits: 1, redis_errors: 0, lru_hits: 1, hits: 2 });
    expect(await tierCounter(two, 'redis', 'hit')).toBe(1);
    expect(await tierCounter(two, 'lru', 'hit')).toBe(1);
    expect((await figures(one)).misses).toBe(1);
  });

  it('Redis killed: every document is served from disk at once, no error; the client reconnects by itself', async () => {
    await redis.kill();
    const before = await figures(one);
    const names = ['definition-of-done.md', 'review-checklist.md', 'sdlc-core.md', 'definition-of-done.md'];
    const answers = [];
    for (const name of names) answers.push(await read(a, name));
    expect(answers.map((x) => x.status)).toEqual([200, 200, 200, 200]);
    expect(answers.map((x) => x.tier)).toEqual(['disk', 'disk', 'disk', 'disk']);
    // Down is a refused connection: no timeout to wait for.
    expect(Math.max(...answers.map((x) => x.ms))).toBeLessThan(1000);
    const down = await figures(one);
    expect(down.redis).not.toBe('ready');
    expect(down.misses - before.misses).toBe(4);
    expect(down.redis_errors - before.redis_errors).toBe(4);
    await redis.restart();
    expect(await until(async () => (await figures(one)).redis === 'ready', 5000)).toBe(true);
    // Back, empty: a read fills it again and the other replica hits it.
    expect((await read(a, 'review-checklist.md')).tier).toBe('disk');
    expect(await until(async () => (await read(b, 'review-checklist.md')).tier === 'redis', 3000)).toBe(true);
  });

  it('Redis frozen: a lookup gives up after the short timeout and the disk serves; the next ones skip it', async () => {
    await read(a, 'sdlc-core.md'); // the LRU holds sdlc-core.md, so the next two reach Redis
    await redis.freeze();
    try {
      const first = await read(a, 'definition-of-done.md');
      expect(first).toMatchObject({ status: 200, tier: 'disk' });
      expect(first.ms).toBeGreaterThanOrEqual(timeoutMs - 5);
      expect(first.ms).toBeLessThan(timeoutMs + 900);
      const next = await read(a, 'review-checklist.md');
      expect(next).toMatchObject({ status: 200, tier: 'disk' });
      expect((await figures(one)).redis_errors).toBeGreaterThan(0);
    } finally {
      await redis.thaw();
    }
    expect(await until(async () => (await read(a, 'sdlc-core.md')).status === 200 && (await read(a, 'definition-of-done.md')).tier !== 'disk', 5000)).toBe(true);
  });
});

describe('a replica started while Redis is down', () => {
  it('starts, serves from disk, and takes Redis up when it comes', async () => {
    await using redis = await startRedis();
    await redis.kill();
    await using api = await startService(taskApiService, { env: { ...noIdService, REDIS_URL: redis.url, REDIS_TIMEOUT_MS: String(timeoutMs) } });
    const alpha = await api.project('alpha');
    expect(await read(alpha, 'sdlc-core.md')).toMatchObject({ status: 200, tier: 'disk' });
    expect((await figures(api)).redis).not.toBe('ready');
    await redis.restart();
    expect(await until(async () => (await figures(api)).redis === 'ready', 5000)).toBe(true);
    // The LRU holds sdlc-core.md; another document now goes through Redis (a miss there, then filled).
    expect((await read(alpha, 'review-checklist.md')).tier).toBe('disk');
    expect(await until(async () => (await figures(api)).redis_misses > 0, 2000)).toBe(true);
  });
});
