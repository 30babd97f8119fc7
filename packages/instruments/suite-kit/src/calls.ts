import { healthResponseSchema, type Evidence, type HealthResponse, type ScenarioReport, type Verdict } from '@crucible/contracts';
import { finalizeScenario } from '@crucible/reporting';
import type { CallRecord } from './phases.js';
import { now } from '@crucible/instrument-kit';

/**
 * A request without an answer after this long counts as hung. A Crucible service's own
 * limits (acquire timeout + per-statement limits, a few statements per request) stay well
 * below it, so only a real hang reaches it.
 */
export const hangAfterMs = 10_000;

/** The HTTP client a suite drives (the load engine's `ctx.http` and `HttpClient` fit). */
export interface Http {
  request(req: {
    method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
    path: string;
    headers?: Readonly<Record<string, string>>;
    body?: unknown;
    timeoutMs?: number;
  }): Promise<{ status: number; headers: Readonly<Record<string, string | string[] | undefined>>; body: string }>;
}

/** One HTTP call as the client saw it, with its parsed body. */
export interface HttpCall extends CallRecord {
  readonly body?: unknown;
  /** `Idempotent-Replayed: true`: the service answered from a stored result. */
  readonly replayed?: boolean;
}

/**
 * The `error.code` of the JSON error envelope (`{ "error": { "code", "message" } }`), or
 * `undefined` when the body is not an envelope (not JSON, no `error`, a code that is not a
 * string).
 *
 * @example
 * errorCodeOf({ error: { code: 'pool_exhausted', message: '…' } }); // 'pool_exhausted'
 * errorCodeOf('oops'); // undefined
 */
export function errorCodeOf(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const error = (body as { error?: unknown }).error;
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Sends one request and records it; never throws and never waits past `timeoutMs`
 * (default {@link hangAfterMs}). `ok` decides which statuses count as success (default 2xx).
 */
export async function send(http: Http, req: Parameters<Http['request']>[0], ok: (status: number) => boolean = (s) => s >= 200 && s < 300): Promise<HttpCall> {
  const start = now();
  try {
    const res = await http.request({ timeoutMs: hangAfterMs, ...req });
    let body: unknown;
    try {
      body = res.body ? JSON.parse(res.body) : undefined;
    } catch {
      body = res.body;
    }
    const code = errorCodeOf(body);
    const retryAfter = res.headers['retry-after'];
    return {
      start,
      end: now(),
      status: res.status,
      ok: ok(res.status),
      body,
      ...(code !== undefined ? { code } : {}),
      ...(typeof retryAfter === 'string' ? { retryAfter } : {}),
      ...(res.headers['idempotent-replayed'] === 'true' ? { replayed: true } : {}),
    };
  } catch (err) {
    const e = err as { code?: string; name?: string };
    return { start, end: now(), ok: false, code: e.code ?? e.name ?? 'transport' };
  }
}

/** Calls with no answer within {@link hangAfterMs}. */
export function hungCalls(calls: readonly CallRecord[]): number {
  return calls.filter((c) => c.status === undefined && c.end - c.start >= hangAfterMs - 50).length;
}

/** Failures that are not a clean refusal: a 500, or an error answer without the JSON envelope. */
export function uncleanFailures(calls: readonly HttpCall[]): number {
  return calls.filter((c) => c.status !== undefined && !c.ok && (c.status === 500 || !errorCodeOf(c.body))).length;
}

/** Status of `GET /health` (0 when no answer within 2 s), for probes. */
export async function healthStatus(url: string): Promise<number> {
  try {
    const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

/** The pool figures `GET /health` reports. */
export async function poolOf(url: string): Promise<HealthResponse['pool']> {
  const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
  return healthResponseSchema.parse(await res.json()).pool;
}

/**
 * Polls `/health` until the pool has nothing in use and nobody waiting, or `withinMs`
 * passes; returns the last figures and how long it took.
 */
export async function poolDrained(url: string, withinMs = 10_000): Promise<{ pool: HealthResponse['pool']; ms: number }> {
  const t0 = performance.now();
  let pool = await poolOf(url);
  while ((pool.total - pool.idle > 0 || pool.waiting > 0) && performance.now() - t0 < withinMs) {
    await new Promise((r) => setTimeout(r, 200));
    pool = await poolOf(url);
  }
  return { pool, ms: Math.round(performance.now() - t0) };
}

/** A report row for checks that send no load (start-up faults): verdicts, metrics, thresholds. */
export function checksScenario(
  name: string,
  input: { verdicts: Verdict[]; metrics?: Record<string, number>; thresholds?: string[]; evidence?: Evidence[]; startedAt: Date; durationS: number },
): ScenarioReport {
  return finalizeScenario({
    name,
    executor: 'checks',
    tags: {},
    started_at: input.startedAt.toISOString(),
    duration_s: Math.round(input.durationS * 1000) / 1000,
    requests: 0,
    successes: 0,
    error_rate: 0,
    errors: {},
    dropped_iterations: 0,
    rps: { achieved: 0, target: null },
    latency_ms: null,
    histogram: null,
    series: [],
    metrics: input.metrics ?? {},
    thresholds: (input.thresholds ?? []).map((expression) => ({ expression, metric: '', actual: null, passed: false })),
    verdicts: input.verdicts,
    evidence: input.evidence ?? [],
    checks: {},
    segment: '0:1',
    latency_basis: 'actual',
    passed: true,
  });
}
