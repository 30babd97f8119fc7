// The cost of five projects against one, at the same total rate.
import { constantArrivalRate, decodeHistogram, percentileMs, scenario, type ScenarioResult } from '@crucible/load-engine';
import { combineDegradations, compareDegradation } from '@crucible/checkers';
import { median } from '@crucible/instrument-kit';
import { interleavedPairs, type SuiteStep } from '@crucible/suite-kit';
import { latencyPercentile, requestAs, type StressContext } from './context.js';

/** How the degradation step measures; the defaults are the suite's. */
export interface DegradationPlan {
  /** Total `GET /tasks/next` rate of every run (default 100/s). */
  readonly rate?: number;
  /** Interleaved pairs of runs (default 10: the verdict fails only when all pairs but one agree). */
  readonly pairs?: number;
  /** Measured length of each run (default 2 s; 10 s with `--profile=full`). */
  readonly duration?: string;
  /** Unmeasured warm-up before each run (default 500 ms). */
  readonly warmup?: string;
  /** How many more times a pair whose load generator was starved is measured (default 1). */
  readonly retries?: number;
}

/**
 * A run's p99 as the degradation verdict reads it: the p99 of each measured second, median
 * over the run's seconds. A CPU stall from a neighbour on the shared machine lands in one or
 * two seconds and moves the whole-run p99 by 10× (a stalled second holds every request sent
 * during it); the median second is what the service costs per request, which is what 1 vs 5
 * projects must not change.
 */
export function steadyP99(result: ScenarioResult): number {
  const seconds = result.series.filter((s) => s.requests > 0).map((s) => {
    const h = decodeHistogram(s.histogram);
    const v = percentileMs(h, 99);
    h.destroy();
    return v;
  });
  return seconds.length ? Math.round(median(seconds) * 1000) / 1000 : NaN;
}

/**
 * `GET /tasks/next` at the same total rate with one project versus five projects at once, in
 * interleaved pairs (1 then 5, then 5 then 1, …, so load that drifts over the step hits both
 * sides alike), judged by `compareDegradation` on two figures of every run, each within 10 %
 * (the change of the medians; a fail must show in all pairs but one):
 *
 * - p50, the typical request;
 * - p99 ({@link steadyP99}), the tail.
 *
 * A pair in which the load generator was starved (its own lag is then in the latencies) is
 * measured again, at most `retries` more times, and left out if it stays starved; with fewer
 * than 3 pairs left the verdict is `indeterminate`, naming the starvation.
 *
 * The noise floor of each is measured from the 1-project runs' spread and capped at 2.5 % of
 * their median. One `degradation` verdict on the last run: `fail` if either figure fails.
 *
 * @example
 * steps: [degradationStep()]                                    // the suite's
 * await degradationStep({ pairs: 4, duration: '2s' }).run(ctx, kit) // a test's, in seconds
 */
export function degradationStep(plan: DegradationPlan = {}): SuiteStep<StressContext> {
  const rate = plan.rate ?? 100;
  const pairs = plan.pairs ?? 10;
  const retries = plan.retries ?? 1;
  return {
    name: 'degradation: 1 vs 5 projects',
    async run(ctx, kit) {
      const duration = plan.duration ?? (kit.args.profile === 'full' ? '10s' : '2s');
      const results: ScenarioResult[] = [];
      const measure = (side: 'one' | 'five', i: number, attempt: number) => {
        const projects = side === 'one' ? ctx.projects.slice(0, 1) : ctx.projects.slice(0, 5);
        return kit.runOne(
          scenario({
            name: `degradation: ${side === 'one' ? '1 project' : '5 projects'} at ${rate} RPS, pair ${i + 1}${attempt > 0 ? ` (attempt ${attempt + 1})` : ''}`,
            executor: constantArrivalRate({ rate, duration, preAllocatedVUs: 20, maxVUs: 200 }),
            warmup: plan.warmup ?? '500ms',
            tags: { projects: String(projects.length), pair: String(i + 1) },
            request: (it) => requestAs(ctx, it.iteration, projects[it.iteration % projects.length] as string, { path: '/tasks/next' }),
            thresholds: ['rate<0.01'],
          }),
        );
      };
      // Every attempt's result is kept for the report; only the kept pairs are compared.
      const { runs, leaveOut: starved } = await interleavedPairs(['one', 'five'] as const, pairs, retries, async (side, i, attempt) => {
        const result = await measure(side, i, attempt);
        results.push(result);
        return result;
      }, kit.log);
      const figures = (f: (r: ScenarioResult) => number) => [runs.one.map(f), runs.five.map(f)] as const;
      const options = { bound: 0.1, noiseFloorCap: 0.025 };
      const verdict = combineDegradations('degradation', {
        p50: compareDegradation(...figures((r) => latencyPercentile(r, 50)), { ...options, metric: 'p50 of GET /tasks/next (ms), 1 vs 5 projects', leaveOut: starved }),
        p99: compareDegradation(...figures(steadyP99), { ...options, metric: 'p99 of GET /tasks/next per second (ms, median second), 1 vs 5 projects', leaveOut: starved }),
      });
      results[results.length - 1]?.verdicts.push(verdict);
      kit.log(`${verdict.status}: ${verdict.summary}`);
      return results;
    },
  };
}

/** The suite's degradation step. */
export const degradation = degradationStep();
