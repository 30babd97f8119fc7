import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';

/**
 * Bounds past which the load generator counts as starved: its own figures, not the system's,
 * explain the latency and throughput it measured. Chosen from measurements on the project's
 * 2-core machine (packages/instruments/load-engine/README.md, "Starved load generator"):
 * quiet stress runs stay far below each, a busy-loop hog on both cores goes far past them.
 */
export const STARVATION_BOUNDS = Object.freeze({
  /** Event-loop delay p99 (ms) of the generator's thread: starved past it, whatever else. */
  loopDelayP99Ms: 50,
  /** Start lag p99 (ms) of open-model iterations (actual − intended start): starved past it, whatever else. */
  lagP99Ms: 100,
  /**
   * Least share of the CPU time the generator's thread asked for that it got
   * (on-CPU / (on-CPU + waiting on the run queue), Linux `/proc/thread-self/schedstat`):
   * under it the generator is short of CPU, and starved once that shows in its timing.
   */
  minCpuShare: 0.5,
  /** Event-loop delay or start lag p99 (ms) past which a short share shows in the generator's timing. */
  shownMs: 10,
  /** A share this short is starvation even where the timing still looks kept (a hog took the cores). */
  hardMinCpuShare: 0.4,
  /** A burst (its loop blocked and its starts late by design) is starved under this share alone. */
  burstMinCpuShare: 0.25,
});

/** What one scenario's load generator went through while it measured (plain JSON). */
export interface GeneratorFigures {
  /** Start lag p99 (ms) of open-model iterations; null for closed models (no intended start). */
  readonly lagP99Ms: number | null;
  /** Event-loop delay p99 and max (ms) of the thread that ran the scenario. */
  readonly loopDelayP99Ms: number;
  readonly loopDelayMaxMs: number;
  /**
   * Share of the CPU time the generator's thread wanted that it got (1 = never waited for a
   * core); null where the kernel does not say (not Linux) or it asked for under 50 ms in all.
   */
  readonly cpuShare: number | null;
  /** CPU the whole generator process used, in cores (user + system time / wall time): context. */
  readonly cpuCores: number;
  /** The machine's 1-minute load average per core at the end: context, never a cause alone. */
  readonly loadPerCore: number;
  /** Whether a figure went past {@link STARVATION_BOUNDS}. */
  readonly starved: boolean;
  /** Which figures went past which bound, when starved. */
  readonly reason: string | null;
}

/** Figures before classification (see {@link classifyGenerator}). */
export type GeneratorMeasurement = Omit<GeneratorFigures, 'starved' | 'reason'>;

const round = (n: number, digits = 2): number => Math.round(n * 10 ** digits) / 10 ** digits;

/** On-CPU and run-queue wait (ns) of the calling thread, or null where unavailable. */
function threadSchedstat(): { onCpu: number; waiting: number } | null {
  try {
    const [onCpu, waiting] = readFileSync('/proc/thread-self/schedstat', 'utf8').trim().split(/\s+/).map(Number);
    return onCpu === undefined || waiting === undefined || Number.isNaN(onCpu) || Number.isNaN(waiting) ? null : { onCpu, waiting };
  } catch {
    return null;
  }
}

// 10 ms: fine enough for a 50 ms bound, cheap enough not to load the loop itself.
const LOOP_RESOLUTION_MS = 10;
const MIN_DEMAND_NS = 50e6;

/** A running monitor; {@link GeneratorMonitor.stop} ends it and returns what it saw. */
export interface GeneratorMonitor {
  stop(lagP99Ms: number | null): GeneratorMeasurement;
}

/**
 * Starts watching the calling thread as a load generator: its event-loop delay
 * (`monitorEventLoopDelay`), its CPU share of what it asked for (run-queue wait), the process's
 * CPU use and the machine's load. One per scenario's measured phase.
 *
 * @example
 * const m = startGeneratorMonitor();
 * // … run the load …
 * const figures = classifyGenerator(m.stop(lagP99));
 */
export function startGeneratorMonitor(): GeneratorMonitor {
  const loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  loop.enable();
  const wall0 = performance.now();
  const cpu0 = process.cpuUsage();
  const sched0 = threadSchedstat();
  return {
    stop(lagP99Ms) {
      loop.disable();
      const wallMs = Math.max(1, performance.now() - wall0);
      const cpu = process.cpuUsage(cpu0);
      const sched1 = threadSchedstat();
      let cpuShare: number | null = null;
      if (sched0 && sched1) {
        const on = sched1.onCpu - sched0.onCpu;
        const wait = sched1.waiting - sched0.waiting;
        // Below 50 ms of CPU asked for, a share is a handful of scheduler slices: noise, not a figure.
        cpuShare = on + wait < MIN_DEMAND_NS ? null : round(on / (on + wait), 3);
      }
      // Each sample is the whole timer interval: the delay is what exceeds the resolution.
      const delayMs = (ns: number): number => (loop.count > 0 ? round(Math.max(0, ns / 1e6 - LOOP_RESOLUTION_MS)) : 0);
      return {
        lagP99Ms: lagP99Ms === null ? null : round(lagP99Ms),
        loopDelayP99Ms: delayMs(loop.percentile(99)),
        loopDelayMaxMs: delayMs(loop.max),
        cpuShare,
        cpuCores: round((cpu.user + cpu.system) / 1000 / wallMs, 3),
        loadPerCore: round((loadavg()[0] ?? 0) / Math.max(1, cpus().length)),
      };
    },
  };
}

/**
 * Classifies measured figures against the bounds: starved when the event-loop delay p99 or the
 * start lag p99 goes past its bound, when the CPU share is under `hardMinCpuShare`, or when it
 * is under `minCpuShare` and that shows in either (past `shownMs`); a burst, when its CPU share is under `burstMinCpuShare`. The load average
 * is reported but never decides (a loaded machine whose generator still kept time measured truly).
 */
export function classifyGenerator(m: GeneratorMeasurement, options: { burst?: boolean; bounds?: typeof STARVATION_BOUNDS } = {}): GeneratorFigures {
  const bounds = options.bounds ?? STARVATION_BOUNDS;
  const past: string[] = [];
  const pct = (x: number): string => `${Math.round(x * 100)} %`;
  if (options.burst) {
    // A burst blocks its own loop on purpose while it releases every request at one instant,
    // and its last requests start late by design: only its CPU share says it was starved.
    if (m.cpuShare !== null && m.cpuShare < bounds.burstMinCpuShare) past.push(`CPU share ${pct(m.cpuShare)} < ${pct(bounds.burstMinCpuShare)} of what it asked for`);
  } else {
    if (m.loopDelayP99Ms > bounds.loopDelayP99Ms) past.push(`event-loop delay p99 ${m.loopDelayP99Ms} ms > ${bounds.loopDelayP99Ms} ms`);
    if (m.lagP99Ms !== null && m.lagP99Ms > bounds.lagP99Ms) past.push(`start lag p99 ${m.lagP99Ms} ms > ${bounds.lagP99Ms} ms`);
    // Short of CPU, and it shows: the generator's own waits are in the latencies it measured.
    const shows = m.loopDelayP99Ms > bounds.shownMs || (m.lagP99Ms !== null && m.lagP99Ms > bounds.shownMs);
    if (past.length === 0 && m.cpuShare !== null && m.cpuShare < bounds.hardMinCpuShare) {
      past.push(`CPU share ${pct(m.cpuShare)} < ${pct(bounds.hardMinCpuShare)} of what it asked for`);
    } else if (past.length === 0 && m.cpuShare !== null && m.cpuShare < bounds.minCpuShare && shows) {
      past.push(`CPU share ${pct(m.cpuShare)} < ${pct(bounds.minCpuShare)} of what it asked for, with event-loop delay p99 ${m.loopDelayP99Ms} ms${m.lagP99Ms === null ? '' : ` and start lag p99 ${m.lagP99Ms} ms`} (> ${bounds.shownMs} ms)`);
    }
  }
  return { ...m, starved: past.length > 0, reason: past.length > 0 ? past.join('; ') : null };
}

/**
 * The worst figures of several segments of one scenario (worker threads, processes): a
 * scenario is starved when any of its generators was.
 */
export function mergeGenerators(parts: readonly GeneratorFigures[], lagP99Ms: number | null, burst = false): GeneratorFigures | undefined {
  if (parts.length === 0) return undefined;
  const shares = parts.flatMap((p) => (p.cpuShare === null ? [] : [p.cpuShare]));
  const m: GeneratorMeasurement = {
    lagP99Ms,
    loopDelayP99Ms: Math.max(...parts.map((p) => p.loopDelayP99Ms)),
    loopDelayMaxMs: Math.max(...parts.map((p) => p.loopDelayMaxMs)),
    cpuShare: shares.length > 0 ? Math.min(...shares) : null,
    // Threads of one process each report the whole process: the largest, not the sum.
    cpuCores: Math.max(...parts.map((p) => p.cpuCores)),
    loadPerCore: Math.max(...parts.map((p) => p.loadPerCore)),
  };
  const c = classifyGenerator(m, { burst });
  // A segment judged starved stays starved even if the merged figures hide it.
  if (c.starved || !parts.some((p) => p.starved)) return c;
  return { ...c, starved: true, reason: parts.flatMap((p) => (p.reason ? [p.reason] : [])).join('; ') };
}
