import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { encodeHistogram, InstrumentError, mergeHistograms, percentileMs } from '@crucible/instrument-kit';
import { EngineEvents, type ScenarioDoneEvent, type ScenarioStartEvent, type Sink, type StartEvent, type TickEvent } from './events.js';
import { mergeResults, type RunResult, type ScenarioResult } from './result.js';
import { splitSegments } from './segment.js';

/** What one worker runs (plain data). */
export interface ParallelTask {
  readonly module: string;
  readonly exportName: string;
  readonly params?: unknown;
  readonly segment: string;
  readonly runId: string;
  readonly baseUrl?: string;
  readonly sequential?: boolean;
}

/** Messages from a worker to the parent. */
export type ParallelMessage =
  | { type: 'event'; name: 'start' | 'scenario-start' | 'tick' | 'scenario-done'; payload: unknown }
  | { type: 'result'; result: RunResult }
  | { type: 'error'; message: string };

/** Options of {@link runParallel}. */
export interface ParallelOptions {
  /**
   * Module (absolute path or file URL) whose export holds the scenarios: an array, one
   * scenario, or a function `(params) => scenarios` (functions cannot cross threads, so each
   * worker imports the module itself).
   */
  readonly module: string | URL;
  /** Export name (default `scenarios`). */
  readonly exportName?: string;
  /** JSON-serialisable value passed to an exported function (e.g. API keys, URLs). */
  readonly params?: unknown;
  /** How many workers (default 2: one per core here). */
  readonly workers?: number;
  /** `thread` (worker_threads, default) or `process` (child processes). */
  readonly mode?: 'thread' | 'process';
  readonly baseUrl?: string;
  readonly sequential?: boolean;
  readonly sinks?: readonly Sink[];
  readonly events?: EngineEvents;
  readonly runId?: string;
}

const FROM_SOURCE = import.meta.url.endsWith('.ts');
const ENTRY = new URL(`./parallel-entry.${FROM_SOURCE ? 'ts' : 'js'}`, import.meta.url);
/**
 * Running from TypeScript sources needs tsx and the source condition in every worker. tsx is
 * resolved from here: `--import tsx` alone resolves from the working directory, which need not
 * have it (`crucible run --workers 2` from a user's own folder).
 */
// Inside a worker thread this module is loaded through tsx's CommonJS hook, whose
// `import.meta` has no `resolve` (it threw there and failed every thread-mode run); a
// worker never starts processes, so the plain specifier is enough for it.
const TS_ARGS = FROM_SOURCE ? ['--conditions=@crucible/source', '--import', typeof import.meta.resolve === 'function' ? import.meta.resolve('tsx') : 'tsx'] : [];

/**
 * On Node 20 a worker thread gets no ESM loader hooks (neither `--import tsx` nor
 * `module.register` reach it), so from TypeScript sources the worker registers tsx's
 * CommonJS hook and requires the entry; built JavaScript needs nothing.
 */
function startWorker(task: ParallelTask): Worker {
  if (!FROM_SOURCE) return new Worker(ENTRY, { workerData: task });
  // Node 22+ runs a worker's own `--import` (so tsx's ESM hooks apply there). It must: Node 24
  // strips types by itself, and without tsx a source file's `./x.js` import of `x.ts` is not found.
  if (Number(process.versions.node.split('.')[0]) >= 22) return new Worker(ENTRY, { workerData: task, execArgv: TS_ARGS });
  const tsxCjs = createRequire(import.meta.url).resolve('tsx/cjs/api');
  const boot = `require(${JSON.stringify(tsxCjs)}).register(); require(${JSON.stringify(fileURLToPath(ENTRY))});`;
  return new Worker(boot, { eval: true, workerData: task, execArgv: ['--conditions=@crucible/source'] });
}

/**
 * Runs scenarios split into execution segments over several worker threads or processes (so
 * every core generates load) and merges their results exactly (counts add, HDR histograms
 * merge). Events are merged too: one `tick` per scenario and second (counts added, histograms
 * merged), one `scenario-start` per phase, one `scenario-done` with the merged result.
 *
 * @example
 * // scenarios.ts: export const scenarios = (p: { baseUrl: string }) => [scenario({ … })];
 * const result = await runParallel({ module: new URL('./scenarios.ts', import.meta.url), params: { baseUrl }, workers: 2 });
 */
export async function runParallel(options: ParallelOptions): Promise<RunResult> {
  const workers = options.workers ?? 2;
  const runId = options.runId ?? randomUUID();
  const events = options.events ?? new EngineEvents();
  for (const sink of options.sinks ?? []) sink.attach(events);
  const modulePath = options.module instanceof URL ? fileURLToPath(options.module) : options.module;
  try {
    const merger = new EventMerger(workers, events);
    const stoppers: Array<() => void> = [];
    // One failed segment makes the whole result meaningless: stop the others at once.
    const results = await Promise.all(
      splitSegments(workers).map((segment) => {
        const task: ParallelTask = {
          module: modulePath,
          exportName: options.exportName ?? 'scenarios',
          ...(options.params === undefined ? {} : { params: options.params }),
          segment,
          runId,
          ...(options.baseUrl ? { baseUrl: options.baseUrl } : {}),
          ...(options.sequential ? { sequential: true } : {}),
        };
        return runOne(task, options.mode ?? 'thread', merger, stoppers).catch((error: unknown) => {
          for (const stop of stoppers) stop();
          throw error;
        });
      }),
    );
    const result = mergeResults(results);
    events.emit('done', { runId, result });
    return result;
  } finally {
    for (const sink of options.sinks ?? []) await sink.close?.();
  }
}

/**
 * Turns the per-segment event streams of N workers into one stream: a `tick` per scenario and
 * second once every worker has sent it (counts added, histograms merged), one `scenario-start`
 * per phase, one merged `scenario-done`.
 */
class EventMerger {
  readonly #n: number;
  readonly #events: EngineEvents;
  readonly #ticks = new Map<string, TickEvent[]>();
  readonly #started = new Set<string>();
  readonly #done = new Map<string, ScenarioResult[]>();

  constructor(n: number, events: EngineEvents) {
    this.#n = n;
    this.#events = events;
  }

  #startSent = false;

  push(name: 'start' | 'scenario-start' | 'tick' | 'scenario-done', payload: unknown): void {
    if (name === 'start') {
      // Every worker runs the same scenarios: announce the run once, as a whole.
      if (!this.#startSent) {
        this.#startSent = true;
        this.#events.emit('start', { ...(payload as StartEvent), segment: '0:1' });
      }
    } else if (name === 'scenario-start') {
      const e = payload as ScenarioStartEvent;
      const key = `${e.scenario}\u0000${e.phase}`;
      if (!this.#started.has(key)) {
        this.#started.add(key);
        this.#events.emit('scenario-start', e);
      }
    } else if (name === 'tick') {
      const t = payload as TickEvent;
      const key = `${t.scenario}\u0000${t.t}`;
      const list = [...(this.#ticks.get(key) ?? []), t];
      if (list.length < this.#n) this.#ticks.set(key, list);
      else {
        this.#ticks.delete(key);
        this.#emitTick(list);
      }
    } else {
      const e = payload as ScenarioDoneEvent;
      const list = [...(this.#done.get(e.result.name) ?? []), e.result];
      this.#done.set(e.result.name, list);
      if (list.length === this.#n) {
        // Seconds some worker never reached (it finished a little earlier) are complete now.
        for (const [key, ticks] of [...this.#ticks]) {
          if (key.startsWith(`${e.result.name}\u0000`)) {
            this.#ticks.delete(key);
            this.#emitTick(ticks);
          }
        }
        const merged = mergeResults(list.map((r) => ({ runId: e.runId, startedAt: r.startedAt, finishedAt: r.startedAt, segment: r.segment, scenarios: [r] })));
        const result = merged.scenarios[0];
        if (result) this.#events.emit('scenario-done', { runId: e.runId, result });
      }
    }
  }

  #emitTick(list: TickEvent[]): void {
    const first = list[0];
    if (!first) return;
    const h = mergeHistograms(list.map((t) => t.histogram));
    this.#events.emit('tick', {
      ...first,
      segment: '0:1',
      requests: list.reduce((a, t) => a + t.requests, 0),
      errors: list.reduce((a, t) => a + t.errors, 0),
      rps: list.reduce((a, t) => a + t.rps, 0),
      dropped: list.reduce((a, t) => a + t.dropped, 0),
      activeVus: list.reduce((a, t) => a + t.activeVus, 0),
      totalRequests: list.reduce((a, t) => a + t.totalRequests, 0),
      totalErrors: list.reduce((a, t) => a + t.totalErrors, 0),
      latencyMs: { p50: percentileMs(h, 50), p95: percentileMs(h, 95), p99: percentileMs(h, 99) },
      histogram: encodeHistogram(h),
    });
    h.destroy();
  }
}

/** A worker or child process that could not run: the segment failed, with the original error as cause. */
function failed(task: ParallelTask, cause: Error): InstrumentError<'segment_failed'> {
  return new InstrumentError('segment_failed', `segment ${task.segment} failed: ${cause.message}`, { cause });
}

function runOne(task: ParallelTask, mode: 'thread' | 'process', events: EventMerger, stoppers: Array<() => void>): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const onMessage = (m: ParallelMessage): void => {
      if (m.type === 'event') events.push(m.name, m.payload);
      else if (m.type === 'result') {
        settled = true;
        resolve(m.result);
      } else {
        settled = true;
        reject(new InstrumentError('segment_failed', `segment ${task.segment} failed: ${m.message}`));
      }
    };
    const onExit = (code: number | null): void => {
      if (!settled) reject(new InstrumentError('segment_failed', `segment ${task.segment} exited with code ${code} before sending a result`));
    };
    if (mode === 'thread') {
      const worker = startWorker(task);
      stoppers.push(() => void worker.terminate());
      worker.on('message', onMessage);
      worker.on('error', (e) => {
        if (!settled) reject(failed(task, e));
        settled = true;
      });
      worker.on('exit', onExit);
    } else {
      const child = fork(fileURLToPath(ENTRY), [JSON.stringify(task)], { execArgv: TS_ARGS, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      stoppers.push(() => child.kill());
      child.on('message', (m) => onMessage(m as ParallelMessage));
      child.on('error', (e) => {
        if (!settled) reject(failed(task, e));
        settled = true;
      });
      child.on('exit', onExit);
    }
  });
}
