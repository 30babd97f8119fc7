// Plumbing of the id-service resilience suite and its sabotage test: timed calls recorded
// for the phase reports, and reservations with retries recorded for the reconciliation
// checker (one history entry per logical reservation, whatever the number of attempts).
import { randomUUID } from 'node:crypto';
import { now, type CallRecord } from '@crucible/chaos';
import { classifyOutcome, type IdOperation } from '@crucible/checkers';
import { healthResponseSchema, type Evidence, type HealthResponse, type ScenarioReport, type Verdict } from '@crucible/contracts';
import type { HttpRequest, HttpResponse } from '@crucible/load-engine';
import { finalizeScenario } from '@crucible/reporting';

/** What the load engine's `ctx.http` offers. */
export interface Http {
  request(req: HttpRequest): Promise<HttpResponse>;
}

/** One HTTP call as the client saw it, with its parsed body. */
export interface HttpCall extends CallRecord {
  readonly body?: unknown;
  /** `Idempotent-Replayed: true`: the service answered from a stored reservation. */
  readonly replayed?: boolean;
}

/**
 * A request without an answer after this long counts as hung. The service's own limits
 * (1 s acquire + 2–2.5 s per statement, a few statements per request) stay well below it.
 */
export const hangAfterMs = 10_000;

/** Sends one request and records it; never throws, never waits past `timeoutMs` (default {@link hangAfterMs}). */
export async function send(http: Http, req: HttpRequest, ok: (status: number) => boolean = (s) => s >= 200 && s < 300): Promise<HttpCall> {
  const start = now();
  try {
    const res = await http.request({ timeoutMs: hangAfterMs, ...req });
    let body: unknown;
    try {
      body = res.body ? JSON.parse(res.body) : undefined;
    } catch {
      body = res.body;
    }
    const code = (body as { error?: { code?: unknown } } | undefined)?.error?.code;
    const retryAfter = res.headers['retry-after'];
    return {
      start,
      end: now(),
      status: res.status,
      ok: ok(res.status),
      body,
      ...(typeof code === 'string' ? { code } : {}),
      ...(typeof retryAfter === 'string' ? { retryAfter } : {}),
      ...(res.headers['idempotent-replayed'] === 'true' ? { replayed: true } : {}),
    };
  } catch (err) {
    const e = err as { code?: string; name?: string };
    return { start, end: now(), ok: false, code: e.code ?? e.name ?? 'transport' };
  }
}

/** How {@link reserveWithRetries} behaves. */
export interface ReserveOptions {
  readonly apiKey: string;
  readonly projectId: string;
  readonly type: string;
  readonly count: number;
  /**
   * Send one `Idempotency-Key` for every attempt (the correct client). `false` is the
   * sabotaged client: it retries without a key, so an attempt that committed but whose
   * answer was lost allocates a second range.
   */
  readonly idempotent: boolean;
  /** Give up after this long (default 10 s); the operation is then failed or indeterminate. */
  readonly deadlineMs?: number;
  /** Every HTTP attempt lands here (for the phase reports). */
  readonly attempts: HttpCall[];
  /** Worker name, for the checker's examples. */
  readonly process?: string | number;
}

/**
 * One logical reservation: `POST /ids/reserve`, retried on 503 or no answer (honouring
 * `Retry-After`, at most 1 s) until it succeeds, fails for certain, or the deadline passes.
 * Returns the history entry of the whole operation: `ok` with the range answered,
 * `indeterminate` when an attempt may have taken effect and none succeeded, else `failed`.
 */
export async function reserveWithRetries(http: Http, o: ReserveOptions): Promise<IdOperation> {
  const key = randomUUID();
  const deadline = now() + (o.deadlineMs ?? 10_000);
  let mayHaveHappened = false;
  let lastError = '';
  const base = { process: o.process ?? 0, project_id: o.projectId, type: o.type, count: o.count, ...(o.idempotent ? { idempotency_key: key } : {}) };
  for (let attempt = 0; ; attempt++) {
    const call = await send(http, {
      method: 'POST',
      path: '/ids/reserve',
      headers: { authorization: `Bearer ${o.apiKey}`, ...(o.idempotent ? { 'idempotency-key': key } : {}) },
      body: { type: o.type, count: o.count },
      // Longer than the service's own worst case (acquire + statement limits): past it, a hang.
      timeoutMs: hangAfterMs,
    });
    o.attempts.push(call);
    const outcome = classifyOutcome({ status: call.status, code: call.code });
    if (outcome === 'ok') {
      const { first, last } = call.body as { first: number; last: number };
      return { ...base, outcome: 'ok', first, last };
    }
    if (outcome === 'indeterminate') mayHaveHappened = true;
    lastError = call.code ?? String(call.status ?? 'no answer');
    const retryable = call.status === undefined || call.status === 503;
    const pause = Math.min(1000, call.retryAfter ? Number(call.retryAfter) * 1000 : 200, 100 * 2 ** attempt);
    if (!retryable || now() + pause > deadline) break;
    await new Promise((r) => setTimeout(r, pause));
  }
  return { ...base, outcome: mayHaveHappened ? 'indeterminate' : 'failed', error: lastError };
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

/** A report row for checks that send no load (start-up faults, pool state): verdicts and metrics only. */
export function verdictScenario(name: string, input: { verdicts: Verdict[]; metrics?: Record<string, number>; thresholds?: string[]; evidence?: Evidence[]; startedAt: Date; durationS: number }): ScenarioReport {
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

/** A verdict from a plain comparison, for invariants no checker covers. */
export function expectVerdict(checker: string, passed: boolean, summary: string, counts: Record<string, number> = {}, examples: unknown[] = []): Verdict {
  return { checker, status: passed ? 'pass' : 'fail', summary, counts, examples };
}
