// The scale suite's shared-state and shared-cache verdicts, each shown failing on real task-api
// replicas carrying the defect it exists to catch (a failpoint armed through
// CRUCIBLE_FAILPOINTS on one replica or on the step's own replicas, a real PostgreSQL and a
// real redis-server) and passing on the clean system. Every case runs the suite's own step,
// sized to seconds, through the suite kit's step runner.
import type { ScenarioReport, Verdict } from '@crucible/contracts';
import type { SuiteStep } from '@crucible/suite-kit';
import { correctnessFailures, openStepRunner, type StepRunner } from '@crucible/suite-kit/testing';
import { startSut, type RunningApp, type Sut } from '@crucible/testbed';
import { testServer } from '@crucible/testbed/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sharedCache } from './scale/cache.js';
import type { ScaleContext } from './scale/context.js';
import { sharedState } from './scale/shared-state.js';

let sut: Sut;
let steps: StepRunner;
let ctx: ScaleContext;
beforeAll(async () => {
  sut = await startSut({ server: testServer(), apps: ['task-api'], redis: true, env: { LOG_LEVEL: 'silent' } });
  steps = openStepRunner(sut);
  const { api_key } = await sut.createProject('cache-cases');
  ctx = { balancedUrl: sut.url('task-api'), replicaUrls: [sut.url('task-api')], projects: ['cache-cases'], keys: { 'cache-cases': api_key } };
});
afterAll(async () => {
  await steps?.close();
  await sut?.stop();
});

async function run(step: SuiteStep<ScaleContext>, on: ScaleContext): Promise<{ rows: ScenarioReport[]; v: Record<string, Verdict> }> {
  const rows = await steps.run(step, on);
  return { rows, v: Object.fromEntries(rows.flatMap((r) => r.verdicts).map((v) => [v.checker, v])) };
}

/** Three replicas for the shared-state step: the first clean one, one more clean, and a third (with `failpoints` armed, if given). */
async function threeReplicas(failpoints?: string): Promise<{ on: ScaleContext; started: RunningApp[] }> {
  const started = [await sut.startReplica('task-api'), await sut.startReplica('task-api', failpoints ? { CRUCIBLE_FAILPOINTS: failpoints } : {})];
  return { on: { ...ctx, replicaUrls: [sut.url('task-api'), ...started.map((r) => r.url)] }, started };
}

// 3 clients × 4 PUTs, each read back through the 2 other replicas: 48 artifact reads, of which
// 8 plain reads are through the third replica after a write through another one.
const stateRun = (prefix: string) => sharedState({ clients: 3, rounds: 4, tasks: 8, projectPrefix: prefix });
// 2 s per phase at 100 reads/s: 200 reads with Redis up, 200 with it down.
const cacheRun = (env?: Record<string, string>) => sharedCache({ rate: 100, duration: '2s', ...(env ? { env } : {}) });

describe('the clean task-api: shared state and the shared cache pass', () => {
  it('shared-state passes: every answer from every replica is the state another replica wrote', async () => {
    const { on, started } = await threeReplicas();
    try {
      const { rows, v } = await run(stateRun('clean-state'), on);
      expect(correctnessFailures(rows)).toEqual([]);
      expect(v['shared-state']?.status, v['shared-state']?.summary).toBe('pass');
      expect(v['shared-state']?.counts).toMatchObject({ replicas: 3, artifact_reads: 48, stale_artifact_reads: 0, resource_mismatches: 0, task_page_mismatches: 0 });
    } finally {
      await Promise.all(started.map((r) => r.stop()));
    }
  });

  it('shared-cache-hit-rate passes with Redis serving, and Redis down the disk serves every read', async () => {
    const { rows, v } = await run(cacheRun(), ctx);
    expect(correctnessFailures(rows)).toEqual([]);
    const hit = v['shared-cache-hit-rate'];
    expect(hit?.status, hit?.summary).toBe('pass');
    expect(hit?.counts['redis_hits']).toBeGreaterThan(0);
    expect((hit?.counts['cache_hits'] ?? 0) + (hit?.counts['cache_misses'] ?? 0)).toBe(hit?.counts['served']);
    const down = v['redis-down-served-from-disk'];
    expect(down?.status, down?.summary).toBe('pass');
    expect(down?.counts['answered_redis']).toBe(0);
    expect(down?.counts['answered_disk']).toBeGreaterThan(0);
    const downRow = rows[1] as ScenarioReport;
    expect(downRow.metrics['redis_reconnect_ms']).toBeLessThan(5000);
    expect(typeof downRow.metrics['latency_change_p50_ms']).toBe('number');
  });
});

describe('artifacts.cache.instance-local: one replica answers artifacts from a copy of its own', () => {
  it('shared-state fails naming the stale read: the replica written through, the one read, the ETags', async () => {
    // Armed on every read of that replica (a cache is not intermittent): after its first read
    // of an artifact it never sees another replica's PUT of it.
    const { on, started } = await threeReplicas('artifacts.cache.instance-local=1');
    try {
      const { v } = await run(stateRun('local-copy'), on);
      const verdict = v['shared-state'];
      expect(verdict?.status).toBe('fail');
      expect(verdict?.counts['stale_artifact_reads']).toBeGreaterThan(0);
      expect(verdict?.counts['resource_mismatches']).toBe(0);
      expect(verdict?.summary).toMatch(/: [1-9]\d* stale artifact reads of 48, 0 documents answered differently/);
      expect(verdict?.summary).toMatch(/PUT through replica [01] acknowledged "[0-9a-f]{64}"; replica 2 answered "[0-9a-f]{64}"/);
      const stale = verdict?.examples.filter((e) => (e as { kind: string }).kind === 'stale_artifact') as { read_via_replica: number; put_via_replica: number; acknowledged_etag: string; answered: { etag: string } }[];
      // Only the defective replica reads stale, and only what another replica wrote.
      expect(new Set(stale.map((s) => s.read_via_replica))).toEqual(new Set([2]));
      for (const s of stale) {
        expect(s.put_via_replica).not.toBe(2);
        expect(s.answered.etag).not.toBe(s.acknowledged_etag);
      }
    } finally {
      await Promise.all(started.map((r) => r.stop()));
    }
  });
});

describe('resources.cache.bypass: GET /resources/:name now and then skips both caches for the disk', () => {
  it('shared-cache-hit-rate fails naming the hit rate, from figures that still count every read', async () => {
    // 200 reads with Redis up; the rate falls to 80 % at 40 bypasses. At 35 % per read,
    // P(fewer than 40 of 200) = P(Bin(200, 0.35) < 40) ≈ 1e-6.
    const { v } = await run(cacheRun({ CRUCIBLE_FAILPOINTS: 'resources.cache.bypass=0.35' }), ctx);
    const hit = v['shared-cache-hit-rate'];
    expect(hit?.status).toBe('fail');
    expect(hit?.counts['cache_hit_rate']).toBeLessThanOrEqual(0.8);
    expect(hit?.summary).toMatch(/hit rate [1-7]\d\.\d % \(must be above 80 %, with Redis serving\); (\d+) lookups counted for \1 documents served/);
    // The disk serves the bypassed reads: still no error, with Redis down too.
    expect(v['redis-down-served-from-disk']?.status, v['redis-down-served-from-disk']?.summary).toBe('pass');
  });
});

describe('resources.redis.unguarded: a Redis error escapes the lookup', () => {
  it('redis-down-served-from-disk fails naming the reads not answered, while Redis up everything passes', async () => {
    const { rows, v } = await run(cacheRun({ CRUCIBLE_FAILPOINTS: 'resources.redis.unguarded=1' }), ctx);
    expect(v['shared-cache-hit-rate']?.status, v['shared-cache-hit-rate']?.summary).toBe('pass');
    const down = v['redis-down-served-from-disk'];
    expect(down?.status).toBe('fail');
    expect(down?.summary).toMatch(/^Redis killed: (\d+) of (\d+) reads answered 200/);
    expect((down?.counts['served'] ?? 0) < (down?.counts['reads'] ?? 0)).toBe(true);
    expect(correctnessFailures(rows).some((f) => f.includes('Redis down') && f.includes('errors: count==0'))).toBe(true);
  });
});
