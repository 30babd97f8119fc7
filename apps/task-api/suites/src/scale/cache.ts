// The shared resource cache across replicas: hit rate and hit latency with Redis up, and with
// Redis down the documents served from disk — slower or not, never as an error.
import { expectVerdict } from '@crucible/checkers';
import { healthResponseSchema } from '@crucible/contracts';
import { InstrumentError } from '@crucible/instrument-kit';
import { constantArrivalRate, HttpClient, scenario, type ScenarioResult } from '@crucible/load-engine';
import type { SuiteKit, SuiteStep } from '@crucible/suite-kit';
import { latencyPercentile } from '../stress/context.js';
import { bearer, type ScaleContext } from './context.js';

/** How the cache step runs; the defaults are the suite's. */
export interface SharedCachePlan {
  /** Replicas the step starts for itself (default 3). */
  readonly replicas?: number;
  /** Document reads per second over all replicas, in each phase (default 150). */
  readonly rate?: number;
  /** Each phase's length (default 4 s quick, 20 s full). */
  readonly duration?: string;
  /**
   * Entries of each replica's in-process LRU (default 1, below the three shipped documents): a
   * catalogue larger than one replica's memory, so lookups reach the shared tier — or, with
   * Redis down, the disk — instead of stopping at the LRU.
   */
  readonly lruEntries?: number;
  /** Extra environment of the step's replicas (a planted-defect test arms failpoints here). */
  readonly env?: Record<string, string>;
}

/** The hit rate the issue asks for across replicas, and the bound on a hit. */
export const minSharedHitRate = 0.8;
export const maxHitMs = 10;

interface CacheFigures {
  hits: number;
  misses: number;
  redis_hits: number;
  redis_errors: number;
  redis: string;
}

async function cacheOf(urls: readonly string[]): Promise<CacheFigures[]> {
  return Promise.all(urls.map(async (u) => healthResponseSchema.parse(await (await fetch(`${u}/health`, { signal: AbortSignal.timeout(5000) })).json()).extra?.['resource_cache'] as CacheFigures));
}

const sum = (before: readonly CacheFigures[], after: readonly CacheFigures[], f: 'hits' | 'misses' | 'redis_hits' | 'redis_errors') => after.reduce((n, a, i) => n + (a[f] ?? 0) - (before[i]?.[f] ?? 0), 0);

/** Answers per `X-Cache-Tier`, from the result's breakdown. */
const tierCounts = (r: ScenarioResult) => Object.fromEntries(['lru', 'redis', 'disk'].map((t) => [t, r.breakdown?.entries[t]?.requests ?? 0])) as Record<'lru' | 'redis' | 'disk', number>;

/**
 * Two rows on `replicas` replicas of the step's own (LRU of `lruEntries`), all on the suite's
 * Redis, each read sent to the next replica:
 * - **Redis up**: `shared-cache-hit-rate` — hits over lookups, summed from every replica's
 *   `/health` (a hit is a lookup served without the disk), above 80 %, with figures that account
 *   for every document served and with Redis hits among them (the shared tier served); the
 *   thresholds hold a hit (`X-Cache-Tier` lru and redis) to p99 < 10 ms.
 * - **Redis down** (the server SIGKILLed): `redis-down-served-from-disk` — every read answered
 *   200, none by Redis, the disk serving; the row carries the p50/p99 change against the up
 *   phase and the time until every replica is connected again after Redis restarts.
 */
export function sharedCache(plan: SharedCachePlan = {}): SuiteStep<ScaleContext> {
  const n = plan.replicas ?? 3;
  const rate = plan.rate ?? 150;
  return {
    name: `shared resource cache over ${n} replicas, Redis up then down`,
    // A starved generator is looked at once more: the step is self-contained (replicas of its own, Redis restarted).
    async run(ctx, kit) {
      const redis = kit.sut.redis;
      if (!redis) throw new InstrumentError('bad_argument', 'the shared-cache step needs a Redis: start the suite with redis: true');
      const duration = plan.duration ?? (kit.args.profile === 'full' ? '20s' : '4s');
      const replicas = await Promise.all(Array.from({ length: n }, () => kit.sut.startReplica('task-api', { RESOURCE_CACHE_ENTRIES: String(plan.lruEntries ?? 1), ...plan.env })));
      const urls = replicas.map((r) => r.url);
      const clients = urls.map((u) => new HttpClient(u, { connections: 32 }));
      try {
        const project = ctx.projects[0] as string;
        const names = ((await (clients[0] as HttpClient).request({ path: '/resources', headers: bearer(ctx, project) })).json() as { items: { name: string }[] }).items.map((i) => i.name);
        const phase = (label: string, thresholds: string[]) =>
          kit.runOne(
            scenario({
              name: `shared cache, ${label}: ${names.length} documents over ${n} replicas at ${rate}/s`,
              executor: constantArrivalRate({ rate, duration, preAllocatedVUs: 20, maxVUs: 100 }),
              keepResponses: false,
              breakdownBy: 'tier',
              tags: { endpoint: 'GET /resources/:name', redis: label },
              thresholds,
              request: async (it) => {
                // Each read to the next replica; each replica walks the documents in turn.
                const name = names[Math.floor(it.iteration / n) % names.length] as string;
                const res = await (clients[it.iteration % n] as HttpClient).request({ path: `/resources/${name}`, headers: bearer(ctx, project), discardBody: true });
                it.tag('tier', String(res.headers['x-cache-tier'] ?? 'none'));
                return res;
              },
            }),
          );
        const before = await cacheOf(urls);
        const up = await phase('Redis up', ['rate<0.01', `latency{tier:lru}: p(99)<${maxHitMs}`, `latency{tier:redis}: p(99)<${maxHitMs}`]);
        const mid = await cacheOf(urls);
        upVerdict(up, before, mid, n);
        await redis.kill();
        const down = await phase('Redis down', ['errors: count==0', 'redis_reconnect_ms: value<5000']);
        const after = await cacheOf(urls);
        const t = performance.now();
        await redis.restart();
        const reconnectMs = await reconnected(urls, t);
        downVerdict(down, up, mid, after, reconnectMs, kit);
        return [up, down];
      } finally {
        await Promise.all(clients.map((c) => c.destroy().catch(() => undefined)));
        await Promise.all(replicas.map((r) => r.stop()));
      }
    },
  };
}

/** How long after `t0` every replica's Redis tier is `ready` again, or `undefined` (never within 10 s). */
async function reconnected(urls: readonly string[], t0: number): Promise<number | undefined> {
  while (performance.now() - t0 < 10_000) {
    if ((await cacheOf(urls)).every((c) => c.redis === 'ready')) return Math.round(performance.now() - t0);
    await new Promise((r) => setTimeout(r, 50));
  }
  return undefined;
}

function upVerdict(up: ScenarioResult, before: readonly CacheFigures[], after: readonly CacheFigures[], n: number): void {
  const hits = sum(before, after, 'hits');
  const misses = sum(before, after, 'misses');
  const redisHits = sum(before, after, 'redis_hits');
  const lookups = hits + misses;
  const hitRate = lookups === 0 ? 0 : Math.round((hits / lookups) * 10_000) / 10_000;
  // Every document served is one counted lookup; figures that do not add up cannot vouch for a rate.
  const accounted = lookups >= up.successes && lookups <= up.requests;
  const tiers = tierCounts(up);
  up.metrics['shared_cache_hit_rate'] = hitRate;
  up.verdicts.push(
    expectVerdict(
      'shared-cache-hit-rate',
      hitRate > minSharedHitRate && accounted && redisHits > 0,
      `${hits} hits (${redisHits} from Redis) and ${misses} misses over ${n} replicas (GET /health before and after): hit rate ${(hitRate * 100).toFixed(1)} % (must be above ${minSharedHitRate * 100} %, with Redis serving)` +
        `; ${lookups} lookups counted for ${up.successes} documents served of ${up.requests} reads${accounted ? '' : ' (the figures do not account for the reads)'}; answered by lru ${tiers.lru}, redis ${tiers.redis}, disk ${tiers.disk}`,
      { cache_hits: hits, cache_misses: misses, redis_hits: redisHits, cache_hit_rate: hitRate, reads: up.requests, served: up.successes, answered_lru: tiers.lru, answered_redis: tiers.redis, answered_disk: tiers.disk },
    ),
  );
}

function downVerdict(down: ScenarioResult, up: ScenarioResult, before: readonly CacheFigures[], after: readonly CacheFigures[], reconnectMs: number | undefined, kit: SuiteKit): void {
  const tiers = tierCounts(down);
  const misses = sum(before, after, 'misses');
  const hits = sum(before, after, 'hits');
  const redisErrors = sum(before, after, 'redis_errors');
  const served = down.successes === down.requests && down.requests > 0;
  const p = (r: ScenarioResult, q: number) => latencyPercentile(r, q);
  down.metrics['latency_up_p50_ms'] = p(up, 50);
  down.metrics['latency_up_p99_ms'] = p(up, 99);
  down.metrics['latency_change_p50_ms'] = Math.round((p(down, 50) - p(up, 50)) * 1000) / 1000;
  down.metrics['latency_change_p99_ms'] = Math.round((p(down, 99) - p(up, 99)) * 1000) / 1000;
  down.metrics['shared_cache_hit_rate'] = hits + misses === 0 ? 0 : Math.round((hits / (hits + misses)) * 10_000) / 10_000;
  // Left out when never reconnected, so its threshold fails naming the metric.
  if (reconnectMs !== undefined) down.metrics['redis_reconnect_ms'] = reconnectMs;
  kit.log(`shared cache: Redis down p50 ${p(down, 50)} ms (up ${p(up, 50)} ms), p99 ${p(down, 99)} ms (up ${p(up, 99)} ms); reconnected in ${reconnectMs ?? 'never'} ms`);
  down.verdicts.push(
    expectVerdict(
      'redis-down-served-from-disk',
      served && tiers.redis === 0 && tiers.disk > 0 && misses >= tiers.disk,
      `Redis killed: ${down.successes} of ${down.requests} reads answered 200 (lru ${tiers.lru}, redis ${tiers.redis}, disk ${tiers.disk}; ${misses} disk reads and ${redisErrors} Redis errors counted by the replicas)` +
        `; p50 ${p(down, 50)} ms against ${p(up, 50)} ms with Redis up, p99 ${p(down, 99)} ms against ${p(up, 99)} ms`,
      { reads: down.requests, served: down.successes, answered_lru: tiers.lru, answered_redis: tiers.redis, answered_disk: tiers.disk, disk_reads: misses, redis_errors: redisErrors },
    ),
  );
}
