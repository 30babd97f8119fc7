import { Pool, type Dispatcher } from 'undici';
import { Http1Pool } from './http1/pool.js';
import { HttpTransportError } from './http1/response.js';

export { HttpTransportError } from './http1/response.js';

/** One HTTP request of an iteration. */
export interface HttpRequest {
  readonly method?: Dispatcher.HttpMethod;
  /** Path (and query) relative to the scenario's base URL, e.g. `/ids/reserve`. */
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** A string or Buffer is sent as is; anything else as JSON (with its content-type). */
  readonly body?: unknown;
  /** Query parameters appended to `path`. */
  readonly query?: Readonly<Record<string, string | number | boolean>>;
  /** Tags added to this iteration's sample (e.g. `{ endpoint: 'reserve' }`). */
  readonly tags?: Readonly<Record<string, string>>;
  /** Headers + body timeout (default 30 s). */
  readonly timeoutMs?: number;
  /** Skip reading the body (fastest); `body` is then `''`. */
  readonly discardBody?: boolean;
}

/** A complete HTTP response (the body is read). */
export interface HttpResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
  /** The body parsed as JSON (throws on invalid JSON). */
  json<T = unknown>(): T;
}

/** Options of an {@link HttpClient}. */
export interface HttpClientOptions {
  /** Most connections open at once (default 128). */
  readonly connections?: number;
  /** Requests written on one connection before its first answer (default 1: no pipelining). */
  readonly pipelining?: number;
}

/** Keep-alive time of an idle connection when the server sends no `Keep-Alive: timeout`. */
const KEEP_ALIVE_MS = 30_000;
const INVALID_PATH = /[^\x21-\x7e]/;
const INVALID_VALUE = /[\r\n\0]/;

function invalid(message: string): HttpTransportError {
  return new HttpTransportError('UND_ERR_INVALID_ARG', message);
}

/**
 * HTTP to one origin over keep-alive connections. `http:` goes through the engine's own
 * HTTP/1.1 client (src/http1: a serialised request, one write, a parser that reads only the
 * framing fields) because at load-generator rates undici's per-request machinery cost more
 * CPU than the requests themselves; `https:` goes through an undici Pool.
 *
 * @example
 * const http = new HttpClient('http://127.0.0.1:4100', { connections: 50 });
 * const res = await http.request({ method: 'POST', path: '/ids/reserve', body: { sequence: 'a', count: 1 } });
 * res.status; // 200
 * await http.close();
 */
export class HttpClient {
  readonly #h1: Http1Pool | undefined;
  readonly #undici: Pool | undefined;
  readonly #origin: string;
  readonly #basePath: string;
  readonly #host: string;

  constructor(baseUrl: string, options: HttpClientOptions = {}) {
    const url = new URL(baseUrl);
    this.#origin = url.origin;
    this.#basePath = url.pathname.replace(/\/$/, '');
    this.#host = url.host;
    const connections = options.connections ?? 128;
    const pipelining = Math.max(1, options.pipelining ?? 1);
    if (url.protocol === 'http:') {
      const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
      this.#h1 = new Http1Pool(host, Number(url.port || 80), { connections, pipelining, keepAliveTimeoutMs: KEEP_ALIVE_MS });
    } else this.#undici = new Pool(this.#origin, { connections, pipelining, keepAliveTimeout: KEEP_ALIVE_MS });
  }

  /** The origin this client sends to. */
  get origin(): string {
    return this.#origin;
  }

  /** Sends a request and reads the whole response (or skips its body: `discardBody`). */
  request(req: HttpRequest): Promise<HttpResponse> {
    let path = this.#basePath + req.path;
    if (req.query) {
      const qs = new URLSearchParams(Object.entries(req.query).map(([k, v]): [string, string] => [k, String(v)])).toString();
      if (qs) path += (path.includes('?') ? '&' : '?') + qs;
    }
    let body: string | Buffer | undefined;
    let json = false;
    if (req.body !== undefined) {
      if (typeof req.body === 'string' || Buffer.isBuffer(req.body)) body = req.body;
      else {
        body = JSON.stringify(req.body);
        json = true;
      }
    }
    const method = req.method ?? (body === undefined ? 'GET' : 'POST');
    const timeoutMs = req.timeoutMs ?? 30_000;
    if (this.#undici) return this.#viaUndici(this.#undici, req, method, path, body, json, timeoutMs);
    const pool = this.#h1 as Http1Pool;
    if (INVALID_PATH.test(path)) return Promise.reject(invalid(`invalid request path ${JSON.stringify(path)}`));
    let head = `${method} ${path} HTTP/1.1\r\n`;
    let hasHost = false;
    let hasLength = false;
    let hasType = false;
    const headers = req.headers;
    if (headers) {
      for (const name in headers) {
        const value = headers[name] as string;
        if (INVALID_VALUE.test(value) || INVALID_VALUE.test(name)) return Promise.reject(invalid(`invalid header ${JSON.stringify(name)}`));
        const lower = name.toLowerCase();
        if (lower === 'host') hasHost = true;
        else if (lower === 'content-length') hasLength = true;
        else if (lower === 'content-type') hasType = true;
        head += `${name}: ${value}\r\n`;
      }
    }
    if (!hasHost) head += `host: ${this.#host}\r\n`;
    if (json && !hasType) head += 'content-type: application/json\r\n';
    let buffer: Buffer | undefined;
    let encoding: 'latin1' | 'utf8' = 'latin1';
    if (body === undefined) {
      if (!hasLength && (method === 'POST' || method === 'PUT' || method === 'PATCH')) head += 'content-length: 0\r\n';
      head += '\r\n';
    } else if (typeof body === 'string') {
      if (!hasLength) head += `content-length: ${Buffer.byteLength(body)}\r\n`;
      head += `\r\n${body}`;
      encoding = 'utf8';
    } else {
      if (!hasLength) head += `content-length: ${body.length}\r\n`;
      head += '\r\n';
      buffer = body;
    }
    const discardBody = req.discardBody === true;
    const isHead = method === 'HEAD';
    return new Promise<HttpResponse>((resolve, reject) => pool.dispatch({ head, headEncoding: encoding, body: buffer, isHead, discardBody, timeoutMs, resolve, reject }));
  }

  async #viaUndici(pool: Pool, req: HttpRequest, method: Dispatcher.HttpMethod, path: string, body: string | Buffer | undefined, json: boolean, timeout: number): Promise<HttpResponse> {
    const headers = json ? { 'content-type': 'application/json', ...req.headers } : req.headers;
    const res = await pool.request({
      method,
      path,
      ...(headers ? { headers } : {}),
      ...(body === undefined ? {} : { body }),
      headersTimeout: timeout,
      bodyTimeout: timeout,
    });
    let text = '';
    if (req.discardBody) await res.body.dump();
    else text = await res.body.text();
    return {
      status: res.statusCode,
      headers: res.headers,
      body: text,
      json<T>(): T {
        return JSON.parse(text) as T;
      },
    };
  }

  /** Refuses new requests, waits for those in flight, then closes the connections. */
  async close(): Promise<void> {
    await (this.#h1 ?? this.#undici)?.close();
  }

  /** Closes every connection now, failing the requests in flight. */
  async destroy(): Promise<void> {
    await (this.#h1 ?? this.#undici)?.destroy();
  }
}
