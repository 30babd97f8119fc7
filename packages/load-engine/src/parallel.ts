import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { EngineEvents, type EngineEventMap, type Sink } from './events.js';
import { mergeResults, type RunResult } from './result.js';
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
  | { type: 'event'; name: 'scenario-start' | 'tick' | 'scenario-done'; payload: unknown }
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
/** Running from TypeScript sources needs tsx and the source condition in every worker. */
const TS_ARGS = FROM_SOURCE ? ['--conditions=@crucible/source', '--import', 'tsx'] : [];

/**
 * On Node 20 a worker thread gets no ESM loader hooks (neither `--import tsx` nor
 * `module.register` reach it), so from TypeScript sources the worker registers tsx's
 * CommonJS hook and requires the entry; built JavaScript needs nothing.
 */
function startWorker(task: ParallelTask): Worker {
  if (!FROM_SOURCE) return new Worker(ENTRY, { workerData: task });
  const tsxCjs = createRequire(import.meta.url).resolve('tsx/cjs/api');
  const boot = `require(${JSON.stringify(tsxCjs)}).register(); require(${JSON.stringify(fileURLToPath(ENTRY))});`;
  return new Worker(boot, { eval: true, workerData: task, execArgv: ['--conditions=@crucible/source'] });
}

/**
 * Runs scenarios split into execution segments over several worker threads or processes (so
 * every core generates load) and merges their results exactly (counts add, HDR histograms
 * merge). Ticks of each segment are re-emitted on `events` with their `segment`.
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
  const startedAt = new Date().toISOString();
  events.emit('start', { runId, startedAt, segment: '0:1', scenarios: [] });
  try {
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
        return runOne(task, options.mode ?? 'thread', events);
      }),
    );
    const result = mergeResults(results);
    events.emit('done', { runId, result });
    return result;
  } finally {
    for (const sink of options.sinks ?? []) await sink.close?.();
  }
}

function runOne(task: ParallelTask, mode: 'thread' | 'process', events: EngineEvents): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const onMessage = (m: ParallelMessage): void => {
      if (m.type === 'event') (events.emit as (n: keyof EngineEventMap, p: unknown) => boolean)(m.name, m.payload);
      else if (m.type === 'result') {
        settled = true;
        resolve(m.result);
      } else {
        settled = true;
        reject(new Error(`segment ${task.segment} failed: ${m.message}`));
      }
    };
    const onExit = (code: number | null): void => {
      if (!settled) reject(new Error(`segment ${task.segment} exited with code ${code} before sending a result`));
    };
    if (mode === 'thread') {
      const worker = startWorker(task);
      worker.on('message', onMessage);
      worker.on('error', (e) => {
        if (!settled) reject(e);
        settled = true;
      });
      worker.on('exit', onExit);
    } else {
      const child = fork(fileURLToPath(ENTRY), [JSON.stringify(task)], { execArgv: TS_ARGS, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      child.on('message', (m) => onMessage(m as ParallelMessage));
      child.on('error', (e) => {
        if (!settled) reject(e);
        settled = true;
      });
      child.on('exit', onExit);
    }
  });
}
