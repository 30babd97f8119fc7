import {
  gatewayServerMessageSchema,
  type GatewayPublish,
  type GatewayServerMessage,
  type MetricSnapshot,
  type RunEndSummary,
} from '@crucible/contracts';
import { InstrumentError } from '@crucible/instrument-kit';
import { WebSocket } from 'ws';
import type { EngineEvents, Sink, TickEvent } from '../events.js';
import type { RunResult } from '../result.js';

/** Options of {@link GatewayPublisher}. */
export interface GatewayPublisherOptions {
  /** Base URL of the gateway, `http://127.0.0.1:4300` (or its `ws://…/ws` URL). */
  readonly gatewayUrl: string;
  /** Publish token (the gateway's `GATEWAY_PUBLISH_TOKEN`, else its `CRUCIBLE_ADMIN_TOKEN`). */
  readonly token: string;
  /**
   * Number messages here (default true) so the run keeps one order across gateway
   * restarts and replays are recognised as duplicates. Set false when several processes
   * publish into one run (segments): the gateway then numbers them.
   */
  readonly sequenced?: boolean;
  /** Messages kept for replay after a reconnect (default 600: ten minutes of one scenario). */
  readonly replayWindow?: number;
  /** Longest wait between reconnect attempts (default 2000 ms). */
  readonly maxBackoffMs?: number;
  /** Called with a short line when the connection state changes (for a CLI to print). */
  readonly onStatus?: (status: string) => void;
}

/** Turns `http://host:port` (or `ws://host:port/ws`) into the gateway's WebSocket URL. */
export function gatewayWsUrl(gatewayUrl: string): string {
  const u = new URL(gatewayUrl);
  if (u.protocol === 'http:') u.protocol = 'ws:';
  if (u.protocol === 'https:') u.protocol = 'wss:';
  if (u.pathname === '/' || u.pathname === '') u.pathname = '/ws';
  return u.toString();
}

/** The dashboard page of `runId` on a gateway. */
export function dashboardUrl(gatewayUrl: string, runId: string): string {
  const u = new URL(gatewayUrl);
  if (u.protocol === 'ws:') u.protocol = 'http:';
  if (u.protocol === 'wss:') u.protocol = 'https:';
  return `${u.origin}/dashboard/${encodeURIComponent(runId)}`;
}

/**
 * A publisher connection to the metrics gateway that survives the gateway going away: it
 * reconnects with backoff and replays what the gateway may lack — unacknowledged messages,
 * or, when it reconnects to a different gateway process (a restart lost the history), the
 * whole replay window — so subscribers resuming from their last sequence see no gap.
 *
 * @example
 * const p = new GatewayPublisher({ gatewayUrl, token });
 * p.publish({ type: 'event', run_id: 'ws-load', event: { name: 'latency', value: 12 } });
 * await p.close();
 */
export class GatewayPublisher {
  readonly #url: string;
  readonly #token: string;
  readonly #sequenced: boolean;
  readonly #window: number;
  readonly #maxBackoffMs: number;
  readonly #onStatus: (status: string) => void;
  /** Last sequence given per run. */
  readonly #seq = new Map<string, number>();
  /** Recent messages in publish order (the replay window), each with whether the gateway acknowledged it. */
  readonly #kept: { msg: GatewayPublish; acked: boolean }[] = [];
  /** Unsequenced messages published while disconnected (bounded by the window). */
  readonly #pending: GatewayPublish[] = [];
  #ws: WebSocket | undefined;
  #instance: string | undefined;
  #attempt = 0;
  #closing = false;
  #timer: NodeJS.Timeout | undefined;
  #ackWaiters: (() => void)[] = [];

  constructor(options: GatewayPublisherOptions) {
    this.#url = gatewayWsUrl(options.gatewayUrl);
    this.#token = options.token;
    this.#sequenced = options.sequenced ?? true;
    this.#window = options.replayWindow ?? 600;
    this.#maxBackoffMs = options.maxBackoffMs ?? 2000;
    this.#onStatus = options.onStatus ?? (() => {});
    this.#connect();
  }

  /** Whether the socket is open right now. */
  get connected(): boolean {
    return this.#ws?.readyState === WebSocket.OPEN;
  }

  /** Sends one message (numbered when sequenced); kept for replay until acknowledged. */
  publish(msg: GatewayPublish): void {
    if (this.#closing) throw new InstrumentError('used_after_close', 'GatewayPublisher is closed');
    if (this.#sequenced) {
      const seq = (this.#seq.get(msg.run_id) ?? 0) + 1;
      this.#seq.set(msg.run_id, seq);
      const numbered = { ...msg, seq };
      this.#kept.push({ msg: numbered, acked: false });
      if (this.#kept.length > this.#window) this.#kept.shift();
      this.#send(numbered);
      return;
    }
    if (this.connected) this.#send(msg);
    else {
      this.#pending.push(msg);
      if (this.#pending.length > this.#window) this.#pending.shift();
    }
  }

  /** Waits (up to `timeoutMs`) until the gateway acknowledged every numbered message, then closes with 1000. */
  async close(timeoutMs = 5000): Promise<void> {
    this.#closing = true;
    const deadline = Date.now() + timeoutMs;
    while (this.#sequenced && this.#kept.some((k) => !k.acked) && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(1, Math.min(200, deadline - Date.now())));
        this.#ackWaiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    clearTimeout(this.#timer);
    const ws = this.#ws;
    if (!ws || ws.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      ws.once('close', () => resolve());
      if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
      else ws.close(1000, 'publisher done');
      setTimeout(() => {
        ws.terminate();
        resolve();
      }, 1000).unref();
    });
  }

  #send(msg: GatewayPublish): void {
    if (this.connected) this.#ws?.send(JSON.stringify(msg));
  }

  #connect(): void {
    const ws = new WebSocket(this.#url, { headers: { authorization: `Bearer ${this.#token}` }, perMessageDeflate: false });
    this.#ws = ws;
    ws.on('message', (data) => {
      let msg: GatewayServerMessage;
      try {
        msg = gatewayServerMessageSchema.parse(JSON.parse(data.toString()));
      } catch {
        return;
      }
      this.#onMessage(msg);
    });
    ws.on('error', () => {});
    ws.on('close', (code) => {
      if (this.#closing) return;
      const delay = Math.min(this.#maxBackoffMs, 100 * 2 ** this.#attempt++) * (0.5 + Math.random() / 2);
      this.#onStatus(`gateway connection closed (${code}); reconnecting in ${Math.round(delay)} ms`);
      this.#timer = setTimeout(() => this.#connect(), delay);
    });
  }

  #onMessage(msg: GatewayServerMessage): void {
    switch (msg.type) {
      case 'welcome': {
        const restarted = this.#instance !== undefined && this.#instance !== msg.instance;
        if (this.#attempt > 0) this.#onStatus(`gateway reconnected${restarted ? ' (new gateway process: replaying recent history)' : ''}`);
        this.#attempt = 0;
        this.#instance = msg.instance;
        // A new process lost its history: give it the whole window; otherwise what it has not acknowledged.
        for (const k of this.#kept) if (restarted || !k.acked) this.#send(k.msg);
        for (const m of this.#pending.splice(0)) this.#send(m);
        return;
      }
      case 'ack': {
        for (const k of this.#kept) if (k.msg.run_id === msg.run_id && k.msg.seq === msg.seq) k.acked = true;
        for (const w of this.#ackWaiters.splice(0)) w();
        return;
      }
      case 'error':
        this.#onStatus(`gateway refused a message: ${msg.error.code}: ${msg.error.message}`);
        return;
      default:
    }
  }
}

/** A tick as the gateway's wire format (contracts `MetricSnapshot`) has it. */
function snapshotOf(runId: string, tick: TickEvent): MetricSnapshot {
  return {
    run_id: runId,
    scenario: tick.scenario,
    t: tick.t,
    requests: tick.requests,
    errors: tick.errors,
    rps: tick.rps,
    latency_ms: { p50: tick.latencyMs.p50, p95: tick.latencyMs.p95, p99: tick.latencyMs.p99 },
    histogram: tick.histogram,
    dropped: tick.dropped,
    active: tick.activeVus,
  };
}

/** The runs a sink saw as one: every scenario, from the first start to the last finish. */
function unionOf(runId: string, results: readonly RunResult[]): RunResult {
  const first = results[0] as RunResult;
  return {
    runId,
    startedAt: results.map((r) => r.startedAt).sort()[0] ?? first.startedAt,
    finishedAt: results.map((r) => r.finishedAt).sort().at(-1) ?? first.finishedAt,
    segment: first.segment,
    scenarios: results.flatMap((r) => r.scenarios),
  };
}

/**
 * Builds the dashboard's `run_end` summary of a finished run, thresholds evaluated:
 * `runEndSummary` from `@crucible/reporting` (the engine does not evaluate thresholds).
 */
export type RunEndSummarizer = (runId: string, result: RunResult) => RunEndSummary;

/** Options of {@link gatewaySink}. */
export interface GatewaySinkOptions extends Omit<GatewayPublisherOptions, 'onStatus'> {
  /** The gateway channel (default: the engine's run id). */
  readonly runId?: string;
  readonly onStatus?: (status: string) => void;
  /** Builds the final `run_end` summary: pass `runEndSummary` from `@crucible/reporting`. */
  readonly summarize: RunEndSummarizer;
}

/** A sink that streams a run to the metrics gateway; `dashboardUrl` is where to watch it. */
export interface GatewaySink extends Sink {
  /** The live dashboard of the run (known once the run id is: at once when `runId` was given). */
  readonly dashboardUrl: string | undefined;
  /** The publisher the sink uses. */
  readonly publisher: GatewayPublisher;
}

/**
 * Streams a run live to the metrics gateway: every `tick` becomes a per-second snapshot of
 * its scenario (the contracts wire format), and closing the sink sends one `run_end` with the
 * final totals and threshold outcomes of every run it saw (the same figures the final report
 * has), then flushes. `run` closes it when it returns; a session closes it once, at `close()`.
 *
 * @example
 * import { runEndSummary } from '@crucible/reporting';
 * const sink = gatewaySink({ gatewayUrl, token, runId: 'nightly-42', summarize: runEndSummary });
 * process.stderr.write(`watch live: ${sink.dashboardUrl}\n`);
 * await run(scenarios, { runId: 'nightly-42', sinks: [consoleSink(), sink] });
 */
export function gatewaySink(options: GatewaySinkOptions): GatewaySink {
  const publisher = new GatewayPublisher(options);
  let runId = options.runId;
  const finished: RunResult[] = [];
  return {
    name: 'gateway',
    publisher,
    get dashboardUrl() {
      return runId ? dashboardUrl(options.gatewayUrl, runId) : undefined;
    },
    attach(events: EngineEvents) {
      events.on('start', (e) => {
        runId ??= e.runId;
      });
      events.on('tick', (tick) => {
        const id = runId ?? tick.runId;
        publisher.publish({ type: 'snapshot', run_id: id, snapshot: snapshotOf(id, tick) });
      });
      events.on('done', ({ result }) => finished.push(result));
    },
    async close() {
      try {
        // One run_end for everything the sink saw: a session's runs end together.
        if (finished.length > 0) {
          const id = runId ?? (finished[0] as RunResult).runId;
          publisher.publish({ type: 'run_end', run_id: id, summary: options.summarize(id, unionOf(id, finished)) });
        }
      } finally {
        await publisher.close();
      }
    },
  };
}

/** Options of {@link startLiveSink}. */
export interface LiveSinkOptions extends GatewaySinkOptions {
  readonly runId: string;
  /** How long to wait for the first connection (default 5000 ms). */
  readonly connectTimeoutMs?: number;
}

/**
 * What a stress runner calls for `--live`: connects to the gateway (so a wrong URL or token
 * fails before the run with `gateway_unreachable`, not silently during it) and returns the
 * sink and the dashboard URL to print.
 *
 * @example
 * const live = await startLiveSink({ gatewayUrl: process.env.CRUCIBLE_GATEWAY_URL!, token, runId, summarize: runEndSummary });
 * process.stderr.write(`live dashboard: ${live.dashboardUrl}\n`);
 * await using session = openSession({ runId, sinks: [consoleSink(), live.sink] });
 * for (const step of steps) await session.run(step); // one live run, one run_end at close
 */
export async function startLiveSink(options: LiveSinkOptions): Promise<{ sink: GatewaySink; dashboardUrl: string }> {
  const sink = gatewaySink(options);
  const deadline = Date.now() + (options.connectTimeoutMs ?? 5000);
  while (!sink.publisher.connected) {
    if (Date.now() > deadline) {
      await sink.publisher.close(0);
      throw new InstrumentError('gateway_unreachable', `the metrics gateway at ${gatewayWsUrl(options.gatewayUrl)} did not accept a publisher connection within ${options.connectTimeoutMs ?? 5000} ms (check the URL and the publish token)`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return { sink, dashboardUrl: dashboardUrl(options.gatewayUrl, options.runId) };
}
