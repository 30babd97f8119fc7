import { failpoint } from '@crucible/service-kit';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { Gauge, type Registry } from 'prom-client';
import { statCounter } from '../gateway.metrics.js';
import type { StreamsConfig } from '../config.js';
import { appendScript, runOfKey, seqOfId, streamKey, withSeq } from './stream-entry.js';

/** How long one XREAD waits for new entries before the reader looks at its runs again. */
const blockMs = 1000;
/** Entries one XREAD takes per run at most: a long backlog is read in slices. */
const readCount = 512;
/** Pause of the reader after a failed read (Redis down): retries stay cheap and bounded. */
const readRetryMs = 100;

/** What the streams ask of the hub: which runs this replica watches, and where to put what it reads. */
export interface StreamSink {
  /** Runs with subscribers on this replica, each with the last sequence its channel holds. */
  watched(): Iterable<{ readonly runId: string; readonly lastSeq: number }>;
  /** An entry read from a run's stream: deliver it unless the channel already has `seq`. */
  ingest(runId: string, seq: number, data: string, ends: boolean): void;
  /** Redis became unavailable: what the stream does not bring from now on is a loss to report. */
  outage(): void;
}

/** What became of a publish. */
export type Appended =
  /** In the stream under `seq`: every replica watching the run reads it. */
  | { readonly kind: 'streamed'; readonly seq: number }
  /** The publisher's own sequence, which the stream already holds (a replay). */
  | { readonly kind: 'duplicate' }
  /** Redis did not take it in time: this replica alone delivers it, under `seq`. */
  | { readonly kind: 'local'; readonly seq: number };

/** The streams' figures, for `/health` (and `/metrics`). */
export interface StreamsStats {
  /** `up` while commands go through; `down` until Redis first answers, and from a failure until it answers again. */
  state: 'up' | 'down';
  outages: number;
  /** Entries appended to the streams by this replica. */
  appended: number;
  /** Entries read from the streams (published on any replica). */
  read: number;
  /** Publishes this replica delivered to its own subscribers only, because Redis was unavailable. */
  unstreamed: number;
  /**
   * Sequences this replica's reader found missing from a stream: lost in a Redis outage, or
   * trimmed away before it read them. Its subscribers waiting for them are told with a gap.
   */
  gap_messages: number;
  /** Runs the reader follows now. */
  runs_read: number;
  last_error: string | null;
}

type AppendingRedis = Redis & { gatewayAppend(key: string, want: number, own: '0' | '1', maxLen: number, body: string, type: string, ttlS: number): Promise<string | number> };

/**
 * Run channels shared between gateway replicas through Redis Streams, one stream per run.
 * A publish is appended (XADD by a script that picks the sequence: the stream's order is the
 * sequence); one reader loop per replica, on a connection of its own, follows every run this
 * replica has subscribers for with one blocking XREAD from each run's last sequence, and feeds
 * the hub. Redis unavailable, a publish is given up after `timeoutMs` and delivered by this
 * replica alone (counted as `unstreamed`); what another replica's subscribers miss shows as a
 * jump in the stream when Redis is back, which the hub reports to them as a gap. Like the task
 * API's shared cache: no offline queue, no command retries, reconnecting by itself.
 */
export class RunStreams {
  readonly #config: StreamsConfig;
  readonly #logger: Logger;
  readonly #sink: StreamSink;
  readonly #client: AppendingRedis;
  readonly #reader: Redis;
  readonly #stats: StreamsStats = { state: 'down', outages: 0, appended: 0, read: 0, unstreamed: 0, gap_messages: 0, runs_read: 0, last_error: null };
  /** After a failed append, publishes skip Redis until then: a stuck Redis costs one timeout per interval. */
  #skipUntil = 0;
  #readerId: number | undefined;
  #connected = false;
  /** Runs the XREAD in flight follows, to tell whether a new subscription needs it woken. */
  #reading = new Set<string>();
  #blocked = false;
  #idle: (() => void) | undefined;
  #stopped = false;
  readonly #loop: Promise<void>;

  constructor(config: StreamsConfig, sink: StreamSink, logger: Logger) {
    this.#config = config;
    this.#sink = sink;
    this.#logger = logger;
    const common = {
      connectTimeout: Math.max(config.timeoutMs, 500),
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      // Reconnect forever, quickly: Redis coming back must be noticed without a restart.
      retryStrategy: (times: number) => Math.min(50 * times, 1000),
      lazyConnect: true,
      // RESP2: XREAD answers [[key, entries], …] (RESP3 answers a map, flattened by ioredis).
      protocol: 2 as const,
    };
    this.#client = new Redis(config.url, { ...common, commandTimeout: config.timeoutMs }) as AppendingRedis;
    this.#client.defineCommand('gatewayAppend', { numberOfKeys: 1, lua: appendScript });
    // The reader's XREAD blocks for `blockMs`; past that and the timeout, Redis is stuck.
    this.#reader = new Redis(config.url, { ...common, commandTimeout: blockMs + config.timeoutMs * 2 });
    for (const c of [this.#client, this.#reader]) {
      // Without a listener ioredis prints every connection error itself; the outage is logged once.
      c.on('error', (err: Error) => this.#down(err.message));
      c.on('ready', () => this.#up());
      c.connect().catch((err: unknown) => this.#down(String((err as Error)?.message ?? err)));
    }
    this.#reader.on('ready', () => {
      this.#reader.call('CLIENT', 'ID').then((id) => (this.#readerId = Number(id)), () => (this.#readerId = undefined));
    });
    this.#loop = this.#run();
  }

  /** Whether Redis takes and serves the streams now. */
  get up(): boolean {
    return this.#stats.state === 'up';
  }

  /** Figures so far (a copy). */
  stats(): StreamsStats {
    return { ...this.#stats };
  }

  /**
   * Appends a message (its JSON `body`, without `seq`) to run `runId`'s stream. `want`: the
   * publisher's own sequence (`own`), or the lowest this replica may assign. Never rejects and
   * never waits past `timeoutMs`: with Redis unavailable it resolves `local` under `want`.
   */
  async append(runId: string, want: number, own: boolean, body: string, type: string): Promise<Appended> {
    if (Date.now() < this.#skipUntil || this.#client.status !== 'ready') return this.#local(want);
    try {
      const id = await this.#client.gatewayAppend(streamKey(this.#config.keyPrefix, runId), want, own ? '1' : '0', this.#config.maxLen, body, type, this.#config.ttlS);
      if (id === -1) return { kind: 'duplicate' };
      const seq = seqOfId(String(id));
      if (!Number.isSafeInteger(seq)) throw new Error(`the stream of ${runId} answered id ${String(id)}, not 0-<seq>`);
      this.#stats.appended++;
      this.#up();
      return { kind: 'streamed', seq };
    } catch (err) {
      this.#skipUntil = Date.now() + Math.max(250, this.#config.timeoutMs * 4);
      this.#down((err as Error)?.message ?? String(err));
      return this.#local(want);
    }
  }

  #local(seq: number): Appended {
    this.#stats.unstreamed++;
    return { kind: 'local', seq };
  }

  /** A subscription to a run the reader may not follow yet: wake its XREAD so it does. */
  watch(runId: string): void {
    if (this.#reading.has(runId)) return;
    if (this.#idle) {
      this.#idle();
      return;
    }
    // CLIENT UNBLOCK ends the blocked XREAD at once (as a timeout); the loop reads again with this run.
    if (this.#blocked && this.#readerId !== undefined && this.#client.status === 'ready') {
      this.#client.call('CLIENT', 'UNBLOCK', this.#readerId).catch(() => {});
    }
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      const runs = [...this.#sink.watched()];
      this.#stats.runs_read = runs.length;
      if (runs.length === 0) {
        // Nothing to follow: sleep until a subscription arrives (or a while, to look again).
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, blockMs);
          this.#idle = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.#idle = undefined;
        continue;
      }
      try {
        await this.#readOnce(runs);
      } catch (err) {
        if (this.#stopped) return;
        this.#down((err as Error)?.message ?? String(err));
        await new Promise((r) => setTimeout(r, readRetryMs));
      }
    }
  }

  async #readOnce(runs: { readonly runId: string; readonly lastSeq: number }[]): Promise<void> {
    const prefix = this.#config.keyPrefix;
    this.#reading = new Set(runs.map((r) => r.runId));
    const args: (string | number)[] = ['COUNT', readCount, 'BLOCK', blockMs, 'STREAMS'];
    for (const r of runs) args.push(streamKey(prefix, r.runId));
    for (const r of runs) args.push(`0-${r.lastSeq}`);
    this.#blocked = true;
    let reply: unknown;
    try {
      reply = await this.#reader.call('XREAD', ...args);
    } finally {
      this.#blocked = false;
    }
    this.#up();
    if (!Array.isArray(reply)) return;
    const cursor = new Map(runs.map((r) => [r.runId, r.lastSeq]));
    for (const [key, entries] of reply as [string, [string, string[]][]][]) {
      const runId = runOfKey(prefix, key);
      if (runId === undefined) continue;
      let last = cursor.get(runId) ?? 0;
      for (const [id, fields] of entries) {
        const seq = seqOfId(id);
        if (!Number.isSafeInteger(seq) || seq <= last) continue;
        this.#stats.read++;
        // Planted defect: the reader passes over an entry as if it had delivered it.
        if (failpoint('gateway.streams.skip-entry')) continue;
        // A jump in the stream is what another replica published while Redis was down (or what
        // Redis lost): the hub reports it to the subscribers as a gap; counted here as well.
        if (last > 0 && seq > last + 1) this.#stats.gap_messages += seq - last - 1;
        last = seq;
        const body = field(fields, 'm');
        if (body === undefined) continue;
        this.#sink.ingest(runId, seq, withSeq(body, seq), field(fields, 't') === 'run_end');
      }
    }
  }

  #down(error: string): void {
    const first = this.#stats.last_error === null;
    this.#stats.last_error = error;
    if (this.#stats.state === 'down' || this.#stopped) {
      // Never connected yet: say so once, not at every reconnect attempt.
      if (!this.#connected && first && !this.#stopped) this.#logger.warn({ event: 'redis_down', dependency: 'redis', error }, 'Redis not reachable yet: run channels are served by this replica alone');
      return;
    }
    this.#stats.state = 'down';
    this.#stats.outages++;
    this.#sink.outage();
    this.#logger.warn({ event: 'redis_down', dependency: 'redis', error }, 'Redis unavailable: run channels are served by this replica alone');
  }

  #up(): void {
    if (this.#stats.state === 'up' || this.#client.status !== 'ready' || this.#reader.status !== 'ready') return;
    this.#stats.state = 'up';
    this.#skipUntil = 0;
    if (!this.#connected) {
      this.#connected = true;
      this.#logger.info({ event: 'redis_up', dependency: 'redis' }, 'Redis connected: run channels are shared with the other replicas');
      return;
    }
    this.#logger.warn({ event: 'redis_up', dependency: 'redis' }, 'Redis reachable again: run channels are shared again');
  }

  /** Registers the streams' figures on the gateway's Prometheus registry. */
  register(registry: Registry): void {
    const registers = [registry];
    const stats = () => this.#stats;
    new Gauge({
      name: 'gateway_streams_up',
      help: 'Whether Redis Streams take and serve run channels now (1) or this replica serves alone (0)',
      registers,
      collect() {
        this.set(stats().state === 'up' ? 1 : 0);
      },
    });
    const total = (name: string, help: string, read: (s: StreamsStats) => number) => statCounter(registers, stats, name, help, read);
    total('gateway_streams_outages_total', 'Times Redis became unavailable', (s) => s.outages);
    total('gateway_streams_appended_total', 'Messages appended to run streams by this replica', (s) => s.appended);
    total('gateway_streams_read_total', 'Stream entries read by this replica', (s) => s.read);
    total('gateway_streams_unstreamed_total', 'Publishes delivered by this replica alone because Redis was unavailable', (s) => s.unstreamed);
    total('gateway_streams_gap_messages_total', 'Sequences missing from a stream when read (lost to other replicas in a Redis outage)', (s) => s.gap_messages);
  }

  /** Stops the reader and closes both connections. */
  async close(): Promise<void> {
    this.#stopped = true;
    this.#idle?.();
    this.#client.disconnect(false);
    this.#reader.disconnect(false);
    await this.#loop.catch(() => {});
  }
}

function field(fields: string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}
