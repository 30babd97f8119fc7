import { randomUUID } from 'node:crypto';
import { InstrumentError } from '@crucible/instrument-kit';
import { EngineEvents, type Sink } from './events.js';
import type { RunResult, ScenarioResult } from './result.js';
import type { AnyScenario } from './scenario-run.js';
import { runScenario, type ScenarioEnv } from './scenario-runner.js';
import { parseSegment, type ExecutionSegment } from './segment.js';

/** Options of {@link openSession}: what every run of the session shares. */
export interface SessionOptions {
  /** Base URL of `ctx.http` for scenarios that set none, e.g. `http://127.0.0.1:4100`. */
  readonly baseUrl?: string;
  /** Execution segment this process runs (default `0:1`, the whole run). */
  readonly segment?: string;
  /** Sinks (console progress, NDJSON, gateway …): attached when the session opens, closed once by `close()`. */
  readonly sinks?: readonly Sink[];
  /** An emitter to use (subscribe to it yourself before running). */
  readonly events?: EngineEvents;
  /** Run id of every run of the session (default: a random UUID), e.g. the gateway channel. */
  readonly runId?: string;
  /** Stops every run of the session early (in-flight iterations get their graceful stop). */
  readonly signal?: AbortSignal;
}

/** Options of one {@link RunSession.run}. */
export interface SessionRunOptions {
  /** Base URL for this run's scenarios that set none (default: the session's). */
  readonly baseUrl?: string;
  /** Run scenarios one after another instead of together. */
  readonly sequential?: boolean;
  /** Stops this run early (in-flight iterations get their graceful stop). */
  readonly signal?: AbortSignal;
}

/** A scenario or a list of them, as `run` takes them. */
export type Scenarios = AnyScenario | readonly AnyScenario[];

/** The list of scenarios; throws when two share a name (their results could not be told apart). */
export function scenarioList(scenarios: Scenarios): readonly AnyScenario[] {
  const list: readonly AnyScenario[] = Array.isArray(scenarios) ? scenarios : [scenarios as AnyScenario];
  const names = new Set<string>();
  for (const s of list) {
    if (names.has(s.name)) throw new InstrumentError('invalid_scenario', `two scenarios are named "${s.name}": names must be unique within a run`);
    names.add(s.name);
  }
  return list;
}

/**
 * Several `run()`s that share sinks: events of every run flow to the same sinks, which are
 * attached once and closed once, by {@link RunSession.close} (or `await using`). A suite that
 * runs its scenarios step by step streams them all to one live gateway session this way.
 * Create it with {@link openSession}.
 */
export class RunSession implements AsyncDisposable {
  /** Run id of every run of the session. */
  readonly runId: string;
  /** The emitter every run of the session emits on. */
  readonly events: EngineEvents;
  readonly #options: SessionOptions;
  readonly #segment: ExecutionSegment;
  readonly #running = new Set<Promise<unknown>>();
  #closing: Promise<void> | undefined;

  constructor(options: SessionOptions = {}) {
    this.#options = options;
    this.#segment = parseSegment(options.segment ?? '0:1');
    this.runId = options.runId ?? randomUUID();
    this.events = options.events ?? new EngineEvents();
    for (const sink of options.sinks ?? []) sink.attach(this.events);
  }

  /**
   * Runs scenarios (together, or one after another with `sequential`) and returns what they
   * measured; emits `start` … `done` for this run on the session's sinks, which stay open.
   */
  async run(scenarios: Scenarios, options: SessionRunOptions = {}): Promise<RunResult> {
    if (this.#closing) throw new InstrumentError('used_after_close', 'this run session is closed: open a new one with openSession()');
    const list = scenarioList(scenarios);
    const running = this.#run(list, options);
    this.#running.add(running);
    try {
      return await running;
    } finally {
      this.#running.delete(running);
    }
  }

  async #run(list: readonly AnyScenario[], options: SessionRunOptions): Promise<RunResult> {
    const { runId, events } = this;
    const segment = this.#segment;
    const env: ScenarioEnv = {
      runId,
      segment,
      events,
      baseUrl: options.baseUrl ?? this.#options.baseUrl,
      signals: [this.#options.signal, options.signal].filter((s): s is AbortSignal => s !== undefined),
    };
    const startedAt = new Date();
    events.emit('start', { runId, startedAt: startedAt.toISOString(), segment: segment.label, scenarios: list.map((s) => ({ name: s.name, executor: s.executor, tags: s.tags })) });
    const results: ScenarioResult[] = [];
    if (options.sequential) {
      for (const s of list) results.push(await runScenario(s, env));
    } else {
      results.push(...(await Promise.all(list.map((s) => runScenario(s, env)))));
    }
    const result: RunResult = { runId, startedAt: startedAt.toISOString(), finishedAt: new Date().toISOString(), segment: segment.label, scenarios: results };
    events.emit('done', { runId, result });
    return result;
  }

  /**
   * Waits for runs still in progress, then closes every sink once (each is closed even when
   * another fails; the first failure is thrown). Calling it again returns the same promise.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    await Promise.allSettled(this.#running);
    let failure: { error: unknown } | undefined;
    for (const sink of this.#options.sinks ?? []) {
      try {
        await sink.close?.();
      } catch (error) {
        failure ??= { error };
      }
    }
    if (failure) throw failure.error;
  }

  /** `await using session = openSession(…)` closes it at the end of the block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * Opens a run session: sinks attach now, every `session.run()` emits to them, and
 * `session.close()` closes them once.
 *
 * @example
 * await using session = openSession({ baseUrl, runId: 'nightly-42', sinks: [consoleSink(), live.sink] });
 * const warm = await session.run([reserve]);
 * const hot = await session.run([reserve, claim], { sequential: true });
 * // the gateway sink sends one run_end, with both runs' scenarios, when the session closes
 */
export function openSession(options: SessionOptions = {}): RunSession {
  return new RunSession(options);
}
