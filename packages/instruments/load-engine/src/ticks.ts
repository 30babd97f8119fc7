import { performance } from 'node:perf_hooks';
import type { WindowPoint } from '@crucible/instrument-kit';
import type { Recorder } from './recorder.js';
import type { ScenarioRun } from './scenario-run.js';

/** Emits a scenario's `tick` events while it runs; see {@link startTicks}. */
export interface Ticker {
  /** Stops the 1 s interval. */
  stop(): void;
  /** Emits every second not yet emitted, the last partial one included (after `stop`). */
  flush(): void;
}

/**
 * Emits one `tick` per completed second of the measured phase (seconds by completion time,
 * each with its own histogram), from a 1 s interval that does not keep the process alive;
 * `onSecond` sees each second as it is emitted (the live `abortOnFail` thresholds).
 */
export function startTicks(r: ScenarioRun, rec: Recorder, onSecond?: (point: WindowPoint) => void): Ticker {
  let emitted = 0;
  const emit = (t: number): void => {
    const sec = rec.secondSummary(t);
    r.events.emit('tick', {
      runId: r.runId,
      scenario: r.scenario.name,
      segment: r.segment.label,
      t,
      requests: sec.requests,
      errors: sec.errors,
      rps: sec.requests,
      latencyMs: { p50: sec.p50, p95: sec.p95, p99: sec.p99 },
      histogram: sec.histogram,
      dropped: sec.dropped,
      activeVus: r.busy,
      totalRequests: rec.requests,
      totalErrors: rec.requests - rec.successes,
    });
    onSecond?.({ t, requests: sec.requests, errors: sec.errors, histogram: sec.histogram });
  };
  const timer = setInterval(() => {
    const due = Math.floor((performance.now() - rec.t0) / 1000);
    while (emitted < due) emit(emitted++);
  }, 1000);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
    },
    flush() {
      const last = rec.lastSecond();
      while (emitted <= last) emit(emitted++);
    },
  };
}
