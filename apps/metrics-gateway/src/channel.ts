/**
 * One message kept in a channel's history: its sequence and the exact text subscribers get,
 * encoded once (UTF-8) when it came in, so a fan-out to many subscribers writes the same bytes
 * to each instead of encoding the text again per subscriber.
 */
export interface Kept {
  readonly seq: number;
  readonly data: Buffer;
}

/**
 * A fixed-capacity ring of channel messages in ascending sequence order. Sequences may
 * have holes (a restarted gateway receiving a publisher's replay), so lookups search.
 */
export class HistoryRing {
  // Grown as messages arrive (indices stay dense until the ring is full), so a channel that
  // only has watchers costs no history.
  readonly #items: (Kept | undefined)[] = [];
  #start = 0;
  #size = 0;
  /** Highest sequence that left the ring because it was full. */
  evictedThrough = 0;

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.#size;
  }

  /** Appends (sequences must grow); the oldest message leaves when the ring is full. */
  push(item: Kept): void {
    if (this.#size === this.capacity) {
      const old = this.#items[this.#start]!;
      this.evictedThrough = old.seq;
      this.#items[this.#start] = item;
      this.#start = (this.#start + 1) % this.capacity;
      return;
    }
    this.#items[(this.#start + this.#size) % this.capacity] = item;
    this.#size++;
  }

  /** The i-th oldest message kept. */
  at(i: number): Kept | undefined {
    return i < 0 || i >= this.#size ? undefined : this.#items[(this.#start + i) % this.capacity];
  }

  get oldestSeq(): number {
    return this.at(0)?.seq ?? 0;
  }

  /** Index of the first message with `seq >= target` (= size when none). */
  indexFrom(target: number): number {
    let lo = 0;
    let hi = this.#size;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.at(mid)!.seq < target) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/** What a subscription needs of its connection. */
export interface SubscriberSocket {
  readonly id: number;
  readonly bufferedAmount: number;
  readonly open: boolean;
  /** The connection's subscriptions, by run. */
  readonly subs: Map<string, Subscription>;
  /** Sends one text frame: a string, or the UTF-8 bytes of one. */
  send(data: string | Buffer): void;
}

/** A subscriber's position in one channel. Its memory cost is constant: the ring is shared. */
export interface Subscription {
  readonly channel: Channel;
  readonly client: SubscriberSocket;
  /** Until the first message arrives, holes before it are not reported as gaps. */
  fresh: boolean;
  /** The next sequence this subscriber should receive. */
  nextSeq: number;
  /** Set while the socket is over the buffered threshold or replaying: the pump feeds it from the ring. */
  lagging: boolean;
  /** A message held back to be sent after the next one (the `gateway.deliver.reorder` failpoint). */
  held?: Buffer | undefined;
  /** When `held` was held back (ms, monotonic clock). */
  heldAt?: number;
}

/** A run's channel: its bounded history and its subscribers. */
export class Channel {
  ring: HistoryRing;
  lastSeq = 0;
  ended = false;
  lastActivity = Date.now();
  /** The project whose history this run is filed under, once a publisher made it known. */
  project: string | undefined;
  /** Subscriptions by connection id. */
  readonly subscribers = new Map<number, Subscription>();
  /**
   * With Redis Streams: the highest sequence this replica has asked the stream for (a publish
   * in flight), so the next publish asks for a later one.
   */
  reserved = 0;
  /** With Redis Streams: the publishes in flight, settled in the order they arrived. */
  appending: Promise<void> = Promise.resolve();

  constructor(
    readonly runId: string,
    historySize: number,
  ) {
    this.ring = new HistoryRing(historySize);
  }

  /** Whether the history holds message `seq` with exactly `text`. */
  holds(seq: number, text: string): boolean {
    const kept = this.ring.at(this.ring.indexFrom(seq));
    return kept !== undefined && kept.seq === seq && kept.data.equals(Buffer.from(text));
  }

  /** Drops the history (the channel lost its slot); what it held counts as evicted for resumers. */
  forgetHistory(): void {
    const ring = new HistoryRing(this.ring.capacity);
    ring.evictedThrough = this.lastSeq;
    this.ring = ring;
  }
}
