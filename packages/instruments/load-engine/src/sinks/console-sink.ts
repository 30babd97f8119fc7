import type { EngineEvents, Sink } from '../events.js';
import { plannedDurationMs, targetRps, type ExecutorConfig } from '../executors.js';

/** Options of {@link consoleSink}. */
export interface ConsoleSinkOptions {
  /** Where progress goes (default `process.stderr`, so stdout stays clean for data). */
  readonly out?: NodeJS.WritableStream;
}

/** What a scenario's per-second line needs from its measured phase's executor. */
interface Planned {
  readonly seconds: number;
  readonly target: number | null;
}

function planOf(executor: ExecutorConfig): Planned {
  // Only a constant rate has one target to print; a ramp's average would mislead.
  const target = executor.type === 'constant-arrival-rate' ? Math.round(targetRps(executor) ?? 0) : null;
  return { seconds: Math.round(plannedDurationMs(executor) / 1000), target };
}

/**
 * One per-second line, e.g. `[12/20 s] GET /tasks/next at 100 RPS: 100 req/s, p99 8.0 ms,
 * 0 errors` — elapsed and expected seconds first, so a reader watching a long run sees how
 * far it is. Dropped iterations and busy VUs follow only when there are any.
 */
export function tickLine(
  t: { scenario: string; t: number; rps: number; latencyMs: { p50: number; p99: number }; errors: number; dropped: number; activeVus: number },
  plan: Planned | undefined,
): string {
  // `t` is the 0-based second just finished: after it, t+1 seconds have elapsed.
  const elapsed = t.t + 1;
  const expected = plan && plan.seconds > 0 ? `/${plan.seconds}` : '';
  const target = plan?.target != null && !/\bRPS\b|\/s\b/i.test(t.scenario) ? ` (target ${plan.target}/s)` : '';
  const extra = `${t.dropped ? `, ${t.dropped} dropped` : ''}${t.activeVus ? `, ${t.activeVus} busy` : ''}`;
  return (
    `  [${String(elapsed).padStart(3)}${expected} s] ${t.scenario}${target}: ${t.rps} req/s, p50 ${t.latencyMs.p50.toFixed(1)} ms, ` +
    `p99 ${t.latencyMs.p99.toFixed(1)} ms, ${t.errors} errors${extra}\n`
  );
}

/**
 * Progress for people: one line per scenario per second with elapsed and expected time
 * ({@link tickLine}), and a line when each scenario ends.
 */
export function consoleSink(options: ConsoleSinkOptions = {}): Sink {
  const out = options.out ?? process.stderr;
  const plans = new Map<string, Planned>();
  return {
    name: 'console',
    attach(events: EngineEvents) {
      events.on('start', (e) => {
        for (const s of e.scenarios) plans.set(s.name, planOf(s.executor));
        out.write(`▶ run ${e.runId} · segment ${e.segment} · ${e.scenarios.map((s) => `${s.name} [${s.executor.type}]`).join(', ')}\n`);
      });
      events.on('scenario-start', (e) => {
        plans.set(e.scenario, planOf(e.executor));
        const plan = plans.get(e.scenario);
        const expect = e.phase === 'measure' && plan && plan.seconds > 0 ? ` for ${plan.seconds} s` : '';
        out.write(`  ${e.scenario}: ${e.phase === 'warmup' ? 'warming up (not counted)' : `measuring${expect}`}\n`);
      });
      events.on('tick', (t) => out.write(tickLine(t, plans.get(t.scenario))));
      events.on('scenario-done', ({ result: r }) =>
        out.write(`✔ ${r.name}: ${r.requests} requests, ${r.requests - r.successes} failed, ${r.dropped} dropped in ${r.durationS.toFixed(1)} s\n`),
      );
    },
  };
}
