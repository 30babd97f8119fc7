/**
 * Entry of a worker thread or child process started by `runParallel`: imports the scenario
 * module, runs its segment, forwards events and sends back the result (plain JSON data).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { InstrumentError } from '@crucible/instrument-kit';
import { EngineEvents } from './events.js';
import type { ParallelTask, ParallelMessage } from './parallel.js';
import { run } from './runner.js';
import type { Scenario } from './scenario.js';

const task: ParallelTask = (workerData as ParallelTask | undefined) ?? (JSON.parse(process.argv[2] ?? '{}') as ParallelTask);

function send(original: ParallelMessage): void {
  // Plain data only: kept HTTP responses carry a json() method that cannot be cloned.
  const message = JSON.parse(JSON.stringify(original)) as ParallelMessage;
  if (parentPort) parentPort.postMessage(message);
  else process.send?.(message);
}

async function main(): Promise<void> {
  const url = /^[a-z]+:\/\//i.test(task.module) ? task.module : pathToFileURL(task.module).href;
  let mod: Record<string, unknown>;
  try {
    mod = (await import(url)) as Record<string, unknown>;
  } catch (e) {
    // A worker thread on Node 20 has no ESM hooks for TypeScript: fall back to tsx's CommonJS hook.
    if ((e as { code?: string }).code !== 'ERR_UNKNOWN_FILE_EXTENSION') throw e;
    mod = createRequire(task.module)(task.module) as Record<string, unknown>;
  }
  const exported = mod[task.exportName];
  if (exported === undefined) throw new InstrumentError('invalid_scenario', `${task.module} has no export "${task.exportName}"`);
  const value = typeof exported === 'function' ? await (exported as (params: unknown) => unknown)(task.params) : exported;
  const scenarios = (Array.isArray(value) ? value : [value]) as Array<Scenario<unknown>>;
  const events = new EngineEvents();
  events.on('start', (e) => send({ type: 'event', name: 'start', payload: e }));
  events.on('scenario-start', (e) => send({ type: 'event', name: 'scenario-start', payload: e }));
  events.on('tick', (e) => send({ type: 'event', name: 'tick', payload: e }));
  events.on('scenario-done', (e) => send({ type: 'event', name: 'scenario-done', payload: e }));
  const result = await run(scenarios, { segment: task.segment, events, runId: task.runId, ...(task.baseUrl ? { baseUrl: task.baseUrl } : {}), ...(task.sequential ? { sequential: true } : {}) });
  send({ type: 'result', result });
}

main().then(
  () => {
    if (!parentPort) process.disconnect?.();
  },
  (error: unknown) => {
    send({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    if (!parentPort) {
      process.exitCode = 2;
      process.disconnect?.();
    }
  },
);
