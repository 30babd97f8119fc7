import type { ExecutorConfig } from './executors.js';

/**
 * The executor a warm-up of `ms` runs: the scenario's load held constant (an arrival rate at
 * its start rate, VUs at their start count); null when there is nothing to warm up (a burst,
 * a ramp from zero).
 */
export function warmupExecutor(e: ExecutorConfig, ms: number): ExecutorConfig | null {
  switch (e.type) {
    case 'constant-arrival-rate':
      return { ...e, durationMs: ms };
    case 'ramping-arrival-rate': {
      const rate = Math.max(e.startRate, e.stages[0]?.target ?? 0);
      return rate <= 0 ? null : { type: 'constant-arrival-rate', rate, timeUnitMs: e.timeUnitMs, durationMs: ms, preAllocatedVUs: e.preAllocatedVUs, maxVUs: e.maxVUs };
    }
    case 'constant-vus':
      return { ...e, durationMs: ms };
    case 'ramping-vus':
      return { type: 'constant-vus', vus: Math.max(1, e.startVUs, Math.ceil(e.stages[0]?.target ?? 0)), durationMs: ms };
    case 'burst':
      return null;
  }
}
