import { EventEmitter } from 'node:events';
import type { ExecutorConfig } from './executors.js';
import type { RunResult, ScenarioResult } from './result.js';

/** Emitted once when a run starts. */
export interface StartEvent {
  readonly runId: string;
  readonly startedAt: string;
  readonly segment: string;
  readonly scenarios: ReadonlyArray<{ readonly name: string; readonly executor: ExecutorConfig; readonly tags: Readonly<Record<string, string>> }>;
}

/** Emitted when a scenario enters its warm-up or its measured phase. */
export interface ScenarioStartEvent {
  readonly runId: string;
  readonly scenario: string;
  readonly phase: 'warmup' | 'measure';
  readonly executor: ExecutorConfig;
}

/**
 * Emitted each second per scenario (and once more for the last, partial second): the
 * second's counts and latency, with its own HDR histogram. The gateway sink turns it into the
 * contracts `MetricSnapshot` the metrics gateway accepts.
 */
export interface TickEvent {
  readonly runId: string;
  readonly scenario: string;
  readonly segment: string;
  /** Second of the measured phase (0 = the first). */
  readonly t: number;
  /** Iterations completed in this second. */
  readonly requests: number;
  readonly errors: number;
  readonly rps: number;
  /** Percentiles of this second's latency (ms). */
  readonly latencyMs: { readonly p50: number; readonly p95: number; readonly p99: number };
  /** Base64 HDR histogram (µs) of this second; seconds merge exactly. */
  readonly histogram: string;
  /** Iterations the schedule could not start in this second (open models). */
  readonly dropped: number;
  /** VUs busy at the end of the second. */
  readonly activeVus: number;
  /** Totals so far in the measured phase. */
  readonly totalRequests: number;
  readonly totalErrors: number;
}

/** Emitted for every measured iteration (only built when someone listens). */
export interface SampleEvent {
  readonly runId: string;
  readonly scenario: string;
  /** ms since the scenario's measured phase started, at completion. */
  readonly t: number;
  readonly latencyMs: number;
  readonly ok: boolean;
  readonly status?: number;
  readonly error?: string;
  readonly tags: Readonly<Record<string, string>>;
}

/** Emitted for each failed measured iteration (exception or failed check or bad status). */
export interface ErrorEvent {
  readonly runId: string;
  readonly scenario: string;
  readonly kind: string;
  readonly message: string;
  readonly tags: Readonly<Record<string, string>>;
}

/** Emitted when a scenario has finished. */
export interface ScenarioDoneEvent {
  readonly runId: string;
  readonly result: ScenarioResult;
}

/** Emitted once when the run has finished. */
export interface DoneEvent {
  readonly runId: string;
  readonly result: RunResult;
}

/** Every event of the engine and its payload. */
export interface EngineEventMap {
  start: [StartEvent];
  'scenario-start': [ScenarioStartEvent];
  tick: [TickEvent];
  sample: [SampleEvent];
  error: [ErrorEvent];
  'scenario-done': [ScenarioDoneEvent];
  done: [DoneEvent];
}

/** The engine's typed event emitter. Sinks subscribe to it; the engine never prints. */
export class EngineEvents extends EventEmitter<EngineEventMap> {
  constructor() {
    super();
    // `error` is an ordinary event here: with no sink listening, emitting it must not throw.
    this.on('error', () => {});
    this.setMaxListeners(50);
  }
}

/**
 * Something that listens to a run: console progress, an NDJSON file, the metrics gateway.
 *
 * @example
 * const mySink: Sink = { name: 'count', attach(events) { events.on('tick', (t) => seen.push(t)); } };
 * await run([s], { sinks: [mySink] });              // attached, then closed when run returns
 * await using session = openSession({ sinks: [mySink] }); // or kept open across session.run() calls
 */
export interface Sink {
  readonly name: string;
  /** Subscribe to the events; called once, before the (first) run starts. */
  attach(events: EngineEvents): void;
  /** Flush and release resources; awaited once, after the last run's `done` (when `run` returns or a session closes). */
  close?(): Promise<void> | void;
}
