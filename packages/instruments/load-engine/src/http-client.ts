import { Pool, type Dispatcher } from 'undici';

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
  /** Connections of the undici Pool (default 128). */
  readonly connections?: number;
  readonly pipelining?: number;
}

/** HTTP over one undici Pool per origin (keep-alive, no per-request allocation of agents). */
export class HttpClient {
  readonly #pool: Pool;
  readonly #origin: string;
  readonly #basePath: string;

  constructor(baseUrl: string, options: HttpClientOptions = {}) {
    const url = new URL(baseUrl);
    this.#origin = url.origin;
    this.#basePath = url.pathname.replace(/\/$/, '');
    this.#pool = new Pool(this.#origin, {
      connections: options.connections ?? 128,
      pipelining: options.pipelining ?? 1,
      keepAliveTimeout: 30_000,
    });
  }

  /** The origin this client sends to. */
  get origin(): string {
    return this.#origin;
  }

  /** Sends a request and reads the whole response. */
  async request(req: HttpRequest): Promise<HttpResponse> {
    let path = this.#basePath + req.path;
    if (req.query) {
      const qs = new URLSearchParams(Object.entries(req.query).map(([k, v]): [string, string] => [k, String(v)])).toString();
      if (qs) path += (path.includes('?') ? '&' : '?') + qs;
    }
    let body: string | Buffer | undefined;
    let headers: Record<string, string> | undefined = req.headers as Record<string, string> | undefined;
    if (req.body !== undefined) {
      if (typeof req.body === 'string' || Buffer.isBuffer(req.body)) body = req.body;
      else {
        body = JSON.stringify(req.body);
        headers = { 'content-type': 'application/json', ...headers };
      }
    }
    const timeout = req.timeoutMs ?? 30_000;
    const res = await this.#pool.request({
      method: req.method ?? (body === undefined ? 'GET' : 'POST'),
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

  /** Closes the pool (waits for in-flight requests). */
  async close(): Promise<void> {
    await this.#pool.close();
  }

  /** Destroys the pool, aborting in-flight requests. */
  async destroy(): Promise<void> {
    await this.#pool.destroy();
  }
}
