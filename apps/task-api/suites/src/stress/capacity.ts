// Capacity: the highest rate GET /tasks/next sustains within its latency and error limits.
import type { Verdict } from '@crucible/contracts';
import { rampingArrivalRate, scenario, type GeneratorFigures, type ScenarioResult, type TickEvent } from '@crucible/load-engine';
import { expectVerdict } from '@crucible/checkers';
import type { SuiteKit, SuiteStep } from '@crucible/suite-kit';
import { projectOf, requestAs, type StressContext } from './context.js';

const startRate = 50;
/** The 100 RPS requirement must sit inside the capacity found. */
const requiredRps = 100;

/** A second past the limits: p99 over 200 ms or more than 1 % errors (the one failure predicate of the ramp). */
function pastLimits(t: TickEvent): boolean {
  return t.latencyMs.p99 > 200 || (t.requests > 0 && t.errors / t.requests > 0.01);
}

/** The shape of the ramp (the suite's by profile by default; tests run a seconds-long one). */
export interface CapacityShape {
  /** The rate the ramp ends at; default 2000 (quick) or 3000 (full). */
  readonly peak?: number;
  /** Seconds from the start rate to the peak; default 25 (quick) or 60 (full). */
  readonly rampS?: number;
  /** Seconds at the start rate before the measured ramp; default 2. */
  readonly warmupS?: number;
}

/**
 * Ramps the arrival rate on `GET /tasks/next` until two seconds in a row are past the limits,
 * and reports the highest per-second throughput sustained before them (`capacity` verdict:
 * at least 100 RPS).
 */
export function capacityRamp(shape: CapacityShape = {}): SuiteStep<StressContext> {
  return { name: 'capacity', run: (ctx, kit) => runCapacity(ctx, kit, shape) };
}

/** The suite's capacity step, shaped by the profile. */
export const capacity: SuiteStep<StressContext> = capacityRamp();

async function runCapacity(ctx: StressContext, kit: SuiteKit, shape: CapacityShape): Promise<ScenarioResult> {
  const peak = shape.peak ?? (kit.args.profile === 'full' ? 3000 : 2000);
  const rampS = shape.rampS ?? (kit.args.profile === 'full' ? 60 : 25);
  const name = `capacity: GET /tasks/next ramping ${startRate} → ${peak} RPS`;
  const stop = new AbortController();
  const seconds: TickEvent[] = [];
  const watch = (t: TickEvent) => {
    if (t.scenario !== name) return;
    seconds.push(t);
    if (seconds.length >= 2 && seconds.slice(-2).every(pastLimits)) stop.abort();
  };
  kit.events.on('tick', watch);
  const result = await kit.runOne(
    scenario({
      name,
      executor: rampingArrivalRate({ startRate, stages: [{ duration: `${rampS}s`, target: peak }], preAllocatedVUs: 50, maxVUs: 800 }),
      gracefulStop: '3s',
      // Seconds at the start rate first, so start-up noise cannot end the ramp at once.
      warmup: `${shape.warmupS ?? 2}s`,
      tags: { endpoint: 'GET /tasks/next', projects: '5' },
      request: (it) => requestAs(ctx, it.iteration, projectOf(ctx, it.iteration), { path: '/tasks/next', timeoutMs: 5000 }),
    }),
    { signal: stop.signal },
  ).finally(() => kit.events.off('tick', watch));
  // The schedule's rate at a second (the ramp is linear from the start rate to the peak over rampS).
  const targetAt = (t: number) => Math.round(startRate + ((peak - startRate) * Math.min(t, rampS)) / rampS);
  result.verdicts.push(capacityVerdict(seconds, targetAt, result.generator));
  result.evidence.push({
    title: 'Capacity ramp, second by second (requests, errors, p99 ms, target RPS)',
    kind: 'json',
    content: seconds.map((t) => ({ t: t.t, requests: t.requests, errors: t.errors, p99: t.latencyMs.p99, target_rps: targetAt(t.t) })),
  });
  return result;
}

/**
 * The highest per-second throughput among the seconds within the limits before the first pair
 * past them. A capacity under the requirement measured by a starved load generator is the
 * generator's, not the system's: `indeterminate` (the scenario is inconclusive and the step
 * runs once more), never a pass and never a failure of the system.
 */
function capacityVerdict(seconds: readonly TickEvent[], targetAt: (t: number) => number, generator: GeneratorFigures | undefined): Verdict {
  const firstBad = seconds.findIndex((t, i) => pastLimits(t) && seconds[i + 1] !== undefined && pastLimits(seconds[i + 1] as TickEvent));
  const good = (firstBad === -1 ? seconds : seconds.slice(0, firstBad)).filter((t) => !pastLimits(t) && t.requests > 0);
  const sustained = good.length ? Math.max(...good.map((t) => t.requests)) : 0;
  const breakAt = firstBad === -1 ? 0 : targetAt(seconds[firstBad]?.t ?? 0);
  const verdict = expectVerdict(
    'capacity',
    sustained >= requiredRps,
    `${sustained} requests/s sustained within p99 200 ms and 1 % errors (must be at least ${requiredRps}); ${firstBad === -1 ? 'the limits were never crossed' : `limits crossed two seconds in a row at a target of ${breakAt} RPS`}`,
    { capacity_rps: sustained, limit_crossed: firstBad === -1 ? 0 : 1, target_rps_at_break: breakAt, seconds: seconds.length },
  );
  if (verdict.status === 'fail' && generator?.starved) {
    return { ...verdict, status: 'indeterminate', summary: `inconclusive: load generator starved (${generator.reason ?? 'starved'}); ${verdict.summary}` };
  }
  return verdict;
}
