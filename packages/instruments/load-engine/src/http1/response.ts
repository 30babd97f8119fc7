/** A transport failure with the code a caller branches on (undici's names where it has one). */
export class HttpTransportError extends Error {
  override readonly name = 'HttpTransportError';
  /** e.g. `UND_ERR_SOCKET`, `UND_ERR_HEADERS_TIMEOUT`, `ECONNREFUSED`, `ECONNRESET`. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/**
 * A complete response of the HTTP/1.1 client. The header object is built on first access:
 * most load iterations read only the status, so parsing every field into an object per
 * response would be paid for nothing.
 */
export class Http1Response {
  readonly status: number;
  readonly body: string;
  /** The status line and header block as received (latin1, without the blank line). */
  readonly #block: string;
  #headers: Record<string, string | string[] | undefined> | undefined;

  constructor(status: number, block: string, body: string) {
    this.status = status;
    this.#block = block;
    this.body = body;
  }

  /** Lowercase names; a repeated field is an array (`set-cookie`), as undici gives it. */
  get headers(): Readonly<Record<string, string | string[] | undefined>> {
    if (this.#headers) return this.#headers;
    const out: Record<string, string | string[] | undefined> = {};
    const lines = this.#block.split('\r\n');
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i] as string;
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      const had = out[name];
      if (had === undefined) out[name] = value;
      else if (Array.isArray(had)) had.push(value);
      else out[name] = [had, value];
    }
    this.#headers = out;
    return out;
  }

  /** The body parsed as JSON (throws on invalid JSON). */
  json<T = unknown>(): T {
    return JSON.parse(this.body) as T;
  }
}
