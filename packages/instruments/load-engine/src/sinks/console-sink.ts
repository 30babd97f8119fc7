import type { EngineEvents, Sink } from '../events.js';

/** Options of {@link consoleSink}. */
export interface ConsoleSinkOptions {
  /** Where progress goes (default `process.stderr`, so stdout stays clean for data). */
  readonly out?: NodeJS.WritableStream;
}

/**
 * Progress for people: one line per scenario per second (`t`, rps, p50/p99, errors, dropped,
 * busy VUs) and a line when each scenario ends.
 */
export function consoleSink(options: ConsoleSinkOptions = {}): Sink {
  const out = options.out ?? process.stderr;
  return {
    name: 'console',
    attach(events: EngineEvents) {
      events.on('start', (e) => out.write(`▶ run ${e.runId} · segment ${e.segment} · ${e.scenarios.map((s) => `${s.name} [${s.executor.type}]`).join(', ')}\n`));
      events.on('scenario-start', (e) => out.write(`  ${e.scenario}: ${e.phase === 'warmup' ? 'warming up (not counted)' : 'measuring'}\n`));
      events.on('tick', (t) =>
        out.write(`  ${t.scenario} ${String(t.t).padStart(3)}s  ${String(t.rps).padStart(6)} req/s  p50 ${t.latencyMs.p50.toFixed(1)} ms  p99 ${t.latencyMs.p99.toFixed(1)} ms  errors ${t.errors}  dropped ${t.dropped}  busy ${t.activeVus}\n`),
      );
      events.on('scenario-done', ({ result: r }) =>
        out.write(`✔ ${r.name}: ${r.requests} requests, ${r.requests - r.successes} failed, ${r.dropped} dropped in ${r.durationS.toFixed(1)} s\n`),
      );
    },
  };
}
