import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import path from 'node:path';
import type { EngineEventMap, EngineEvents, Sink } from '../events.js';

/** Options of {@link ndjsonSink}. */
export interface NdjsonSinkOptions {
  /** Also write every `sample` (one line per iteration; large). Default false. */
  readonly samples?: boolean;
}

/**
 * Machine-readable events, one JSON object per line: `{"type":"tick",…}`. Histograms stay
 * base64 so a reader can merge seconds exactly.
 */
export function ndjsonSink(file: string, options: NdjsonSinkOptions = {}): Sink {
  let stream: WriteStream | undefined;
  const write = (type: keyof EngineEventMap, payload: object): void => {
    stream?.write(JSON.stringify({ type, at: new Date().toISOString(), ...payload }) + '\n');
  };
  return {
    name: 'ndjson',
    attach(events: EngineEvents) {
      mkdirSync(path.dirname(file), { recursive: true });
      stream = createWriteStream(file, { flags: 'w' });
      events.on('start', (e) => write('start', e));
      events.on('scenario-start', (e) => write('scenario-start', e));
      events.on('tick', (e) => write('tick', e));
      events.on('error', (e) => write('error', e));
      if (options.samples) events.on('sample', (e) => write('sample', e));
      events.on('scenario-done', ({ runId, result }) => write('scenario-done', { runId, scenario: result.name, requests: result.requests, successes: result.successes, dropped: result.dropped, histogram: result.histogram }));
      events.on('done', ({ runId, result }) => write('done', { runId, finishedAt: result.finishedAt, scenarios: result.scenarios.map((s) => s.name) }));
    },
    close() {
      return new Promise<void>((resolve) => {
        if (!stream) return resolve();
        stream.end(() => resolve());
      });
    },
  };
}
