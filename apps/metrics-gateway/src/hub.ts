import { randomBytes } from 'node:crypto';
import { gatewayClientMessageSchema, type GatewayPublish, type GatewayRun, type GatewayServerMessage } from '@crucible/contracts';
import type { Logger } from 'pino';
import { WebSocket, type RawData } from 'ws';
import type { Channel } from './channel.js';
import { ChannelRegistry } from './channel-registry.js';
import type { GatewayConfig } from './config.js';
import { Connection, WriteBatcher } from './connection.js';
import type { GatewayMetrics, HubStats } from './gateway.metrics.js';
import type { HistoryStore } from './history/history.store.js';
import { plainEvent } from './plain-event.js';
import { RunStreams, type Appended } from './streams/run-streams.js';
import { withSeq } from './streams/stream-entry.js';

/** Close codes the gateway uses. */
export const CloseCode = {
  /** The gateway is shutting down. */
  goingAway: 1001,
  /** An operator dropped every connection (`POST /admin/drop-connections`); reconnect. */
  serviceRestart: 1012,
} as const;

/** Most channels a publisher's connection may subscribe to at once (anonymous ones: `maxAnonymousSubscriptions`). */
const maxSubscriptionsPerPublisher = 256;

/**
 * The WebSocket hub: publishers publish into run channels, subscribers receive every
 * message of a channel in sequence order. The hub holds the connections (heartbeat, close)
 * and reads their messages: it checks publishes (token, run ids, replayed sequences, acks)
 * and subscription requests; the {@link ChannelRegistry} keeps the channels and delivers.
 * Memory is bounded everywhere: a history ring per channel, a channel limit, and a slow
 * subscriber costs a cursor, not a queue.
 */
export class Hub {
  /** Random per process: a subscriber can tell it reconnected to a different gateway. */
  readonly instance = randomBytes(6).toString('hex');
  readonly #config: GatewayConfig;
  readonly #logger: Logger;
  readonly #metrics: GatewayMetrics | undefined;
  readonly #store: HistoryStore | undefined;
  readonly #clients = new Map<number, Connection>();
  readonly #channels: ChannelRegistry;
  /** The run channels shared with other replicas (`REDIS_URL`); undefined = this process alone. */
  readonly streams: RunStreams | undefined;
  readonly #batcher = new WriteBatcher();
  readonly #counts = { ingested: 0, rejected: 0, heartbeatTerminations: 0 };
  /** Messages ingested by type, as plain numbers (`gateway_messages_ingested_total` reads them at scrape). */
  readonly #ingestedByType: Partial<Record<GatewayPublish['type'], number>> = {};
  #nextId = 1;
  readonly #heartbeat: NodeJS.Timeout;

  constructor(config: GatewayConfig, logger: Logger, metrics?: GatewayMetrics, store?: HistoryStore) {
    this.#config = config;
    this.#logger = logger;
    this.#metrics = metrics;
    this.#store = store;
    this.#channels = new ChannelRegistry(config, logger);
    const channels = this.#channels;
    this.streams = config.streams
      ? new RunStreams(config.streams, { watched: () => channels.watched(), ingest: (run, seq, data, ends) => channels.ingest(run, seq, data, ends), outage: () => channels.expectAll() }, logger)
      : undefined;
    this.#heartbeat = setInterval(() => this.#beat(), config.heartbeatMs);
    this.#heartbeat.unref();
  }

  /** Open connections. */
  get size(): number {
    return this.#clients.size;
  }

  /** Counts for `/health` and `/metrics`. */
  stats(): HubStats {
    const delivery = this.#channels.counts();
    return {
      connections: this.#clients.size,
      channels: this.#channels.size,
      subscriptions: delivery.subscriptions,
      lagging: this.#channels.lagging,
      ingested: this.#counts.ingested,
      ingestedByType: { ...this.#ingestedByType },
      delivered: delivery.delivered,
      dropped: delivery.dropped,
      rejected: this.#counts.rejected,
      slowSubscriberEvents: delivery.slowSubscriberEvents,
      heartbeatTerminations: this.#counts.heartbeatTerminations,
    };
  }

  /** The channels held, most recently active first. */
  runs(): GatewayRun[] {
    return this.#channels.runs();
  }

  /**
   * Takes over an upgraded socket. `publisher`: it presented the publish token or a project
   * API key; `project`: the key's project, whose history its runs are filed under.
   */
  attach(ws: WebSocket, publisher: boolean, project?: string): void {
    const client = new Connection(this.#nextId++, ws, publisher, this.#batcher, project);
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

  /** Stops the timers and the stream reader; call after {@link closeAll}. */
  async stop(): Promise<void> {
    clearInterval(this.#heartbeat);
    this.#channels.stop();
    await this.streams?.close();
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

  #detach(client: Connection): void {
    if (!this.#clients.delete(client.id)) return;
    for (const sub of client.subs.values()) this.#channels.unsubscribe(sub);
  }

  #send(client: Connection, msg: GatewayServerMessage): void {
    if (client.open) client.send(JSON.stringify(msg));
  }

  #reject(client: Connection, code: string, message: string, details?: unknown): void {
    this.#counts.rejected++;
    this.#metrics?.rejected.inc({ code });
    this.#send(client, { type: 'error', error: { code, message, ...(details === undefined ? {} : { details }) } });
  }

  #onMessage(client: Connection, data: RawData, isBinary: boolean): void {
    if (isBinary) return this.#reject(client, 'unsupported_media_type', 'messages must be JSON text frames');
    const text = data.toString();
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      return this.#reject(client, 'invalid_json', 'message is not valid JSON');
    }
    // The common publish, an event, is checked by hand; its own text then is the message.
    const event = plainEvent(raw);
    if (event) return this.#publish(client, event, text);
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
        if (sub) this.#channels.unsubscribe(sub);
        return this.#send(client, { type: 'unsubscribed', run_id: msg.run_id });
      }
      default:
        return this.#publish(client, msg);
    }
  }

  /** `text`: the publisher's own JSON of `msg` when it is exactly the message (see {@link plainEvent}). */
  #publish(client: Connection, msg: GatewayPublish, text?: string): void {
    if (!client.publisher) {
      return this.#reject(client, 'unauthorized', 'publishing needs the publish token (Authorization: Bearer <token> or ?token= on /ws)');
    }
    if (msg.type === 'snapshot' && msg.snapshot.run_id !== msg.run_id) {
      return this.#reject(client, 'validation_failed', `snapshot.run_id: must equal run_id (${msg.run_id})`);
    }
    if (msg.type === 'run_end' && msg.summary.run_id !== msg.run_id) {
      return this.#reject(client, 'validation_failed', `summary.run_id: must equal run_id (${msg.run_id})`);
    }
    const channel = this.#channels.channel(msg.run_id);
    const known = Math.max(channel.lastSeq, channel.reserved);
    if (msg.seq !== undefined && msg.seq <= known) {
      // A publisher replaying after a reconnect: already have it, do not deliver twice.
      this.#send(client, { type: 'ack', run_id: msg.run_id, seq: msg.seq, duplicate: true });
      return;
    }
    // The run's project: the publishing key's; with the operator's token, what run_start named.
    if (client.project !== undefined && channel.project !== undefined && channel.project !== client.project) {
      return this.#reject(client, 'forbidden', `run ${msg.run_id} belongs to another project; choose another run_id`);
    }
    if (client.project !== undefined) channel.project = client.project;
    else if (msg.type === 'run_start' && msg.run.project !== undefined) channel.project = msg.run.project;
    if (this.#store && channel.project !== undefined && !this.#store.accept(channel.project, msg)) {
      // The history is behind (the database is down or slow) and its buffer is full: refuse
      // rather than accept what could not be kept. The publisher keeps it and retries.
      const s = this.#store.stats();
      return this.#reject(client, 'database_unavailable', 'the run history cannot take this message now (its database is behind or down); retry in a second', {
        run_id: msg.run_id,
        seq: msg.seq,
        buffered_rows: s.buffered,
        buffer_rows: s.bufferRows,
        retry_after_ms: 1000,
      });
    }
    if (this.streams) return this.#append(this.streams, client, channel, msg, known);
    const seq = msg.seq ?? channel.lastSeq + 1;
    this.#countIngested(msg.type);
    // Serialised once per message, for every subscriber: the publisher's text (with the sequence
    // appended as the streams do, see withSeq) when it is the message, else the parsed message.
    const out = text === undefined ? JSON.stringify({ ...msg, seq }) : msg.seq === undefined ? withSeq(text.trimEnd(), seq) : text;
    this.#channels.publish(channel, seq, out, msg.type === 'run_end');
    if (msg.seq !== undefined) this.#send(client, { type: 'ack', run_id: msg.run_id, seq, duplicate: false });
  }

  /**
   * A publish with Redis Streams: appended to the run's stream (which picks the sequence), then
   * delivered here at once when it follows what this channel holds; otherwise the stream reader
   * delivers it after the entries before it. Publishes to a channel settle in arrival order.
   */
  #append(streams: RunStreams, client: Connection, channel: Channel, msg: GatewayPublish, known: number): void {
    const { seq: own, ...rest } = msg;
    const body = JSON.stringify(rest);
    const want = own ?? known + 1;
    channel.reserved = Math.max(channel.reserved, want);
    const appended = streams.append(msg.run_id, want, own !== undefined, body, msg.type);
    channel.appending = channel.appending
      .then(() => appended)
      .then((r) => this.#appended(client, msg, body, r))
      .catch((err: unknown) => this.#logger.error({ err, run_id: msg.run_id }, 'delivering an appended publish failed'));
  }

  #appended(client: Connection, msg: GatewayPublish, body: string, r: Appended): void {
    if (r.kind === 'duplicate') {
      if (msg.seq !== undefined) this.#send(client, { type: 'ack', run_id: msg.run_id, seq: msg.seq, duplicate: true });
      return;
    }
    // The channel again: it may have lost its slot while the append was in flight.
    const channel = this.#channels.channel(msg.run_id);
    this.#countIngested(msg.type);
    const ends = msg.type === 'run_end';
    if (r.kind === 'streamed') {
      channel.reserved = Math.max(channel.reserved, r.seq);
      if (r.seq === channel.lastSeq + 1) this.#channels.publish(channel, r.seq, withSeq(body, r.seq), ends);
    } else if (r.seq <= channel.lastSeq && channel.holds(r.seq, withSeq(body, r.seq))) {
      // The append reached the stream after all (its reply was lost with the connection, or
      // came after the timeout) and the stream reader has delivered it under the sequence
      // asked for: delivering it again would give one message two sequences.
    } else if (msg.seq !== undefined && msg.seq <= channel.lastSeq) {
      // The stream reader delivered this sequence meanwhile: the publisher's replay is a duplicate.
      this.#send(client, { type: 'ack', run_id: msg.run_id, seq: msg.seq, duplicate: true });
      return;
    } else {
      // Redis is unavailable: this replica's subscribers get it now; other replicas' see a gap later.
      const seq = Math.max(r.seq, channel.lastSeq + 1);
      channel.reserved = Math.max(channel.reserved, seq);
      this.#channels.publish(channel, seq, withSeq(body, seq), ends);
    }
    if (msg.seq !== undefined) this.#send(client, { type: 'ack', run_id: msg.run_id, seq: msg.seq, duplicate: false });
  }

  #countIngested(type: GatewayPublish['type']): void {
    this.#counts.ingested++;
    this.#ingestedByType[type] = (this.#ingestedByType[type] ?? 0) + 1;
  }

  #subscribe(client: Connection, runId: string, since: number): void {
    const existing = client.subs.get(runId);
    if (existing) this.#channels.unsubscribe(existing);
    const limit = client.publisher ? maxSubscriptionsPerPublisher : this.#config.maxAnonymousSubscriptions;
    if (client.subs.size >= limit) {
      const who = client.publisher ? 'one connection' : 'a connection without the publish token (GATEWAY_MAX_ANONYMOUS_SUBSCRIPTIONS)';
      return this.#reject(client, 'validation_failed', `run_id: ${who} may watch at most ${limit} runs`);
    }
    const channel = this.#channels.watch(runId);
    this.#channels.subscribe(client, channel, since);
    if (!this.streams) return;
    // Subscribed while Redis is down: what other replicas publish meanwhile is lost to it, and it must be told.
    if (!this.streams.up) this.#channels.expectAll(channel);
    this.streams.watch(runId);
  }
}
