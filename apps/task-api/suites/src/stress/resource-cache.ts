// The shared documents, read by every project, served from each replica's cache.
import { constantArrivalRate, scenario } from '@crucible/load-engine';
import { expectVerdict } from '@crucible/checkers';
import type { SuiteStep } from '@crucible/suite-kit';
import { healthOf, projectOf, requestAs, type StressContext } from './context.js';

interface CacheFigures {
  hits?: number;
  misses?: number;
}

const perProject = 20;
const minHitRate = 0.8;

/**
 * Five projects read the same shared documents many times: the in-process cache of each
 * replica serves them. The answers do not say whether the cache served them, so the hit
 * rate is read from every replica's `/health` before and after: `resource-cache-hit-rate`
 * passes above 80 % over all replicas, when the figures account for every document served.
 */
export const resourceCache: SuiteStep<StressContext> = {
  name: 'shared resource cache',
  async run(ctx, kit) {
    const first = ctx.projects[0] as string;
    const names = ((await requestAs(ctx, 0, first, { path: '/resources' })).json() as { items: { name: string }[] }).items.map((i) => i.name);
    const cacheOf = async () => (await healthOf(ctx.replicas.urls)).map((h) => (h.extra?.['resource_cache'] ?? {}) as CacheFigures);
    const before = await cacheOf();
    const total = ctx.projects.length * names.length * perProject;
    const result = await kit.runOne(
      scenario({
        name: `shared resources: 5 projects × ${names.length} documents × ${perProject} reads at 100/s`,
        // An arrival rate, as projects really load documents; a cold burst of hundreds at once
        // would measure the miss stampede instead (every concurrent first load misses).
        executor: constantArrivalRate({ rate: 100, duration: `${Math.ceil(total / 100)}s`, preAllocatedVUs: 20, maxVUs: 100 }),
        keepResponses: false,
        thresholds: ['rate<0.01'],
        request: (it) => {
          const name = names[Math.floor(it.iteration / ctx.projects.length) % names.length] as string;
          return requestAs(ctx, it.iteration, projectOf(ctx, it.iteration), { path: `/resources/${name}`, discardBody: true });
        },
      }),
    );
    const after = await cacheOf();
    const delta = (field: keyof CacheFigures) => after.reduce((n, c, i) => n + (c[field] ?? 0) - (before[i]?.[field] ?? 0), 0);
    const hits = delta('hits');
    const misses = delta('misses');
    const lookups = hits + misses;
    const hitRate = lookups === 0 ? 0 : Math.round((hits / lookups) * 10_000) / 10_000;
    // Every document served is one lookup the cache counted: figures that do not add up to the
    // reads (a miss left uncounted, a constant) cannot vouch for a hit rate, so they fail it.
    const accounted = lookups >= result.successes && lookups <= result.requests;
    result.verdicts.push(
      expectVerdict(
        'resource-cache-hit-rate',
        hitRate > minHitRate && accounted,
        `${hits} hits and ${misses} misses over ${after.length} replicas during the run (GET /health before and after): hit rate ${(hitRate * 100).toFixed(1)} % (must be above ${minHitRate * 100} %)` +
          `; ${lookups} lookups counted for ${result.successes} documents served of ${result.requests} reads${accounted ? '' : ' (the figures do not account for the reads)'}`,
        { cache_hits: hits, cache_misses: misses, cache_hit_rate: hitRate, reads: result.requests, served: result.successes },
      ),
    );
    result.evidence.push({ title: 'Resource cache per replica (GET /health extra.resource_cache)', kind: 'json', content: after });
    return result;
  },
};
