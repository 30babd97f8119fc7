import net from 'node:net';
import { Http1Response, HttpTransportError } from './response.js';

/** One request handed to a connection: already serialised, with its promise's settlers. */
export interface PendingRequest {
  /** Request line, headers, blank line and (when a string) the body. */
  readonly head: string;
  readonly headEncoding: 'latin1' | 'utf8';
  /** A Buffer body, written after `head` in the same corked write. */
  readonly body: Buffer | undefined;
  readonly isHead: boolean;
  readonly discardBody: boolean;
  /** Longest silence of the socket (ms) while this request waits for its answer. */
  readonly timeoutMs: number;
  resolve(res: Http1Response): void;
  reject(err: Error): void;
}

/** What a connection tells its pool. */
export interface ConnectionOwner {
  /** A response completed and the connection can take another request. */
  onFree(conn: Http1Connection): void;
  /** The connection is closed (by either side); it takes nothing more. */
  onGone(conn: Http1Connection): void;
  /** `n` requests settled (answered or failed). */
  onSettled(n: number): void;
}

const CRLF = Buffer.from('\r\n');
const CRLFCRLF = Buffer.from('\r\n\r\n');
/** A header block or chunk-size line longer than this is not a server we can trust. */
const MAX_LINE = 64 * 1024;

const enum State {
  Head,
  Length,
  ChunkSize,
  ChunkData,
  ChunkEnd,
  Trailers,
  UntilClose,
}

/**
 * One keep-alive HTTP/1.1 connection: writes requests (pipelined up to the pool's limit),
 * parses responses in order (Content-Length, chunked with trailers, read-until-close, HEAD,
 * 1xx, 204/304), honours `Connection: close` and the server's `Keep-Alive: timeout`, and
 * fails every request it holds on a reset, an early close or a timeout. It does the minimum
 * per response — one scan for the end of the header block, one pass over the fields for the
 * framing ones — because on two shared cores every microsecond here is taken from the
 * system under test.
 */
export class Http1Connection {
  readonly #socket: net.Socket;
  readonly #owner: ConnectionOwner;
  /** Requests written and not yet answered, oldest first. */
  readonly inflight: PendingRequest[] = [];
  /** Listed in the pool's free list (so it is never listed twice). */
  listed = false;
  gone = false;
  /** Keep-alive hint of the server minus a margin (ms), or undefined when it gave none. */
  keepAliveMs: number | undefined;
  /** Set by traffic, cleared by the pool's sweep: the sweep measures silence from there. */
  active = true;
  quietSince = 0;
  #state = State.Head;
  #pending: Buffer | undefined;
  #status = 0;
  #fields = '';
  #remaining = 0;
  #chunks: Buffer[] = [];
  #closeAfter = false;

  constructor(port: number, host: string, owner: ConnectionOwner) {
    this.#owner = owner;
    const socket = net.connect({ port, host, noDelay: true });
    this.#socket = socket;
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('end', () => this.#onEnd());
    socket.on('error', (err: NodeJS.ErrnoException) => this.#fail(err.code ? new HttpTransportError(err.code, err.message, { cause: err }) : err));
    socket.on('close', () => this.#fail(new HttpTransportError('UND_ERR_SOCKET', 'other side closed')));
  }

  /** Writes `req` (the socket buffers it until connected). */
  send(req: PendingRequest): void {
    this.inflight.push(req);
    this.active = true;
    if (req.body) {
      this.#socket.cork();
      this.#socket.write(req.head, 'latin1');
      this.#socket.write(req.body);
      this.#socket.uncork();
    } else this.#socket.write(req.head, req.headEncoding);
  }

  /** Ends the connection politely (after the last answer). */
  end(): void {
    this.#socket.end();
  }

  /** Ends an idle connection and leaves the pool (kept-alive long enough). */
  retire(): void {
    if (this.gone) return;
    this.gone = true;
    this.#socket.end();
    this.#owner.onGone(this);
  }

  /** Closes now, failing what it holds with `err`. */
  destroy(err: Error): void {
    this.#fail(err);
  }

  /** Fails what it holds when the socket has been silent for the oldest request's timeout. */
  sweep(now: number): void {
    const head = this.inflight[0];
    if (!head) return;
    if (this.active) {
      this.active = false;
      this.quietSince = now;
    } else if (now - this.quietSince >= head.timeoutMs) {
      const phase = this.#state === State.Head ? 'HEADERS' : 'BODY';
      this.#fail(new HttpTransportError(`UND_ERR_${phase}_TIMEOUT`, `no ${phase.toLowerCase()} within ${head.timeoutMs} ms`));
    }
  }

  #fail(err: Error): void {
    if (!this.gone) {
      this.gone = true;
      this.#socket.destroy();
      this.#owner.onGone(this);
    }
    const failed = this.inflight.splice(0);
    if (failed.length === 0) return;
    this.#owner.onSettled(failed.length);
    for (const req of failed) req.reject(err);
  }

  #onEnd(): void {
    // No length and not chunked: the body is everything up to the close.
    if (this.#state === State.UntilClose && this.inflight.length > 0) this.#complete();
    this.#fail(new HttpTransportError('UND_ERR_SOCKET', 'other side closed'));
  }

  #onData(chunk: Buffer): void {
    this.active = true;
    let buf = chunk;
    if (this.#pending) {
      buf = Buffer.concat([this.#pending, chunk]);
      this.#pending = undefined;
    }
    let i = 0;
    const len = buf.length;
    while (i < len && !this.gone) {
      if (this.inflight.length === 0) return this.#protocolError('data with no request waiting for it');
      switch (this.#state) {
        case State.Head: {
          const end = buf.indexOf(CRLFCRLF, i);
          if (end < 0) return this.#keep(buf, i);
          const start = i;
          i = end + 4;
          if (!this.#head(buf.toString('latin1', start, end))) return;
          break;
        }
        case State.Length:
        case State.ChunkData: {
          const n = Math.min(this.#remaining, len - i);
          if (!this.inflight[0]?.discardBody) this.#chunks.push(buf.subarray(i, i + n));
          i += n;
          this.#remaining -= n;
          if (this.#remaining > 0) break;
          if (this.#state === State.Length) this.#complete();
          else this.#state = State.ChunkEnd;
          break;
        }
        case State.ChunkSize: {
          const eol = buf.indexOf(CRLF, i);
          if (eol < 0) return this.#keep(buf, i);
          const line = buf.toString('latin1', i, eol);
          const semi = line.indexOf(';');
          const hex = (semi < 0 ? line : line.slice(0, semi)).trim();
          const size = /^[0-9a-fA-F]{1,12}$/.test(hex) ? parseInt(hex, 16) : NaN;
          if (!Number.isFinite(size)) return this.#protocolError(`invalid chunk size "${line.slice(0, 40)}"`);
          i = eol + 2;
          if (size === 0) this.#state = State.Trailers;
          else {
            this.#remaining = size;
            this.#state = State.ChunkData;
          }
          break;
        }
        case State.ChunkEnd: {
          if (len - i < 2) return this.#keep(buf, i);
          if (buf[i] !== 13 || buf[i + 1] !== 10) return this.#protocolError('chunk not followed by CRLF');
          i += 2;
          this.#state = State.ChunkSize;
          break;
        }
        case State.Trailers: {
          const eol = buf.indexOf(CRLF, i);
          if (eol < 0) return this.#keep(buf, i);
          // Trailer fields are skipped; the empty line ends the message.
          const empty = eol === i;
          i = eol + 2;
          if (empty) this.#complete();
          break;
        }
        case State.UntilClose: {
          if (!this.inflight[0]?.discardBody) this.#chunks.push(i === 0 ? buf : buf.subarray(i));
          i = len;
          break;
        }
      }
    }
  }

  /** Keeps the unparsed rest of `buf` for the next read. */
  #keep(buf: Buffer, from: number): void {
    if (buf.length - from > MAX_LINE) return this.#protocolError(`a header block or chunk line over ${MAX_LINE} bytes`);
    this.#pending = Buffer.from(buf.subarray(from));
  }

  /** Parses the status line and header block; false when it failed the connection. */
  #head(text: string): boolean {
    if (!text.startsWith('HTTP/1.') || text.charCodeAt(8) !== 32) {
      this.#protocolError(`not an HTTP/1.x response: "${text.slice(0, 40)}"`);
      return false;
    }
    const status = Number(text.slice(9, 12));
    if (!(status >= 100 && status <= 999)) {
      this.#protocolError(`invalid status line "${text.slice(0, 40)}"`);
      return false;
    }
    const http10 = text.charCodeAt(7) === 48;
    let keepAlive = !http10;
    let chunked = false;
    let length = -1;
    // Only the framing fields are read here (by length first: most fields are none of them);
    // the response parses the whole block into an object only if someone reads its headers.
    let p = text.indexOf('\r\n');
    while (p >= 0) {
      const from = p + 2;
      const eol = text.indexOf('\r\n', from);
      const colon = text.indexOf(':', from);
      const n = colon - from;
      if (colon > from && (eol < 0 || colon < eol) && (n === 10 || n === 14 || n === 17)) {
        const name = text.slice(from, colon).toLowerCase();
        const value = (eol < 0 ? text.slice(colon + 1) : text.slice(colon + 1, eol)).trim();
        if (name === 'content-length') length = /^\d{1,15}$/.test(value) ? Number(value) : -2;
        else if (name === 'transfer-encoding') chunked = value.toLowerCase().endsWith('chunked');
        else if (name === 'connection') {
          const v = value.toLowerCase();
          if (v.includes('close')) keepAlive = false;
          else if (v.includes('keep-alive')) keepAlive = true;
        } else if (name === 'keep-alive') {
          const m = /timeout=(\d+)/i.exec(value);
          // A margin of a second, as undici keeps, so we never send on a socket the server is closing.
          if (m) this.keepAliveMs = Math.max(0, Number(m[1]) * 1000 - 1000);
        }
      }
      p = eol;
    }
    if (length === -2) {
      this.#protocolError('invalid content-length');
      return false;
    }
    // 1xx (but 101) is an interim answer: the real one follows for the same request.
    if (status < 200 && status !== 101) return true;
    this.#status = status;
    this.#fields = text;
    this.#closeAfter = !keepAlive || status === 101;
    const req = this.inflight[0] as PendingRequest;
    if (req.isHead || status === 204 || status === 304 || status === 101) this.#complete();
    else if (chunked) this.#state = State.ChunkSize;
    else if (length >= 0) {
      this.#remaining = length;
      this.#state = State.Length;
      if (length === 0) this.#complete();
    } else {
      this.#state = State.UntilClose;
      this.#closeAfter = true;
    }
    return true;
  }

  #complete(): void {
    const req = this.inflight.shift() as PendingRequest;
    const chunks = this.#chunks;
    let body = '';
    if (chunks.length === 1) body = (chunks[0] as Buffer).toString('utf8');
    else if (chunks.length > 1) body = Buffer.concat(chunks).toString('utf8');
    const res = new Http1Response(this.#status, this.#fields, body);
    if (chunks.length > 0) this.#chunks = [];
    this.#state = State.Head;
    this.#owner.onSettled(1);
    if (this.#closeAfter) this.#fail(new HttpTransportError('UND_ERR_SOCKET', 'the server closed the connection after an earlier response'));
    else this.#owner.onFree(this);
    req.resolve(res);
  }

  #protocolError(what: string): void {
    this.#fail(new HttpTransportError('HPE_INVALID', `invalid HTTP response: ${what}`));
  }
}
