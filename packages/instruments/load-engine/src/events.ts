import { EventEmitter } from 'node:events';
import type { MetricSnapshot } from '@crucible/contracts';
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
 * Emitted each second per scenario (and once more for the last, partial second). It is a
 * contracts `MetricSnapshot` (what the metrics gateway accepts) plus engine details.
 */
export interface TickEvent extends MetricSnapshot {
  readonly segment: string;
  readonly dropped: number;
  /** VUs busy at the end of the second. */
  readonly active_vus: number;
  /** Totals so far in the measured phase. */
  readonly total_requests: number;
  readonly total_errors: number;
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
 * await run([s], { sinks: [mySink] });
 */
export interface Sink {
  readonly name: string;
  /** Subscribe to the events; called before the run starts. */
  attach(events: EngineEvents): void;
  /** Flush and release resources; awaited after `done`. */
  close?(): Promise<void> | void;
}
