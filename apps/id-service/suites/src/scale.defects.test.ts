// The id-service scale suite's verdicts, each shown failing on real replicas behind the real
// nginx (tools/install-nginx.sh) and passing on the clean ones: the suite's own step, sized
// to seconds, through the suite kit's step runner.
import type { ScenarioReport, Verdict } from '@crucible/contracts';
import { correctnessFailures, openStepRunner, type StepRunner } from '@crucible/suite-kit/testing';
import { startNginx, startSut, type RunningApp, type Sut } from '@crucible/testbed';
import { testServer } from '@crucible/testbed/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sharedSequences } from './scale.suite.js';

let sut: Sut;
let steps: StepRunner;
beforeAll(async () => {
  sut = await startSut({ server: testServer(), apps: ['id-service'], replicas: { 'id-service': 3 }, env: { LOG_LEVEL: 'silent' } });
  steps = openStepRunner(sut);
}, 120_000);
afterAll(async () => {
  await steps?.close();
  await sut?.stop();
});

const step = sharedSequences({ rate: 60, duration: '3s' });
const clean = () => (sut.apps['id-service'] ?? []).slice(0, 3).map((a) => a.url);

async function runBehind(upstreams: readonly string[], weights?: number[], run = step): Promise<{ rows: ScenarioReport[]; v: Record<string, Verdict> }> {
  await using lb = await startNginx({ upstreams, ...(weights ? { weights } : {}) });
  const rows = await steps.run(run, { balancedUrl: lb.url, replicaUrls: lb.upstreams });
  return { rows, v: Object.fromEntries(rows.flatMap((r) => r.verdicts).map((x) => [x.checker, x])) };
}

describe('id-service scale: shared sequences over 3 replicas', () => {
  it('passes on the clean replicas behind the round-robin nginx', async () => {
    const { rows, v } = await runBehind(clean());
    expect(correctnessFailures(rows)).toEqual([]);
    for (const checker of ['replica-shares', 'id-uniqueness', 'id-reconciliation', 'api-isolation']) expect(v[checker]?.status, `${checker}: ${v[checker]?.summary}`).toBe('pass');
  });

  it('fails replica-shares behind an nginx that weights one replica 3:1:1', async () => {
    const { v } = await runBehind(clean(), [3, 1, 1]);
    expect(v['replica-shares']?.status).toBe('fail');
    expect(v['replica-shares']?.summary).toMatch(/^shares 60 % \/ 20 % \/ 20 %/);
    expect(v['id-uniqueness']?.status).toBe('pass');
  });

  it('fails id-uniqueness naming duplicates when the replicas allocate read-then-write (ids.allocate.read-then-write)', async () => {
    const racy: RunningApp[] = await Promise.all([0, 1, 2].map(() => sut.startReplica('id-service', { CRUCIBLE_FAILPOINTS: 'ids.allocate.read-then-write=1' })));
    try {
      // 200/s over 3 sequences (a reservation every 15 ms per sequence) for 3 s: the read and the
      // write of one allocation are milliseconds apart, so hundreds of pairs overlap; at 60/s a
      // run on a loaded machine once produced none.
      const { v } = await runBehind(racy.map((r) => r.url), undefined, sharedSequences({ rate: 200, duration: '3s' }));
      expect(v['id-uniqueness']?.status, v['id-uniqueness']?.summary).toBe('fail');
      expect(v['id-uniqueness']?.summary).toMatch(/duplicate|twice/i);
    } finally {
      await Promise.all(racy.map((r) => r.stop(1000)));
    }
  }, 120_000);
});
