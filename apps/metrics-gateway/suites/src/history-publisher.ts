import type { GatewayPublish, GatewayServerMessage, MetricSnapshot, RunEndSummary } from '@crucible/contracts';
import { WebSocket } from 'ws';

/** What the gateway answered to one publish with a `seq`: its ack, or its refusal. */
export type PublishAnswer = { ok: true; duplicate: boolean } | { ok: false; code: string; message: string; details: unknown };

/**
 * A publisher of the run history tests: one WebSocket with a token (the operator's publish
 * token or a project API key); every publish carries a `seq` and resolves with the
 * gateway's answer to it, so a test knows exactly what was acknowledged.
 */
export class HistoryPublisher {
  readonly #ws: WebSocket;
  readonly #waiting = new Map<string, (a: PublishAnswer) => void>();

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.on('message', (data) => {
      const msg = JSON.parse(data.toString()) as GatewayServerMessage;
      if (msg.type === 'ack') this.#answer(msg.run_id, msg.seq, { ok: true, duplicate: msg.duplicate });
      if (msg.type === 'error') {
        const d = msg.error.details as { run_id?: string; seq?: number } | undefined;
        if (d?.run_id !== undefined && d.seq !== undefined) this.#answer(d.run_id, d.seq, { ok: false, code: msg.error.code, message: msg.error.message, details: d });
        // A refusal that names no message (e.g. another project's run) answers every publish waiting.
        else {
          for (const resolve of this.#waiting.values()) resolve({ ok: false, code: msg.error.code, message: msg.error.message, details: d });
          this.#waiting.clear();
        }
      }
    });
  }

  /** Connects to `${url}/ws` with `token`; resolves once the gateway welcomed it. */
  static connect(url: string, token: string): Promise<HistoryPublisher> {
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/ws`, { headers: { authorization: `Bearer ${token}` } });
    return new Promise((resolve, reject) => {
      ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
      ws.once('error', reject);
      ws.once('message', () => resolve(new HistoryPublisher(ws)));
    });
  }

  #answer(runId: string, seq: number, a: PublishAnswer): void {
    const k = `${runId}#${seq}`;
    const resolve = this.#waiting.get(k);
    this.#waiting.delete(k);
    resolve?.(a);
  }

  /** Sends `msg` and waits for the gateway's answer to its `seq`. */
  publish(msg: GatewayPublish & { seq: number }): Promise<PublishAnswer> {
    return new Promise((resolve, reject) => {
      this.#waiting.set(`${msg.run_id}#${msg.seq}`, resolve);
      this.#ws.send(JSON.stringify(msg), (err) => err && reject(err));
    });
  }

  close(): void {
    this.#ws.close();
  }
}

/** A per-second snapshot of `scenario` at second `t`, with latency figures that tell runs apart. */
export function snapshot(runId: string, scenario: string, t: number, p99: number, errors = 0): MetricSnapshot {
  return {
    run_id: runId,
    scenario,
    t,
    requests: 100,
    errors,
    rps: 100,
    latency_ms: { p50: p99 / 4, p95: p99 / 2, p99 },
    histogram: `HISTFAKE${runId}${t}`,
  };
}

/** A run_end summary of one scenario with one threshold. */
export function summary(runId: string, scenario: string, p99: number, passed: boolean): RunEndSummary {
  return {
    run_id: runId,
    passed,
    status: passed ? 'pass' : 'fail',
    finished_at: new Date().toISOString(),
    duration_s: 3,
    scenarios: [
      {
        name: scenario,
        requests: 300,
        errors: passed ? 0 : 30,
        error_rate: passed ? 0 : 0.1,
        rps: 100,
        latency_ms: { p50: p99 / 4, p95: p99 / 2, p99 },
        thresholds: [{ metric: 'latency_ms', expression: 'p(99)<100', passed: p99 < 100, actual: p99 }],
        passed,
      },
    ],
  };
}
