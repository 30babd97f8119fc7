import { performance } from 'node:perf_hooks';
import { setTimeout as sleepMs } from 'node:timers/promises';
import { encodeHistogram, percentileMs } from '@crucible/instrument-kit';
import type { EngineEvents } from './events.js';
import { runExecutor } from './executor-loops.js';
import { maxVusOf, targetRps } from './executors.js';
import { HttpClient } from './http-client.js';
import { Recorder } from './recorder.js';
import type { ScenarioResult } from './result.js';
import type { AnyScenario, ScenarioRun, Vu } from './scenario-run.js';
import { scaleVus, type ExecutionSegment } from './segment.js';
import { classifyGenerator, startGeneratorMonitor, type GeneratorFigures } from './starvation.js';
import { startTicks } from './ticks.js';
import { AbortWatch, type AbortRecord } from './abort-watch.js';
import { warmupExecutor } from './warmup.js';

/** Where one scenario runs: its run, segment, emitter, default base URL and stop signals. */
export interface ScenarioEnv {
  readonly runId: string;
  readonly segment: ExecutionSegment;
  readonly events: EngineEvents;
  readonly baseUrl: string | undefined;
  /** Any of them stops the scenario (in-flight iterations get their graceful stop). */
  readonly signals: readonly AbortSignal[];
}

function connectionsFor(s: AnyScenario, segment: ExecutionSegment): number {
  if (s.connections) return s.connections;
  const e = s.executor;
  const n = e.type === 'constant-arrival-rate' || e.type === 'ramping-arrival-rate' ? scaleVus(segment, e.maxVUs) : e.type === 'constant-vus' ? scaleVus(segment, e.vus) : e.type === 'ramping-vus' ? scaleVus(segment, maxVusOf(e)) : e.requests;
  return Math.max(1, Math.min(1024, n));
}

function resultOf(r: ScenarioRun, rec: Recorder, startedAt: Date, durationS: number, generator: GeneratorFigures, aborted: AbortRecord | undefined): ScenarioResult {
  const s = r.scenario;
  const target = targetRps(s.executor);
  return {
    name: s.name,
    executor: s.executor,
    tags: { ...s.tags },
    segment: r.segment.label,
    startedAt: startedAt.toISOString(),
    durationS: Math.round(durationS * 1000) / 1000,
    requests: rec.requests,
    successes: rec.successes,
    errors: { ...rec.errors },
    dropped: rec.dropped,
    checks: { ...rec.checks },
    metrics: { ...rec.metrics },
    rates: { ...rec.rates },
    histogram: encodeHistogram(rec.total),
    ...(r.measuresLag ? { lagHistogram: encodeHistogram(rec.lag) } : {}),
    generator,
    series: rec.series(),
    ...(rec.slices.size > 0 ? { breakdown: { tag: r.breakdownBy, entries: rec.breakdown() } } : {}),
    thresholds: [...s.thresholds],
    ...(aborted ? { aborted } : {}),
    rpsTarget: target === null ? null : target * (r.segment.end - r.segment.start),
    latencyBasis: s.executor.type === 'constant-arrival-rate' || s.executor.type === 'ramping-arrival-rate' || s.executor.type === 'burst' ? 'intended' : 'actual',
    outcomes: r.outcomes,
    verdicts: [],
    evidence: [],
  };
}

/**
 * Runs one scenario: its start delay, its warm-up (sent, not counted), then the measured
 * phase with per-second ticks; emits `scenario-start` and `scenario-done`, and always closes
 * its sockets and HTTP pool.
 */
export async function runScenario(s: AnyScenario, env: ScenarioEnv): Promise<ScenarioResult> {
  const baseUrl = s.baseUrl ?? env.baseUrl;
  const { runId, segment, events } = env;
  const r: ScenarioRun = {
    scenario: s,
    runId,
    segment,
    events,
    http: new HttpClient(baseUrl ?? 'http://127.0.0.1:9', { connections: connectionsFor(s, segment) }),
    baseUrl,
    abort: new AbortController(),
    outcomes: [],
    keep: s.keepResponses ?? s.executor.type === 'burst',
    recorder: null,
    breakdownBy: s.breakdownBy ?? 'endpoint',
    measuresLag: s.executor.type !== 'constant-vus' && s.executor.type !== 'ramping-vus',
    busy: 0,
    stopped: false,
    fatal: undefined,
  };
  const onAbort = (): void => {
    r.stopped = true;
  };
  for (const signal of env.signals) {
    if (signal.aborted) r.stopped = true;
    else signal.addEventListener('abort', onAbort, { once: true });
  }
  const vus: Vu[] = [];
  try {
    if (s.startTimeMs > 0) await sleepMs(s.startTimeMs);
    const warm = s.warmupMs > 0 ? warmupExecutor(s.executor, s.warmupMs) : null;
    if (warm) {
      events.emit('scenario-start', { runId, scenario: s.name, phase: 'warmup', executor: s.executor });
      vus.push(...(await runExecutor(r, warm)));
      if (r.fatal) throw r.fatal;
    }
    const startedAt = new Date();
    const rec = new Recorder(performance.now(), s.metrics);
    r.recorder = rec;
    events.emit('scenario-start', { runId, scenario: s.name, phase: 'measure', executor: s.executor });
    // abortOnFail thresholds, judged each second: the first to fail stops the schedule (in-flight iterations finish).
    const watch = new AbortWatch(s.abortOn);
    let aborted: AbortRecord | undefined;
    const ticker = startTicks(
      r,
      rec,
      watch.active
        ? (point) => {
            if (aborted) return;
            aborted = watch.second(point, rec);
            if (aborted) r.stopped = true;
          }
        : undefined,
    );
    const monitor = startGeneratorMonitor();
    let measured;
    try {
      vus.push(...(await runExecutor(r, s.executor)));
    } finally {
      ticker.stop();
      const lagged = r.measuresLag && rec.lag.totalCount > 0;
      measured = monitor.stop(lagged ? percentileMs(rec.lag, 99) : null);
    }
    if (r.fatal) {
      rec.destroy();
      throw r.fatal;
    }
    const durationS = (performance.now() - rec.t0) / 1000;
    ticker.flush();
    const generator = classifyGenerator(measured, { burst: s.executor.type === 'burst' });
    const result = resultOf(r, rec, startedAt, durationS, generator, aborted);
    rec.destroy();
    events.emit('scenario-done', { runId, result });
    return result;
  } finally {
    for (const signal of env.signals) signal.removeEventListener('abort', onAbort);
    for (const vu of vus) vu.ws.closeAll();
    await r.http.close().catch(() => undefined);
  }
}
