import type { GatewayServerMessage } from '@crucible/contracts';
import { WebSocket } from 'ws';

/** Wall-clock milliseconds with sub-millisecond resolution (same clock for sender and receiver here). */
export const nowMs = (): number => performance.timeOrigin + performance.now();

/** Per-subscriber sequence bookkeeping: what a user of a live feed would check. */
export interface OrderStats {
  received: number;
  /** Sequences skipped without the gateway saying so and never delivered later. */
  gaps: number;
  /** Sequences the gateway reported as lost (`gap` messages). */
  reportedGaps: number;
  /** A sequence at or below one already seen (a late one, or a repeat). */
  outOfOrder: number;
}

/** Skipped sequences remembered per subscriber, so a late arrival is told from a loss. */
const maxRememberedSkips = 10_000;

/** One simulated client of the gateway: a publisher or a subscriber of one channel. */
export class LoadClient {
  ws: WebSocket | undefined;
  readonly order: OrderStats = { received: 0, gaps: 0, reportedGaps: 0, outOfOrder: 0 };
  lastSeq = 0;
  /** Sequences skipped without notice that may still arrive late (bounded). */
  readonly #skipped = new Set<number>();
  /** When the current connection became usable (welcome for publishers, subscribed for subscribers). */
  readyAt = 0;
  connectFailures = 0;
  /** `error` answers of the gateway to this client, by error code (a refused publish or subscribe). */
  readonly rejected: Record<string, number> = {};
  rejectedCount = 0;
  reconnecting = false;
  /** The gateway process that welcomed the current connection (its `instance`): which replica a balancer chose. */
  instance: string | undefined;
  #stopped = false;
  #onReady: (() => void) | undefined;

  constructor(
    readonly id: number,
    readonly role: 'publisher' | 'subscriber',
    readonly channel: string,
    readonly wsUrl: string,
    readonly token: string,
    /** Receives each publish→receipt latency (ms). */
    public onLatency: (ms: number) => void,
    /** Called when a dropped connection should be reopened (the storm phase sets it). */
    public onClose: ((client: LoadClient, code: number) => void) | undefined = undefined,
  ) {}

  /** Closed for good by {@link stop}. */
  get stopped(): boolean {
    return this.#stopped;
  }

  get ready(): boolean {
    return this.readyAt > 0 && this.ws?.readyState === WebSocket.OPEN;
  }

  /** Opens the connection; resolves when it is usable, rejects on failure or after `timeoutMs`. */
  connect(timeoutMs: number): Promise<void> {
    this.readyAt = 0;
    const ws = new WebSocket(this.wsUrl, {
      headers: this.role === 'publisher' ? { authorization: `Bearer ${this.token}` } : {},
      perMessageDeflate: false,
      handshakeTimeout: timeoutMs,
    });
    this.ws = ws;
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => fail(new Error(`not ready within ${timeoutMs} ms`)), timeoutMs);
      const fail = (err: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        ws.terminate();
        reject(err);
      };
      this.#onReady = () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve();
      };
      ws.on('error', (err) => fail(err));
      ws.on('open', () => {
        if (this.role === 'subscriber') ws.send(JSON.stringify({ type: 'subscribe', run_id: this.channel, since: this.lastSeq }));
      });
      ws.on('message', (data) => this.#onMessage(data.toString()));
      ws.on('close', (code) => {
        this.readyAt = 0;
        if (!settled) fail(new Error(`closed (${code}) before ready`));
        else if (!this.#stopped && ws === this.ws) this.onClose?.(this, code);
      });
    });
  }

  #onMessage(text: string): void {
    const msg = JSON.parse(text) as GatewayServerMessage;
    switch (msg.type) {
      case 'welcome':
        this.instance = msg.instance;
        if (this.role === 'publisher') {
          this.readyAt = nowMs();
          this.#onReady?.();
        }
        return;
      case 'subscribed':
        this.readyAt = nowMs();
        this.#onReady?.();
        return;
      case 'event': {
        const o = this.order;
        if (msg.seq <= this.lastSeq) {
          o.outOfOrder++;
          // Late, not lost: it no longer counts as a gap.
          if (this.#skipped.delete(msg.seq)) {
            o.gaps--;
            o.received++;
          }
          return;
        }
        if (msg.seq !== this.lastSeq + 1) {
          o.gaps += msg.seq - this.lastSeq - 1;
          for (let q = this.lastSeq + 1; q < msg.seq && this.#skipped.size < maxRememberedSkips; q++) this.#skipped.add(q);
        }
        this.lastSeq = msg.seq;
        o.received++;
        if (msg.event.sent_at !== undefined) this.onLatency(Math.max(0, nowMs() - msg.event.sent_at));
        return;
      }
      case 'error':
        this.rejected[msg.error.code] = (this.rejected[msg.error.code] ?? 0) + 1;
        this.rejectedCount++;
        return;
      case 'gap':
        this.order.reportedGaps += msg.to_seq - msg.from_seq + 1;
        this.lastSeq = Math.max(this.lastSeq, msg.to_seq);
        return;
      default:
    }
  }

  /**
   * Publishes one small event stamped with the send time. Refuses (false) when not
   * connected, or when more than `maxBufferedBytes` already wait in this socket: an open
   * model must not turn the generator's memory into an unbounded queue.
   */
  publish(value: number, maxBufferedBytes = 1 << 20): boolean {
    const ws = this.ws;
    if (!this.ready || !ws || ws.bufferedAmount > maxBufferedBytes) return false;
    ws.send(JSON.stringify({ type: 'event', run_id: this.channel, event: { name: 'load', value, sent_at: nowMs() } }));
    return true;
  }

  /** Closes for good (no reconnect). */
  stop(): Promise<void> {
    this.#stopped = true;
    const ws = this.ws;
    if (!ws || ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      ws.once('close', () => resolve());
      ws.close(1000);
      setTimeout(() => {
        ws.terminate();
        resolve();
      }, 2000).unref();
    });
  }
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function pool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
