// Shared plumbing of the stress suite: HTTP calls recorded for the checkers.
import { Pool } from 'undici';

/** One HTTP call as the client saw it. */
export interface CallRecord {
  /** When the call was sent (ms since the epoch). */
  start: number;
  /** Latency in milliseconds. */
  ms: number;
  /** HTTP status; absent when no answer came. */
  status?: number;
  /** `error.code` of the envelope, or the transport error's name. */
  code?: string;
  body?: unknown;
}

/** Options of one call. */
export interface CallOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  headers?: Record<string, string>;
  body?: unknown;
  /** Client-side limit; past it the call is recorded without a status (default 10 s). */
  timeoutMs?: number;
}

/** An undici pool per base URL, with as many sockets as a burst needs. */
export function httpPool(url: string, connections: number): Pool {
  return new Pool(url, { connections, pipelining: 1, keepAliveTimeout: 30_000 });
}

/** Sends one request and records it; never throws. */
export async function timedCall(pool: Pool, path: string, options: CallOptions = {}): Promise<CallRecord> {
  const start = Date.now();
  const t0 = performance.now();
  const headers: Record<string, string> = { ...options.headers };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  try {
    const res = await pool.request({
      path,
      method: options.method ?? 'GET',
      headers,
      body: options.body === undefined ? null : JSON.stringify(options.body),
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
    });
    const text = await res.body.text();
    const ms = performance.now() - t0;
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text
    }
    const code = res.statusCode >= 400 ? errorCode(body) : undefined;
    return { start, ms, status: res.statusCode, ...(code ? { code } : {}), body };
  } catch (err) {
    return { start, ms: performance.now() - t0, code: (err as Error).name === 'TimeoutError' ? 'timeout' : ((err as { code?: string }).code ?? 'transport') };
  }
}

function errorCode(body: unknown): string | undefined {
  const e = (body as { error?: { code?: unknown } } | undefined)?.error;
  return typeof e?.code === 'string' ? e.code : undefined;
}

