import { setTimeout as sleepMs } from 'node:timers/promises';
import type { EngineEvents } from './events.js';
import type { HttpClient } from './http-client.js';
import type { Recorder } from './recorder.js';
import type { IterationOutcome } from './result.js';
import type { Scenario } from './scenario.js';
import type { ExecutionSegment } from './segment.js';
import { WebSocketClient } from './ws-client.js';

/** A scenario of any result and metrics (the engine does not look at either type). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyScenario = Scenario<any, any>;

/** A virtual user: its number, its per-VU state and its sockets. */
export interface Vu {
  readonly id: number;
  readonly vars: Record<string, unknown>;
  readonly ws: WebSocketClient;
  busy: boolean;
}

/** The state one scenario's executor loops and iterations share while it runs. */
export interface ScenarioRun {
  readonly scenario: AnyScenario;
  readonly runId: string;
  readonly segment: ExecutionSegment;
  readonly events: EngineEvents;
  readonly http: HttpClient;
  readonly baseUrl: string | undefined;
  readonly abort: AbortController;
  readonly outcomes: IterationOutcome[];
  readonly keep: boolean;
  /** Null during warm-up: iterations run but are not counted. */
  recorder: Recorder | null;
  readonly breakdownBy: string;
  /** Open models and bursts have intended starts, so their start lag means something. */
  readonly measuresLag: boolean;
  busy: number;
  stopped: boolean;
  /** A misuse of the scenario found while running (an undeclared metric): it stops the run and is thrown. */
  fatal: Error | undefined;
}

/** A fresh VU of the scenario. */
export function makeVu(r: ScenarioRun, id: number): Vu {
  return { id, vars: {}, ws: new WebSocketClient(r.baseUrl), busy: false };
}

/**
 * Waits for in-flight iterations up to the scenario's graceful stop; past it, aborts them
 * (signal and HTTP pool) and waits for them to unwind.
 */
export async function settle(r: ScenarioRun, inflight: Set<Promise<void>>): Promise<void> {
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
