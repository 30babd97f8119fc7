import { performance } from 'node:perf_hooks';
import { Http1Connection, type ConnectionOwner, type PendingRequest } from './connection.js';
import { HttpTransportError } from './response.js';

/** Options of an {@link Http1Pool}. */
export interface Http1PoolOptions {
  /** Most connections open at once. */
  readonly connections: number;
  /** Most requests written on one connection before its first answer (1 = no pipelining). */
  readonly pipelining: number;
  /** Idle time after which a connection is closed when the server gave no keep-alive hint. */
  readonly keepAliveTimeoutMs: number;
}

/** How often silent and idle connections are looked at: the timeouts' resolution. */
const SWEEP_MS = 50;

/**
 * Up to `connections` keep-alive HTTP/1.1 connections to one origin, a FIFO of requests
 * waiting for one, and one timer for every timeout (a sweep every {@link SWEEP_MS} ms
 * instead of a timer per request: a timeout fires up to that much late, never early).
 */
export class Http1Pool implements ConnectionOwner {
  readonly #host: string;
  readonly #port: number;
  readonly #options: Http1PoolOptions;
  readonly #all = new Set<Http1Connection>();
  /** Connections that can take a request now (no request in flight, or under the pipelining limit). */
  readonly #free: Http1Connection[] = [];
  #queue: PendingRequest[] = [];
  #queueHead = 0;
  #inflight = 0;
  #sweeper: NodeJS.Timeout | undefined;
  /** Idle since (per connection), measured by the sweep. */
  readonly #idleSince = new Map<Http1Connection, number>();
  #closed: Error | undefined;
  #drained: (() => void) | undefined;

  constructor(host: string, port: number, options: Http1PoolOptions) {
    this.#host = host;
    this.#port = port;
    this.#options = options;
  }

  /** Sends `req` on a free connection, a new one, or queues it until one is free. */
  dispatch(req: PendingRequest): void {
    if (this.#closed) return req.reject(this.#closed);
    this.#inflight++;
    const conn = this.#take() ?? (this.#all.size < this.#options.connections ? this.#open() : undefined);
    if (conn) this.#sendOn(conn, req);
    else this.#queue.push(req);
  }

  #sendOn(conn: Http1Connection, req: PendingRequest): void {
    conn.send(req);
    const room = conn.inflight.length < this.#options.pipelining;
    if (room && !conn.listed) {
      conn.listed = true;
      this.#free.push(conn);
    } else if (!room && conn.listed) this.#unlist(conn, this.#free.indexOf(conn));
  }

  #take(): Http1Connection | undefined {
    const free = this.#free;
    // Pipelining waits until every connection is open: spreading beats queueing on one socket.
    if (this.#options.pipelining > 1 && this.#all.size < this.#options.connections) {
      for (let i = free.length - 1; i >= 0; i--) {
        const c = free[i] as Http1Connection;
        if (c.inflight.length === 0) return this.#unlist(c, i);
      }
      return undefined;
    }
    while (free.length > 0) {
      const c = free[free.length - 1] as Http1Connection;
      // Without pipelining the one request fills it; with it, #sendOn unlists it when full.
      if (!c.gone) return this.#options.pipelining === 1 ? this.#unlist(c, free.length - 1) : c;
      free.pop();
      c.listed = false;
    }
    return undefined;
  }

  #unlist(c: Http1Connection, i: number): Http1Connection {
    const free = this.#free;
    free[i] = free[free.length - 1] as Http1Connection;
    free.pop();
    c.listed = false;
    return c;
  }

  #open(): Http1Connection {
    const conn = new Http1Connection(this.#port, this.#host, this);
    this.#all.add(conn);
    this.#sweeper ??= setInterval(() => this.#sweep(), SWEEP_MS).unref();
    return conn;
  }

  /** @internal */
  onFree(conn: Http1Connection): void {
    if (this.#queueHead < this.#queue.length) {
      const next = this.#queue[this.#queueHead] as PendingRequest;
      this.#queue[this.#queueHead++] = undefined as unknown as PendingRequest;
      if (this.#queueHead > 1024 && this.#queueHead * 2 > this.#queue.length) {
        this.#queue = this.#queue.slice(this.#queueHead);
        this.#queueHead = 0;
      }
      this.#sendOn(conn, next);
      return;
    }
    if (!conn.listed && conn.inflight.length < this.#options.pipelining) {
      conn.listed = true;
      this.#free.push(conn);
    }
  }

  /** @internal */
  onGone(conn: Http1Connection): void {
    this.#all.delete(conn);
    this.#idleSince.delete(conn);
    if (conn.listed) {
      const i = this.#free.indexOf(conn);
      if (i >= 0) this.#unlist(conn, i);
    }
    // Requests waiting for a connection get a new one in its place.
    if (!this.#closed && this.#queueHead < this.#queue.length && this.#all.size < this.#options.connections) {
      const next = this.#queue[this.#queueHead] as PendingRequest;
      this.#queue[this.#queueHead++] = undefined as unknown as PendingRequest;
      this.#sendOn(this.#open(), next);
    }
  }

  /** @internal */
  onSettled(n: number): void {
    this.#inflight -= n;
    if (this.#inflight === 0 && this.#drained) this.#drained();
  }

  #sweep(): void {
    const now = performance.now();
    for (const conn of this.#all) {
      if (conn.inflight.length > 0) {
        this.#idleSince.delete(conn);
        conn.sweep(now);
        continue;
      }
      const since = this.#idleSince.get(conn);
      if (since === undefined) this.#idleSince.set(conn, now);
      else if (now - since >= (conn.keepAliveMs ?? this.#options.keepAliveTimeoutMs)) {
        conn.retire();
      }
    }
    if (this.#all.size === 0 && this.#sweeper) {
      clearInterval(this.#sweeper);
      this.#sweeper = undefined;
    }
  }

  /** Refuses new requests, waits for those in flight or queued, then ends every connection. */
  async close(): Promise<void> {
    this.#closed ??= new HttpTransportError('UND_ERR_CLOSED', 'the client is closed');
    if (this.#inflight > 0) await new Promise<void>((resolve) => (this.#drained = resolve));
    for (const conn of [...this.#all]) conn.end();
    this.#all.clear();
    this.#free.length = 0;
    if (this.#sweeper) clearInterval(this.#sweeper);
    this.#sweeper = undefined;
  }

  /** Fails every request in flight or queued and closes every connection now. */
  async destroy(): Promise<void> {
    const err = new HttpTransportError('UND_ERR_DESTROYED', 'the client was destroyed');
    this.#closed = err;
    const queued = this.#queue.slice(this.#queueHead);
    this.#queue = [];
    this.#queueHead = 0;
    if (queued.length > 0) this.onSettled(queued.length);
    for (const req of queued) req.reject(err);
    for (const conn of [...this.#all]) conn.destroy(err);
    if (this.#sweeper) clearInterval(this.#sweeper);
    this.#sweeper = undefined;
  }
}
