// The cost of five projects against one, at the same total rate.
import { compareDegradation } from '@crucible/checkers';
import { constantArrivalRate, scenario, type ScenarioResult } from '@crucible/load-engine';
import type { SuiteStep } from '@crucible/suite-kit';
import { latencyPercentile, requestAs, type StressContext } from './context.js';

const rate = 100;
const runs = 3;

/**
 * p99 of `GET /tasks/next` at the same total rate with one project versus five projects at
 * once, three runs of each (interleaved, so drift hits both), compared by median with the
 * runs' spread. The `degradation` verdict sits on the last run.
 */
export const degradation: SuiteStep<StressContext> = {
  name: 'degradation: 1 vs 5 projects',
  async run(ctx, kit) {
    const duration = kit.args.profile === 'full' ? '20s' : '4s';
    const results: ScenarioResult[] = [];
    const p99: Record<'one' | 'five', number[]> = { one: [], five: [] };
    for (let i = 0; i < runs; i++) {
      for (const side of ['one', 'five'] as const) {
        const projects = side === 'one' ? ctx.projects.slice(0, 1) : ctx.projects;
        const result = await kit.runOne(
          scenario({
            name: `degradation: ${side === 'one' ? '1 project' : '5 projects'} at ${rate} RPS, run ${i + 1}`,
            executor: constantArrivalRate({ rate, duration, preAllocatedVUs: 20, maxVUs: 200 }),
            warmup: '1s',
            tags: { projects: String(projects.length), run: String(i + 1) },
            request: (it) => requestAs(ctx, it.iteration, projects[it.iteration % projects.length] as string, { path: '/tasks/next' }),
            thresholds: ['rate<0.01'],
          }),
        );
        p99[side].push(latencyPercentile(result, 99));
        results.push(result);
      }
    }
    // 5 ms: below it, p99 differences on a shared 2-core machine are scheduling noise.
    const { verdict } = compareDegradation(p99.one, p99.five, { metric: 'p99 latency of GET /tasks/next (ms), 1 vs 5 projects', bound: 0.1, noiseFloor: 5 });
    results[results.length - 1]?.verdicts.push(verdict);
    kit.log(verdict.summary);
    return results;
  },
};
