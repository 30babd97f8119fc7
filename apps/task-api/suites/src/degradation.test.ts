// The degradation verdict (1 vs 5 projects), shown failing on a real task-api that spends
// time per active project (failpoint `tasks.next.per-project-cost`) and passing on the clean
// one: the suite's own step, with fewer and shorter runs, on a real PostgreSQL over HTTP.
import type { Verdict } from '@crucible/contracts';
import { openStepRunner } from '@crucible/suite-kit/testing';
import { startSut } from '@crucible/testbed';
import { testServer } from '@crucible/testbed/testing';
import { describe, expect, it } from 'vitest';
import { Replicas, type StressContext } from './stress/context.js';
import { degradationStep, type DegradationPlan } from './stress/degradation.js';
import { seedProjects } from './stress/seed.js';

/** Runs the degradation step on a fresh task-api (one replica) and five seeded projects; resolves to its verdict. */
async function degradationVerdict(name: string, plan: DegradationPlan, failpoints?: string): Promise<Verdict | undefined> {
  const sut = await startSut({
    server: testServer(),
    apps: ['task-api'],
    env: { LOG_LEVEL: 'silent', ...(failpoints ? { CRUCIBLE_FAILPOINTS: failpoints } : {}) },
  });
  const replicas = new Replicas([sut.url('task-api')], 64);
  const steps = openStepRunner(sut);
  try {
    const projects = ['a', 'b', 'c', 'd', 'e'].map((p) => `${name}-${p}`);
    const keys: Record<string, string> = {};
    for (const p of projects) keys[p] = (await sut.createProject(p)).api_key;
    const ctx: StressContext = { replicas, projects, keys, seeded: await seedProjects(steps.db, projects, 50) };
    const rows = await steps.run(degradationStep(plan), ctx);
    const verdict = rows.flatMap((r) => r.verdicts).find((v) => v.checker === 'degradation');
    // The figures, for whoever reads the test log (a latency verdict on a shared machine).
    console.log(`degradation ${name}: ${verdict?.status ?? 'missing'}: ${verdict?.summary ?? ''}`);
    return verdict;
  } finally {
    await replicas.close();
    await steps.close();
    await sut.stop();
  }
}

// Four pairs of 2-second runs, none measured again (the suite: ten pairs, a starved one
// measured once more): ~25 s per case.
const plan: DegradationPlan = { pairs: 4, duration: '2s', warmup: '500ms', retries: 0 };

/**
 * Whether the verdict could not judge because the load generator stayed starved (fewer than
 * three pairs left): then latency says nothing about the service, and the test is skipped,
 * saying so, rather than passed or failed in silence.
 */
function starvedOut(verdict: Verdict | undefined): boolean {
  return verdict?.status === 'indeterminate' && (verdict.counts['p50.pairs'] ?? 0) < 3 && (verdict.counts['p50.pairs_left_out'] ?? 0) > 0;
}

describe('degradation verdict (1 vs 5 projects)', () => {
  it('does not fail on the clean task-api', async (t) => {
    const verdict = await degradationVerdict('clean', plan);
    if (starvedOut(verdict)) t.skip(`load generator starved throughout: ${verdict?.summary ?? ''}`);
    // No false alarm: neither figure fails. Four short pairs cannot always resolve 10 % on a
    // shared machine (the suite runs ten), so either may be indeterminate, never fail.
    expect(verdict?.status, verdict?.summary).not.toBe('fail');
    expect(verdict?.counts['p50.pairs']).toBeGreaterThanOrEqual(3);
  });

  it('fails when GET /tasks/next spends 2 ms per project active in the last second', async (t) => {
    // Probability 1: a per-project cost is paid on every call (a walk over every active
    // project's state), a deterministic performance defect rather than a race. One project
    // costs 2 ms more, five cost 10 ms more, against a p50 of ~3 ms: every pair is past the
    // 10 % bound on the p50 unless the load generator is starved (then the test is skipped).
    const verdict = await degradationVerdict('per-project-cost', plan, 'tasks.next.per-project-cost=1');
    if (starvedOut(verdict)) t.skip(`load generator starved throughout: ${verdict?.summary ?? ''}`);
    expect(verdict?.status, verdict?.summary).toBe('fail');
    expect(verdict?.summary).toMatch(/^p50 fail: p50 of GET \/tasks\/next \(ms\), 1 vs 5 projects: .* past the 10\.0% bound, (\d) of \1 interleaved pairs past it/);
    expect(verdict?.counts['p50.change']).toBeGreaterThan(0.5);
  });
});
