import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setImmediate as yieldToLoop, setTimeout as sleepMs } from 'node:timers/promises';
import { encodeHistogram } from '@crucible/instrument-kit';
import { toMs, type Duration } from './duration.js';
import { EngineEvents, type Sink } from './events.js';
import {
  arrivalOffsets,
  maxVusOf,
  targetRps,
  vusAt,
  type ConstantArrivalRateConfig,
  type ExecutorConfig,
  type RampingArrivalRateConfig,
} from './executors.js';
import { HttpClient, type HttpRequest } from './http-client.js';
import { Recorder } from './recorder.js';
import type { IterationOutcome, RunResult, ScenarioResult } from './result.js';
import type { IterationContext, Scenario } from './scenario.js';
import { indexRange, ownsIndex, parseSegment, scaleVus, type ExecutionSegment } from './segment.js';
import { WebSocketClient } from './ws-client.js';

/** Options of {@link run}. */
export interface RunOptions {
  /** Base URL of `ctx.http` for scenarios that set none, e.g. `http://127.0.0.1:4100`. */
  readonly baseUrl?: string;
  /** Execution segment this process runs (default `0:1`, the whole run). */
  readonly segment?: string;
  /** Sinks (console progress, NDJSON, gateway …), attached before the start and closed after the end. */
  readonly sinks?: readonly Sink[];
  /** An emitter to use (subscribe to it yourself before calling run). */
  readonly events?: EngineEvents;
  readonly runId?: string;
  /** Run scenarios one after another instead of together. */
  readonly sequential?: boolean;
  /** Stops the run early (in-flight iterations get their graceful stop). */
  readonly signal?: AbortSignal;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyScenario = Scenario<any>;

interface Vu {
  readonly id: number;
  readonly vars: Record<string, unknown>;
  readonly ws: WebSocketClient;
  busy: boolean;
}

interface ScenarioRun {
  readonly scenario: AnyScenario;
  readonly runId: string;
  readonly segment: ExecutionSegment;
  readonly events: EngineEvents;
  readonly http: HttpClient;
  readonly abort: AbortController;
  readonly outcomes: IterationOutcome[];
  readonly keep: boolean;
  recorder: Recorder | null;
  readonly breakdownBy: string;
  readonly hasBaseUrl: boolean;
  /** Open models and bursts have intended starts, so their start lag means something. */
  readonly measuresLag: boolean;
  busy: number;
  stopped: boolean;
}

function errorKind(e: unknown): string {
  if (e && typeof e === 'object') {
    const o = e as { code?: unknown; name?: unknown };
    if (typeof o.code === 'string' && o.code) return o.code;
    if (typeof o.name === 'string' && o.name && o.name !== 'Error') return o.name;
  }
  return 'exception';
}

function statusOf(v: unknown): number | undefined {
  if (v && typeof v === 'object' && 'status' in v && typeof (v as { status: unknown }).status === 'number') return (v as { status: number }).status;
  return undefined;
}

async function iterate(r: ScenarioRun, vu: Vu, index: number, intendedAt: number): Promise<void> {
  const s = r.scenario;
  let tags: Record<string, string> | undefined;
  const ctx: IterationContext = {
    scenario: s.name,
    vu: vu.id,
    iteration: index,
    vars: vu.vars,
    ws: vu.ws,
    signal: r.abort.signal,
    http: {
      request: (req: HttpRequest) => {
        if (req.tags) tags = { ...tags, ...req.tags };
        if (!r.hasBaseUrl) return Promise.reject(Object.assign(new Error(`scenario "${s.name}" has no baseUrl (set it on the scenario or in run options)`), { code: 'NO_BASE_URL' }));
        return r.http.request(req);
      },
    },
    tag(key, value) {
      (tags ??= {})[key] = value;
    },
    count(metric, value = 1) {
      r.recorder?.count(metric, value);
    },
    sleep: (d: Duration) => sleepMs(toMs(d), undefined, { signal: r.abort.signal }).catch(() => undefined),
  };
  let value: unknown;
  let error: unknown;
  let threw = false;
  // Late starts are measured from the intended start (no coordinated omission); a start up to
  // a timer tick early is measured from the actual start, so latency is never understated.
  const startedAt = performance.now();
  const from = Math.min(intendedAt, startedAt);
  try {
    value = await s.request(ctx);
  } catch (e) {
    error = e;
    threw = true;
  }
  const end = performance.now();
  const rec = r.recorder;
  if (!rec) return; // warm-up: not counted
  let ok = !threw;
  let kind: string | undefined = threw ? errorKind(error) : undefined;
  const status = threw ? undefined : statusOf(value);
  if (!threw) {
    if (s.checks) {
      for (const name in s.checks) {
        let passed: boolean;
        try {
          passed = Boolean(s.checks[name]?.(value));
        } catch {
          passed = false;
        }
        rec.check(name, passed);
        if (!passed && ok) {
          ok = false;
          kind = `check failed: ${name}`;
        }
      }
    }
    if (ok) {
      const success = s.isSuccess ? s.isSuccess(value) : s.checks ? true : status === undefined || status < 400;
      if (!success) {
        ok = false;
        kind = status === undefined ? 'unsuccessful' : `HTTP ${status}`;
      }
    }
  }
  const latencyMs = end - from;
  rec.record(latencyMs, end, ok, kind);
  if (r.measuresLag) rec.recordLag(startedAt - intendedAt);
  // Per-iteration tags only: a scenario-wide tag would just repeat the totals.
  const sliceValue = tags?.[r.breakdownBy];
  if (sliceValue !== undefined) rec.slice(sliceValue, latencyMs, ok);
  const ev = r.events;
  if (ev.listenerCount('sample') > 0) {
    ev.emit('sample', { runId: r.runId, scenario: s.name, t: end - rec.t0, latencyMs, ok, ...(status === undefined ? {} : { status }), ...(kind ? { error: kind } : {}), tags: { scenario: s.name, ...s.tags, ...tags } });
  }
  if (!ok && ev.listenerCount('error') > 1) {
    ev.emit('error', { runId: r.runId, scenario: s.name, kind: kind ?? 'error', message: threw ? String((error as Error)?.message ?? error) : (kind ?? ''), tags: { scenario: s.name, ...s.tags, ...tags } });
  }
  if (r.keep) r.outcomes.push({ index, vu: vu.id, ok, latencyMs, ...(threw ? {} : { value }), ...(kind ? { error: kind } : {}) });
}

/** Free-list of VUs for open models: pre-allocated, grown up to max. */
class VuPool {
  readonly #free: Vu[] = [];
  #allocated = 0;
  readonly #max: number;
  readonly #make: (id: number) => Vu;
  readonly all: Vu[] = [];

  constructor(pre: number, max: number, make: (id: number) => Vu) {
    this.#max = max;
    this.#make = make;
    for (let i = 0; i < pre; i++) this.#free.push(this.#grow());
  }

  #grow(): Vu {
    const vu = this.#make(this.#allocated++);
    this.all.push(vu);
    return vu;
  }

  acquire(): Vu | undefined {
    const vu = this.#free.pop() ?? (this.#allocated < this.#max ? this.#grow() : undefined);
    if (vu) vu.busy = true;
    return vu;
  }

  release(vu: Vu): void {
    vu.busy = false;
    this.#free.push(vu);
  }
}

function makeVu(r: ScenarioRun, id: number, baseUrl: string | undefined): Vu {
  return { id, vars: {}, ws: new WebSocketClient(baseUrl), busy: false };
}

async function settle(r: ScenarioRun, inflight: Set<Promise<void>>): Promise<void> {
  if (inflight.size === 0) return;
  const all = Promise.all(inflight);
  const cancel = new AbortController();
  const timer = sleepMs(r.scenario.gracefulStopMs, 'timeout' as const, { signal: cancel.signal }).catch(() => 'done' as const);
  const outcome = await Promise.race([all.then(() => 'done' as const), timer]);
  cancel.abort();
  if (outcome === 'timeout') {
    r.abort.abort();
    await r.http.destroy().catch(() => undefined);
    await all;
  }
}

async function runArrival(r: ScenarioRun, e: ConstantArrivalRateConfig | RampingArrivalRateConfig, baseUrl: string | undefined, vuBase: number): Promise<Vu[]> {
  const pool = new VuPool(scaleVus(r.segment, e.preAllocatedVUs), scaleVus(r.segment, e.maxVUs), (i) => makeVu(r, vuBase + i, baseUrl));
  const inflight = new Set<Promise<void>>();
  const t0 = performance.now();
  let index = -1;
  let firedSinceYield = 0;
  for (const offset of arrivalOffsets(e)) {
    index++;
    if (!ownsIndex(r.segment, index)) continue;
    if (r.stopped) break;
    const due = t0 + offset;
    const wait = due - performance.now();
    if (wait >= 1) {
      await sleepMs(wait);
      firedSinceYield = 0;
    } else if (++firedSinceYield >= 64) {
      // Catching up on a backlog: let responses be processed between batches.
      await yieldToLoop();
      firedSinceYield = 0;
    }
    const vu = pool.acquire();
    if (!vu) {
      r.recorder?.drop(due);
      continue;
    }
    r.busy++;
    const p = iterate(r, vu, index, due).finally(() => {
      r.busy--;
      pool.release(vu);
      inflight.delete(p);
    });
    inflight.add(p);
  }
  await settle(r, inflight);
  return pool.all;
}

async function runVus(r: ScenarioRun, e: ExecutorConfig & { type: 'constant-vus' | 'ramping-vus' }, baseUrl: string | undefined, vuBase: number): Promise<Vu[]> {
  const total = e.type === 'constant-vus' ? e.vus : maxVusOf(e);
  const durationMs = e.type === 'constant-vus' ? e.durationMs : e.stages.reduce((a, s) => a + s.durationMs, 0);
  const owned: number[] = [];
  if (e.type === 'constant-vus') {
    const [from, to] = indexRange(r.segment, total);
    for (let v = from; v < to; v++) owned.push(v);
  } else {
    for (let v = 0; v < total; v++) if (ownsIndex(r.segment, v)) owned.push(v);
  }
  const t0 = performance.now();
  const end = t0 + durationMs;
  const vus = owned.map((v) => makeVu(r, vuBase + v, baseUrl));
  const inflight = new Set<Promise<void>>();
  const loops = vus.map(async (vu, i) => {
    const global = owned[i] as number;
    let n = 0;
    for (;;) {
      const now = performance.now();
      if (now >= end || r.stopped) return;
      if (e.type === 'ramping-vus' && global >= Math.round(vusAt(e, now - t0))) {
        await sleepMs(Math.min(50, end - now));
        continue;
      }
      r.busy++;
      vu.busy = true;
      const p = iterate(r, vu, n++, performance.now());
      inflight.add(p);
      await p;
      inflight.delete(p);
      vu.busy = false;
      r.busy--;
    }
  });
  await Promise.all(loops);
  await settle(r, inflight);
  return vus;
}

async function runBurst(r: ScenarioRun, requests: number, baseUrl: string | undefined): Promise<Vu[]> {
  const [from, to] = indexRange(r.segment, requests);
  const vus: Vu[] = [];
  let release!: (at: number) => void;
  const gate = new Promise<number>((resolve) => (release = resolve));
  const all: Array<Promise<void>> = [];
  for (let i = from; i < to; i++) {
    const vu = makeVu(r, i, baseUrl);
    vus.push(vu);
    all.push(gate.then((at) => iterate(r, vu, i, at)));
  }
  await yieldToLoop();
  r.busy = to - from;
  release(performance.now());
  const inflight = new Set(all);
  await settle(r, inflight);
  r.busy = 0;
  return vus;
}

async function runExecutor(r: ScenarioRun, e: ExecutorConfig, baseUrl: string | undefined): Promise<Vu[]> {
  switch (e.type) {
    case 'constant-arrival-rate':
    case 'ramping-arrival-rate':
      return runArrival(r, e, baseUrl, 0);
    case 'constant-vus':
    case 'ramping-vus':
      return runVus(r, e, baseUrl, 0);
    case 'burst':
      return runBurst(r, e.requests, baseUrl);
  }
}

function warmupExecutor(e: ExecutorConfig, ms: number): ExecutorConfig | null {
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

function connectionsFor(s: AnyScenario, segment: ExecutionSegment): number {
  if (s.connections) return s.connections;
  const e = s.executor;
  const n = e.type === 'constant-arrival-rate' || e.type === 'ramping-arrival-rate' ? scaleVus(segment, e.maxVUs) : e.type === 'constant-vus' ? scaleVus(segment, e.vus) : e.type === 'ramping-vus' ? scaleVus(segment, maxVusOf(e)) : e.requests;
  return Math.max(1, Math.min(1024, n));
}

async function runScenario(s: AnyScenario, runId: string, segment: ExecutionSegment, events: EngineEvents, options: RunOptions): Promise<ScenarioResult> {
  const baseUrl = s.baseUrl ?? options.baseUrl;
  const r: ScenarioRun = {
    scenario: s,
    runId,
    segment,
    events,
    http: new HttpClient(baseUrl ?? 'http://127.0.0.1:9', { connections: connectionsFor(s, segment) }),
    abort: new AbortController(),
    outcomes: [],
    keep: s.keepResponses ?? s.executor.type === 'burst',
    recorder: null,
    breakdownBy: s.breakdownBy ?? 'endpoint',
    hasBaseUrl: baseUrl !== undefined,
    measuresLag: s.executor.type !== 'constant-vus' && s.executor.type !== 'ramping-vus',
    busy: 0,
    stopped: false,
  };
  const onAbort = (): void => {
    r.stopped = true;
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const vus: Vu[] = [];
  try {
    if (s.startTimeMs > 0) await sleepMs(s.startTimeMs);
    const warm = s.warmupMs > 0 ? warmupExecutor(s.executor, s.warmupMs) : null;
    if (warm) {
      events.emit('scenario-start', { runId, scenario: s.name, phase: 'warmup', executor: s.executor });
      vus.push(...(await runExecutor(r, warm, baseUrl)));
    }
    const startedAt = new Date();
    const rec = new Recorder(performance.now());
    r.recorder = rec;
    events.emit('scenario-start', { runId, scenario: s.name, phase: 'measure', executor: s.executor });
    let emitted = 0;
    const emitTick = (t: number): void => {
      const sec = rec.secondSummary(t);
      events.emit('tick', {
        run_id: runId,
        scenario: s.name,
        segment: segment.label,
        t,
        requests: sec.requests,
        errors: sec.errors,
        rps: sec.requests,
        latency_ms: { p50: sec.p50, p95: sec.p95, p99: sec.p99 },
        histogram: sec.histogram,
        dropped: sec.dropped,
        active_vus: r.busy,
        total_requests: rec.requests,
        total_errors: rec.requests - rec.successes,
      });
    };
    const ticker = setInterval(() => {
      const due = Math.floor((performance.now() - rec.t0) / 1000);
      while (emitted < due) emitTick(emitted++);
    }, 1000);
    ticker.unref();
    try {
      vus.push(...(await runExecutor(r, s.executor, baseUrl)));
    } finally {
      clearInterval(ticker);
    }
    const durationS = (performance.now() - rec.t0) / 1000;
    const last = rec.lastSecond();
    while (emitted <= last) emitTick(emitted++);
    const result: ScenarioResult = {
      name: s.name,
      executor: s.executor,
      tags: { ...s.tags },
      segment: segment.label,
      startedAt: startedAt.toISOString(),
      durationS: Math.round(durationS * 1000) / 1000,
      requests: rec.requests,
      successes: rec.successes,
      errors: { ...rec.errors },
      dropped: rec.dropped,
      checks: { ...rec.checks },
      metrics: { ...rec.metrics },
      histogram: encodeHistogram(rec.total),
      ...(r.measuresLag ? { lagHistogram: encodeHistogram(rec.lag) } : {}),
      series: rec.series(),
      ...(rec.slices.size > 0 ? { breakdown: { tag: r.breakdownBy, entries: rec.breakdown() } } : {}),
      thresholds: [...s.thresholds],
      rpsTarget: targetRps(s.executor) === null ? null : (targetRps(s.executor) as number) * (segment.end - segment.start),
      latencyBasis: s.executor.type === 'constant-arrival-rate' || s.executor.type === 'ramping-arrival-rate' || s.executor.type === 'burst' ? 'intended' : 'actual',
      outcomes: r.outcomes,
      verdicts: [],
      evidence: [],
    };
    rec.destroy();
    events.emit('scenario-done', { runId, result });
    return result;
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    for (const vu of vus) vu.ws.closeAll();
    await r.http.close().catch(() => undefined);
  }
}

/**
 * Runs scenarios (together, or one after another with `sequential`) and returns what they
 * measured. Events go to `options.events` and to the sinks; the engine itself never prints.
 *
 * @example
 * const result = await run([reserve], { baseUrl: sut.url('id-service'), sinks: [consoleSink()] });
 * const report = buildReport(result, { suite: 'id-service stress' });
 */
export async function run(scenarios: AnyScenario | readonly AnyScenario[], options: RunOptions = {}): Promise<RunResult> {
  const list: readonly AnyScenario[] = Array.isArray(scenarios) ? scenarios : [scenarios as AnyScenario];
  const names = new Set<string>();
  for (const s of list) {
    if (names.has(s.name)) throw new Error(`two scenarios are named "${s.name}": names must be unique within a run`);
    names.add(s.name);
  }
  const segment = parseSegment(options.segment ?? '0:1');
  const events = options.events ?? new EngineEvents();
  for (const sink of options.sinks ?? []) sink.attach(events);
  const runId = options.runId ?? randomUUID();
  const startedAt = new Date();
  events.emit('start', { runId, startedAt: startedAt.toISOString(), segment: segment.label, scenarios: list.map((s) => ({ name: s.name, executor: s.executor, tags: s.tags })) });
  try {
    const results: ScenarioResult[] = [];
    if (options.sequential) {
      for (const s of list) results.push(await runScenario(s, runId, segment, events, options));
    } else {
      results.push(...(await Promise.all(list.map((s) => runScenario(s, runId, segment, events, options)))));
    }
    const result: RunResult = { runId, startedAt: startedAt.toISOString(), finishedAt: new Date().toISOString(), segment: segment.label, scenarios: results };
    events.emit('done', { runId, result });
    return result;
  } finally {
    for (const sink of options.sinks ?? []) await sink.close?.();
  }
}
