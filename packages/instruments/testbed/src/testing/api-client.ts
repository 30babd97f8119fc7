import { errorEnvelopeSchema, type ErrorEnvelope } from '@crucible/contracts';

/** An answer read in full: status, headers, parsed JSON (or text) and raw bytes. */
export interface Answer<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
  bytes: Buffer;
}

/** What a request may carry: a JSON value (sent as `application/json`), or a raw body, and headers. */
export interface RequestInput {
  json?: unknown;
  body?: NonNullable<RequestInit['body']>;
  headers?: Record<string, string>;
}

/** A client bound to one API key. */
export interface ApiClient {
  readonly key: string;
  request<T = unknown>(method: string, path: string, init?: RequestInput): Promise<Answer<T>>;
}

/** The error envelope of an answer (fails the test when the body is not one). */
export function envelope(answer: Answer): ErrorEnvelope['error'] {
  return errorEnvelopeSchema.parse(answer.body).error;
}

/**
 * Sends a request and reads the whole answer. A JSON content type is parsed when it parses
 * (an artifact stored as `application/json` need not be valid JSON; it stays text).
 *
 * @example
 * const res = await send(url, 'POST', '/admin/projects', { json: { id: 'alpha' }, headers: { authorization: `Bearer ${testAdminToken}` } });
 */
export async function send<T = unknown>(url: string, method: string, path: string, init: RequestInput = {}): Promise<Answer<T>> {
  const headers: Record<string, string> = { ...init.headers };
  let body = init.body;
  if (init.json !== undefined) {
    headers['content-type'] ??= 'application/json';
    body = JSON.stringify(init.json);
  }
  const res = await fetch(url + path, { method, headers, ...(body !== undefined ? { body } : {}) });
  const bytes = Buffer.from(await res.arrayBuffer());
  const type = res.headers.get('content-type') ?? '';
  let parsed: unknown = bytes.toString('utf8');
  if (type.includes('application/json') && bytes.length > 0) {
    try {
      parsed = JSON.parse(parsed as string);
    } catch {
      // Not JSON after all: keep the text.
    }
  }
  return { status: res.status, headers: res.headers, body: parsed as T, bytes };
}

/** A client that sends `key` as its Bearer token (headers given per request win). */
export function clientFor(url: string, key: string): ApiClient {
  return {
    key,
    request(method, path, init = {}) {
      return send(url, method, path, { ...init, headers: { authorization: `Bearer ${key}`, ...init.headers } });
    },
  };
}
