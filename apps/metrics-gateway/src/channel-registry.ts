import type { GatewayRun, GatewayServerMessage } from '@crucible/contracts';
import { failpoint } from '@crucible/service-kit';
import type { Logger } from 'pino';
import { Channel, type SubscriberSocket, type Subscription } from './channel.js';
import type { GatewayConfig } from './config.js';

/** How often lagging subscribers are fed from the history ring. */
const pumpIntervalMs = 10;
/**
 * How long the `gateway.deliver.reorder` failpoint holds a message back when no next message
 * comes to swap it with (the run's last message): long enough that at any publishing rate a
 * test uses the next one overtakes it (released at one pump, a message held at 100 events/s
 * per channel usually went out before its successor, and a planted reordering was not seen),
 * short enough that it still arrives before a run's tail ends.
 */
const reorderHoldMs = 200;

/** Delivery figures the hub reports. */
export interface DeliveryCounts {
  delivered: number;
  dropped: number;
  slowSubscriberEvents: number;
  subscriptions: number;
}

/**
 * The hub's channel and subscriber bookkeeping: the run channels (bounded, the least
 * recently active unwatched one evicted first), who subscribes to what, and delivery. A
 * subscriber whose socket is over the buffered threshold is not queued to: it is marked
 * lagging and a pump feeds it from the channel's shared ring as its socket drains; what
 * leaves the ring before it catches up is reported to it as a gap and counted as dropped.
 */
export class ChannelRegistry {
  readonly #config: Pick<GatewayConfig, 'historySize' | 'maxChannels' | 'maxBufferedBytes'>;
  readonly #logger: Logger;
  readonly #channels = new Map<string, Channel>();
  /** Channels with watchers and no slot: never published to, or evicted while watched. */
  readonly #pending = new Map<string, Channel>();
  readonly #lagging = new Set<Subscription>();
  /** Subscriptions holding back a message (the `gateway.deliver.reorder` failpoint only). */
  readonly #holding = new Set<Subscription>();
  readonly #pump: NodeJS.Timeout;
  readonly #counts: DeliveryCounts = { delivered: 0, dropped: 0, slowSubscriberEvents: 0, subscriptions: 0 };

  constructor(config: Pick<GatewayConfig, 'historySize' | 'maxChannels' | 'maxBufferedBytes'>, logger: Logger) {
    this.#config = config;
    this.#logger = logger;
    this.#pump = setInterval(() => {
      for (const sub of this.#lagging) this.#feed(sub);
      // A message held back for a swap goes out after the next one, or reorderHoldMs later.
      const now = performance.now();
      for (const sub of this.#holding) if (now - (sub.heldAt ?? 0) >= reorderHoldMs) this.#release(sub);
    }, pumpIntervalMs);
    this.#pump.unref();
  }

  /** Channels held. */
  get size(): number {
    return this.#channels.size;
  }

  /** Subscribers currently fed from the ring. */
  get lagging(): number {
    return this.#lagging.size;
  }

  /** Delivery counts so far (a copy). */
  counts(): DeliveryCounts {
    return { ...this.#counts };
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

  /**
   * The channel a publish to `runId` goes into, created when new. Only publishers take a
   * channel slot: at the limit the least recently active channel nobody watches makes room,
   * else the least recently active watched one loses its slot and its history (its
   * watchers keep their place and are told what was evicted when the run publishes again).
   * So watchers, who need no token, can never stop a publisher.
   */
  channel(runId: string): Channel {
    const held = this.#channels.get(runId);
    if (held) return held;
    if (this.#channels.size >= this.#config.maxChannels) this.#evictOne();
    const channel = this.#pending.get(runId) ?? new Channel(runId, this.#config.historySize);
    this.#pending.delete(runId);
    this.#channels.set(runId, channel);
    return channel;
  }

  /**
   * The channel a subscriber of `runId` watches: the published one, or a slotless channel
   * that waits for a publisher (it lives while someone watches it and holds no history).
   */
  watch(runId: string): Channel {
    const existing = this.#channels.get(runId) ?? this.#pending.get(runId);
    if (existing) return existing;
    const channel = new Channel(runId, this.#config.historySize);
    this.#pending.set(runId, channel);
    return channel;
  }

  /** Runs someone here subscribes to, with the last sequence each channel holds (what a stream reader resumes from). */
  *watched(): Generator<{ readonly runId: string; readonly lastSeq: number }> {
    for (const map of [this.#channels, this.#pending]) {
      for (const c of map.values()) if (c.subscribers.size > 0) yield { runId: c.runId, lastSeq: c.lastSeq };
    }
  }

  /**
   * A message of run `runId` read from its shared stream: it takes the channel's slot as a
   * publish does, and is delivered unless the channel already has `seq` (published here, or
   * read before). A jump past the channel's last sequence reaches its subscribers as a gap.
   */
  ingest(runId: string, seq: number, data: string, ends: boolean): void {
    const channel = this.channel(runId);
    if (seq <= channel.lastSeq) return;
    channel.reserved = Math.max(channel.reserved, seq);
    this.publish(channel, seq, data, ends);
  }

  /**
   * Makes the subscriptions of `channel` (or of every channel) expect every sequence from
   * their position on: a hole before a fresh subscriber's first message is then reported as
   * a gap, not taken for history it joined too late for. The streams call it in a Redis
   * outage, when what other replicas publish may never reach this one.
   */
  expectAll(channel?: Channel): void {
    const channels = channel ? [channel] : [...this.#channels.values(), ...this.#pending.values()];
    for (const c of channels) for (const sub of c.subscribers.values()) sub.fresh = false;
  }

  #evictOne(): void {
    let idle: Channel | undefined;
    let oldest: Channel | undefined;
    for (const c of this.#channels.values()) {
      if (c.subscribers.size === 0 && (!idle || c.lastActivity < idle.lastActivity)) idle = c;
      if (!oldest || c.lastActivity < oldest.lastActivity) oldest = c;
    }
    const victim = idle ?? oldest;
    if (!victim) return;
    this.#channels.delete(victim.runId);
    if (victim.subscribers.size === 0) return;
    victim.forgetHistory();
    this.#pending.set(victim.runId, victim);
    this.#logger.info({ run_id: victim.runId, subscribers: victim.subscribers.size }, 'channel limit: a watched channel lost its slot and history');
  }

  /**
   * Records message `seq` (its exact text `text`) in `channel` and sends it to every
   * subscriber that is caught up; a subscriber over the buffered threshold starts lagging.
   */
  publish(channel: Channel, seq: number, text: string, ends: boolean): void {
    channel.lastSeq = seq;
    channel.lastActivity = Date.now();
    if (ends) channel.ended = true;
    const data = Buffer.from(text);
    channel.ring.push({ seq, data });
    for (const sub of channel.subscribers.values()) {
      if (sub.lagging || seq < sub.nextSeq) continue;
      if (sub.client.bufferedAmount > this.#config.maxBufferedBytes) {
        this.#lag(sub);
        continue;
      }
      if (seq > sub.nextSeq) this.#gap(sub, seq);
      this.#deliver(sub, seq, data);
    }
  }

  /**
   * Subscribes `client` to `channel` from `since` (0: the oldest message kept; otherwise
   * right after what it saw), answers `subscribed`, then replays what the ring holds.
   */
  subscribe(client: SubscriberSocket, channel: Channel, since: number): void {
    const sub: Subscription = {
      channel,
      client,
      fresh: since === 0,
      nextSeq: since === 0 ? Math.max(1, channel.ring.oldestSeq) : since + 1,
      lagging: true,
    };
    channel.subscribers.set(client.id, sub);
    client.subs.set(channel.runId, sub);
    this.#counts.subscriptions++;
    const subscribed: GatewayServerMessage = { type: 'subscribed', run_id: channel.runId, last_seq: channel.lastSeq, oldest_seq: channel.ring.oldestSeq };
    if (client.open) client.send(JSON.stringify(subscribed));
    this.#lagging.add(sub);
    this.#feed(sub);
  }

  /** Ends a subscription (idempotent). */
  unsubscribe(sub: Subscription): void {
    const { client, channel } = sub;
    if (client.subs.get(channel.runId) === sub) client.subs.delete(channel.runId);
    if (channel.subscribers.get(client.id) === sub) {
      channel.subscribers.delete(client.id);
      this.#counts.subscriptions--;
      if (channel.subscribers.size === 0 && this.#pending.get(channel.runId) === channel) this.#pending.delete(channel.runId);
    }
    this.#lagging.delete(sub);
    this.#holding.delete(sub);
  }

  /** Stops the pump. */
  stop(): void {
    clearInterval(this.#pump);
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
      this.#deliver(sub, kept.seq, kept.data);
    }
  }

  /**
   * Sends message `seq` to `sub` and moves its cursor past it: the one place a message
   * reaches a subscriber, so the delivery failpoints sit here.
   */
  #deliver(sub: Subscription, seq: number, data: Buffer): void {
    sub.nextSeq = seq + 1;
    sub.fresh = false;
    // Planted defects: lose the message without a gap notice, or send it after the next one.
    if (failpoint('gateway.deliver.drop')) return;
    if (sub.held === undefined && failpoint('gateway.deliver.reorder')) {
      sub.held = data;
      sub.heldAt = performance.now();
      this.#holding.add(sub);
      return;
    }
    sub.client.send(data);
    this.#counts.delivered++;
    this.#release(sub);
  }

  /** Sends the message `sub` holds back, if any. */
  #release(sub: Subscription): void {
    const held = sub.held;
    if (held === undefined) return;
    sub.held = undefined;
    this.#holding.delete(sub);
    if (!sub.client.open) return;
    sub.client.send(held);
    this.#counts.delivered++;
  }
}
