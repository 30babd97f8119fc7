import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { gatewayClientMessageSchema, type GatewayPublish, type GatewayRun, type GatewayServerMessage } from '@crucible/contracts';
import type { Logger } from 'pino';
import { WebSocket, type RawData } from 'ws';
import { Channel, type SubscriberSocket, type Subscription } from './channel.js';
import type { GatewayConfig } from './config.js';
import type { GatewayMetrics, HubStats } from './gateway.metrics.js';

/** Close codes the gateway uses. */
export const CloseCode = {
  /** The gateway is shutting down. */
  goingAway: 1001,
  /** An operator dropped every connection (`POST /admin/drop-connections`); reconnect. */
  serviceRestart: 1012,
} as const;

/** Most channels one connection may subscribe to at once. */
const maxSubscriptionsPerClient = 256;
/** How often lagging subscribers are fed from the history ring. */
const pumpIntervalMs = 10;

/**
 * Coalesces the frames sent to one socket within an event-loop turn into one write: a
 * publish fans out to many sockets and a burst of publishes arrives in one turn, so this
 * saves a system call per frame where the load is highest.
 */
class WriteBatcher {
  readonly #corked: Client[] = [];
  #scheduled = false;

  /** Corks `client`'s socket until the end of this turn (once per turn). */
  hold(client: Client, socket: Socket): void {
    socket.cork();
    client.corked = true;
    this.#corked.push(client);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#flush);
    }
  }

  readonly #flush = (): void => {
    this.#scheduled = false;
    for (const c of this.#corked.splice(0)) {
      c.corked = false;
      c.socket?.uncork();
    }
  };
}

class Client implements SubscriberSocket {
  alive = true;
  corked = false;
  readonly subs = new Map<string, Subscription>();
  constructor(
    readonly id: number,
    readonly ws: WebSocket,
    readonly publisher: boolean,
    readonly batcher: WriteBatcher,
  ) {}
  /** The TCP socket under the WebSocket (ws keeps it as `_socket`). */
  get socket(): Socket | undefined {
    return (this.ws as unknown as { _socket?: Socket })._socket;
  }
  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }
  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }
  send(data: string): void {
    if (!this.corked) {
      const socket = this.socket;
      if (socket && !socket.destroyed) this.batcher.hold(this, socket);
    }
    this.ws.send(data);
  }
}

/**
 * The WebSocket hub: publishers publish into run channels, subscribers receive every
 * message of a channel in sequence order. Memory is bounded everywhere: a history ring per
 * channel, a channel limit, and a slow subscriber costs a cursor, not a queue (past the
 * buffered threshold it is fed from the shared ring, and what leaves the ring before it
 * catches up is reported to it as a gap and counted).
 */
export class Hub {
  /** Random per process: a subscriber can tell it reconnected to a different gateway. */
  readonly instance = randomBytes(6).toString('hex');
  readonly #config: GatewayConfig;
  readonly #logger: Logger;
  readonly #metrics: GatewayMetrics | undefined;
  readonly #clients = new Map<number, Client>();
  readonly #channels = new Map<string, Channel>();
  readonly #lagging = new Set<Subscription>();
  readonly #batcher = new WriteBatcher();
  readonly #counts = { ingested: 0, delivered: 0, dropped: 0, rejected: 0, slowSubscriberEvents: 0, heartbeatTerminations: 0, subscriptions: 0 };
  #nextId = 1;
  readonly #heartbeat: NodeJS.Timeout;
  readonly #pump: NodeJS.Timeout;

  constructor(config: GatewayConfig, logger: Logger, metrics?: GatewayMetrics) {
    this.#config = config;
    this.#logger = logger;
    this.#metrics = metrics;
    this.#heartbeat = setInterval(() => this.#beat(), config.heartbeatMs);
    this.#pump = setInterval(() => {
      for (const sub of this.#lagging) this.#feed(sub);
    }, pumpIntervalMs);
    this.#heartbeat.unref();
    this.#pump.unref();
  }

  /** Open connections. */
  get size(): number {
    return this.#clients.size;
  }

  /** Counts for `/health` and `/metrics`. */
  stats(): HubStats {
    return {
      connections: this.#clients.size,
      channels: this.#channels.size,
      subscriptions: this.#counts.subscriptions,
      lagging: this.#lagging.size,
      ingested: this.#counts.ingested,
      delivered: this.#counts.delivered,
      dropped: this.#counts.dropped,
      rejected: this.#counts.rejected,
      slowSubscriberEvents: this.#counts.slowSubscriberEvents,
      heartbeatTerminations: this.#counts.heartbeatTerminations,
    };
  }

  /** The channels held, most recently active first. */
  runs(): GatewayRun[] {
    return [...this.#channels.values()]
      .sort((a, b) => b.lastActivity - a.lastActivity)
      .map((c) => ({
        run_id: c.runId,
        last_seq: c.lastSeq,
        oldest_seq: c.ring.oldestSeq,
        kept: c.ring.size,
        subscribers: c.subscribers.size,
        ended: c.ended,
        last_activity: new Date(c.lastActivity).toISOString(),
      }));
  }

  /** Takes over an upgraded socket. `publisher`: it presented the publish token. */
  attach(ws: WebSocket, publisher: boolean): void {
    const client = new Client(this.#nextId++, ws, publisher, this.#batcher);
    this.#clients.set(client.id, client);
    this.#metrics?.connectionsOpened.inc({ role: publisher ? 'publisher' : 'subscriber' });
    ws.on('pong', () => {
      client.alive = true;
    });
    ws.on('message', (data, isBinary) => {
      client.alive = true;
      this.#onMessage(client, data, isBinary);
    });
    ws.on('error', (err) => this.#logger.debug({ err, client: client.id }, 'socket error'));
    ws.on('close', () => this.#detach(client));
    this.#send(client, { type: 'welcome', role: publisher ? 'publisher' : 'subscriber', heartbeat_ms: this.#config.heartbeatMs, instance: this.instance });
  }

  /**
   * Closes every connection with `code` (clients are expected to reconnect after 1012 and
   * to stop after 1001); a socket that has not finished closing after `graceMs` is cut.
   * Returns how many there were at once, and `done` once all are gone.
   */
  closeAll(code: number, reason: string, graceMs: number): { count: number; done: Promise<void> } {
    const clients = [...this.#clients.values()];
    const closed = clients.map((c) =>
      c.ws.readyState === WebSocket.CLOSED ? Promise.resolve() : new Promise<void>((resolve) => c.ws.once('close', () => resolve())),
    );
    for (const c of clients) c.ws.close(code, reason);
    const timer = setTimeout(() => {
      for (const c of clients) if (c.ws.readyState !== WebSocket.CLOSED) c.ws.terminate();
    }, graceMs);
    const done = Promise.all(closed).then(() => clearTimeout(timer));
    return { count: clients.length, done };
  }

  /** Stops the timers; call after {@link closeAll}. */
  stop(): void {
    clearInterval(this.#heartbeat);
    clearInterval(this.#pump);
  }

  #beat(): void {
    for (const c of this.#clients.values()) {
      if (!c.alive) {
        this.#counts.heartbeatTerminations++;
        this.#logger.info({ client: c.id }, 'terminating a connection that did not answer the last ping');
        c.ws.terminate();
        continue;
      }
      c.alive = false;
      c.ws.ping();
    }
  }

  #detach(client: Client): void {
    if (!this.#clients.delete(client.id)) return;
    for (const sub of client.subs.values()) this.#unsubscribe(sub);
  }

  #send(client: Client, msg: GatewayServerMessage): void {
    if (client.open) client.send(JSON.stringify(msg));
  }

  #reject(client: Client, code: string, message: string): void {
    this.#counts.rejected++;
    this.#metrics?.rejected.inc({ code });
    this.#send(client, { type: 'error', error: { code, message } });
  }

  #onMessage(client: Client, data: RawData, isBinary: boolean): void {
    if (isBinary) return this.#reject(client, 'unsupported_media_type', 'messages must be JSON text frames');
    let raw: unknown;
    try {
      raw = JSON.parse(data.toString());
    } catch {
      return this.#reject(client, 'invalid_json', 'message is not valid JSON');
    }
    const parsed = gatewayClientMessageSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const field = issue.path.length > 0 ? issue.path.join('.') : 'message';
      return this.#reject(client, 'validation_failed', `${field}: ${issue.message}`);
    }
    const msg = parsed.data;
    switch (msg.type) {
      case 'subscribe':
        return this.#subscribe(client, msg.run_id, msg.since ?? 0);
      case 'unsubscribe': {
        const sub = client.subs.get(msg.run_id);
        if (sub) this.#unsubscribe(sub);
        return this.#send(client, { type: 'unsubscribed', run_id: msg.run_id });
      }
      default:
        return this.#publish(client, msg);
    }
  }

  #channel(runId: string): Channel | undefined {
    let channel = this.#channels.get(runId);
    if (channel) return channel;
    if (this.#channels.size >= this.#config.maxChannels) {
      // Evict the least recently active channel nobody watches; with none, refuse.
      let victim: Channel | undefined;
      for (const c of this.#channels.values()) {
        if (c.subscribers.size === 0 && (!victim || c.lastActivity < victim.lastActivity)) victim = c;
      }
      if (!victim) return undefined;
      this.#channels.delete(victim.runId);
    }
    channel = new Channel(runId, this.#config.historySize);
    this.#channels.set(runId, channel);
    return channel;
  }

  #publish(client: Client, msg: GatewayPublish): void {
    if (!client.publisher) {
      return this.#reject(client, 'unauthorized', 'publishing needs the publish token (Authorization: Bearer <token> or ?token= on /ws)');
    }
    if (msg.type === 'snapshot' && msg.snapshot.run_id !== msg.run_id) {
      return this.#reject(client, 'validation_failed', `snapshot.run_id: must equal run_id (${msg.run_id})`);
    }
    if (msg.type === 'run_end' && msg.summary.run_id !== msg.run_id) {
      return this.#reject(client, 'validation_failed', `summary.run_id: must equal run_id (${msg.run_id})`);
    }
    const channel = this.#channel(msg.run_id);
    if (!channel) {
      return this.#reject(client, 'too_many_connections', `the gateway holds ${this.#config.maxChannels} watched channels (GATEWAY_MAX_CHANNELS)`);
    }
    if (msg.seq !== undefined && msg.seq <= channel.lastSeq) {
      // A publisher replaying after a reconnect: already have it, do not deliver twice.
      this.#send(client, { type: 'ack', run_id: msg.run_id, seq: msg.seq, duplicate: true });
      return;
    }
    const seq = msg.seq ?? channel.lastSeq + 1;
    channel.lastSeq = seq;
    channel.lastActivity = Date.now();
    if (msg.type === 'run_end') channel.ended = true;
    const data = JSON.stringify({ ...msg, seq });
    channel.ring.push({ seq, data });
    this.#counts.ingested++;
    this.#metrics?.ingested.inc({ type: msg.type });
    for (const sub of channel.subscribers.values()) {
      if (sub.lagging || seq < sub.nextSeq) continue;
      if (sub.client.bufferedAmount > this.#config.maxBufferedBytes) {
        this.#lag(sub);
        continue;
      }
      if (seq > sub.nextSeq) this.#gap(sub, seq);
      sub.client.send(data);
      sub.nextSeq = seq + 1;
      sub.fresh = false;
      this.#counts.delivered++;
    }
    if (msg.seq !== undefined) this.#send(client, { type: 'ack', run_id: msg.run_id, seq, duplicate: false });
  }

  #lag(sub: Subscription): void {
    sub.lagging = true;
    this.#lagging.add(sub);
    this.#counts.slowSubscriberEvents++;
    this.#logger.debug({ client: sub.client.id, run_id: sub.channel.runId, buffered: sub.client.bufferedAmount }, 'slow subscriber: feeding it from history');
  }

  /** Tells `sub` that `nextSeq … upTo-1` will not come (unless it has not received anything yet). */
  #gap(sub: Subscription, upTo: number): void {
    const from = sub.nextSeq;
    const to = upTo - 1;
    const evictedTo = Math.min(to, sub.channel.ring.evictedThrough);
    if (evictedTo >= from) this.#counts.dropped += evictedTo - from + 1;
    if (sub.fresh) return;
    const reason = from <= sub.channel.ring.evictedThrough ? 'evicted' : 'missing';
    sub.client.send(JSON.stringify({ type: 'gap', run_id: sub.channel.runId, from_seq: from, to_seq: to, reason } satisfies GatewayServerMessage));
  }

  /** Sends `sub` what it lacks from the ring while its socket is under the threshold. */
  #feed(sub: Subscription): void {
    const { ring } = sub.channel;
    if (!sub.client.open) {
      this.#lagging.delete(sub);
      return;
    }
    let i = ring.indexFrom(sub.nextSeq);
    while (sub.client.bufferedAmount <= this.#config.maxBufferedBytes) {
      const kept = ring.at(i++);
      if (!kept) {
        sub.lagging = false;
        this.#lagging.delete(sub);
        return;
      }
      if (kept.seq > sub.nextSeq) this.#gap(sub, kept.seq);
      sub.client.send(kept.data);
      sub.nextSeq = kept.seq + 1;
      sub.fresh = false;
      this.#counts.delivered++;
    }
  }

  #subscribe(client: Client, runId: string, since: number): void {
    const existing = client.subs.get(runId);
    if (existing) this.#unsubscribe(existing);
    if (client.subs.size >= maxSubscriptionsPerClient) {
      return this.#reject(client, 'validation_failed', `run_id: one connection may watch at most ${maxSubscriptionsPerClient} runs`);
    }
    const channel = this.#channel(runId);
    if (!channel) {
      return this.#reject(client, 'too_many_connections', `the gateway holds ${this.#config.maxChannels} watched channels (GATEWAY_MAX_CHANNELS)`);
    }
    // A fresh subscriber starts at the oldest message kept; a resuming one right after what it saw.
    const sub: Subscription = {
      channel,
      client,
      fresh: since === 0,
      nextSeq: since === 0 ? Math.max(1, channel.ring.oldestSeq) : since + 1,
      lagging: true,
    };
    channel.subscribers.set(client.id, sub);
    client.subs.set(runId, sub);
    this.#counts.subscriptions++;
    this.#send(client, { type: 'subscribed', run_id: runId, last_seq: channel.lastSeq, oldest_seq: channel.ring.oldestSeq });
    this.#lagging.add(sub);
    this.#feed(sub);
  }

  #unsubscribe(sub: Subscription): void {
    const client = sub.client as Client;
    if (client.subs.get(sub.channel.runId) === sub) client.subs.delete(sub.channel.runId);
    if (sub.channel.subscribers.get(client.id) === sub) {
      sub.channel.subscribers.delete(client.id);
      this.#counts.subscriptions--;
    }
    this.#lagging.delete(sub);
  }
}
