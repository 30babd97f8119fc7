// Shared plumbing of the stress suite: HTTP calls recorded for the checkers, pool evidence
// from /health, and the command line.
import { healthResponseSchema, type Evidence, type Verdict } from '@crucible/contracts';
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

/** Pool figures of every replica from `/health`: the largest peak and the acquire timeouts. */
export async function poolEvidence(urls: readonly string[]): Promise<{ peak: number; max: number; acquireTimeouts: number; evidence: Evidence }> {
  const replicas = await Promise.all(
    urls.map(async (url) => {
      const res = await fetch(`${url}/health`);
      return { url, pool: healthResponseSchema.parse(await res.json()).pool };
    }),
  );
  const peak = Math.max(...replicas.map((r) => r.pool.peak_in_use ?? r.pool.total - r.pool.idle));
  const max = Math.max(...replicas.map((r) => r.pool.max));
  const acquireTimeouts = replicas.reduce((n, r) => n + (r.pool.acquire_timeouts ?? 0), 0);
  return { peak, max, acquireTimeouts, evidence: { title: 'Database pool per replica (GET /health)', kind: 'json', content: replicas } };
}

/** The command line every stress suite takes. */
export interface StressArgs {
  profile: 'quick' | 'full';
  live: boolean;
}

/** Parses `--profile=quick|full` (also `--profile full`) and `--live`. */
export function parseStressArgs(argv: readonly string[]): StressArgs {
  let profile: StressArgs['profile'] = 'quick';
  let live = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const value = a.startsWith('--profile=') ? a.slice('--profile='.length) : a === '--profile' ? argv[++i] : undefined;
    if (value !== undefined) {
      if (value !== 'quick' && value !== 'full') throw new Error(`--profile must be quick or full, not "${value}"`);
      profile = value;
    } else if (a === '--live') live = true;
  }
  if (process.env['CRUCIBLE_PROFILE'] === 'full') profile = 'full';
  return { profile, live };
}

/** A verdict from a plain comparison, for invariants no checker covers. */
export function expectVerdict(checker: string, passed: boolean, summary: string, counts: Record<string, number>, examples: unknown[] = []): Verdict {
  return { checker, status: passed ? 'pass' : 'fail', summary, counts, examples };
}
