import { performance } from 'node:perf_hooks';
import { setTimeout as sleepMs } from 'node:timers/promises';
import { InstrumentError } from '@crucible/instrument-kit';
import { toMs, type Duration } from './duration.js';
import type { HttpRequest, HttpResponse } from './http-client.js';
import type { IterationContext, MetricKind } from './scenario.js';
import type { ScenarioRun, Vu } from './scenario-run.js';

/** The error kind of a throw: its `code` (kept as the transport set it), else its name. */
function errorKind(e: unknown): string {
  if (e && typeof e === 'object') {
    const o = e as { code?: unknown; name?: unknown };
    if (typeof o.code === 'string' && o.code) return o.code;
    if (typeof o.name === 'string' && o.name && o.name !== 'Error') return o.name;
  }
  return 'exception';
}

function statusOf(v: unknown): number | undefined {
  if (v && typeof v === 'object' && 'status' in v && typeof (v as { status: unknown }).status === 'number') return (v as { status: number }).status;
  return undefined;
}

/** Throws (and stops the run) unless the scenario declared `metric` as a `kind`. */
function declared(r: ScenarioRun, metric: string, kind: MetricKind): void {
  const declaredAs = Object.hasOwn(r.scenario.metrics, metric) ? (r.scenario.metrics[metric] as MetricKind) : undefined;
  if (declaredAs === kind) return;
  const call = kind === 'counter' ? 'ctx.count' : 'ctx.rate';
  const known = Object.keys(r.scenario.metrics).join(', ') || 'none';
  const error = new InstrumentError(
    'invalid_scenario',
    declaredAs
      ? `scenario "${r.scenario.name}": ${call}("${metric}") but "${metric}" is declared as a ${declaredAs}`
      : `scenario "${r.scenario.name}": ${call}("${metric}") names a metric the scenario does not declare (declare it in metrics: { ${metric}: '${kind}' }; declared: ${known})`,
  );
  // The request function may catch the throw: record it on the run so the run still fails.
  r.fatal ??= error;
  r.stopped = true;
  throw error;
}

/**
 * One iteration's `ctx`: a class, its methods on the prototype, because an object literal of
 * eight closures per iteration was a measurable share of the engine's CPU per request (and
 * under tsx each closure also pays a `__name` call). Call its methods on `ctx`.
 */
class Context implements IterationContext {
  readonly #r: ScenarioRun;
  readonly #vu: Vu;
  readonly iteration: number;
  /** Tags this iteration added (`ctx.tag`, a request's `tags`). */
  tags: Record<string, string> | undefined;
  readonly http: IterationContext['http'];

  constructor(r: ScenarioRun, vu: Vu, index: number) {
    this.#r = r;
    this.#vu = vu;
    this.iteration = index;
    this.http = this;
  }

  get scenario(): string {
    return this.#r.scenario.name;
  }
  get vu(): number {
    return this.#vu.id;
  }
  get vars(): Record<string, unknown> {
    return this.#vu.vars;
  }
  get ws(): IterationContext['ws'] {
    return this.#vu.ws;
  }
  get signal(): AbortSignal {
    return this.#r.abort.signal;
  }

  request(req: HttpRequest): Promise<HttpResponse> {
    const r = this.#r;
    if (req.tags) this.tags = { ...this.tags, ...req.tags };
    if (r.baseUrl === undefined) return Promise.reject(new InstrumentError('no_base_url', `scenario "${r.scenario.name}" has no baseUrl (set it on the scenario or in run options)`));
    return r.http.request(req);
  }

  tag(key: string, value: string): void {
    (this.tags ??= {})[key] = value;
  }

  count(metric: string, n = 1): void {
    declared(this.#r, metric, 'counter');
    this.#r.recorder?.count(metric, n);
  }

  rate(metric: string, ok: boolean): void {
    declared(this.#r, metric, 'rate');
    this.#r.recorder?.rate(metric, ok);
  }

  sleep(d: Duration): Promise<void> {
    return sleepMs(toMs(d), undefined, { signal: this.#r.abort.signal }).catch(() => undefined);
  }
}

/**
 * Runs one iteration on `vu` and, in the measured phase, records it: latency from
 * `intendedAt` (open models) or the actual start, success from checks / `isSuccess` / status,
 * the breakdown slice, `sample` and `error` events, and the kept outcome.
 */
export async function iterate(r: ScenarioRun, vu: Vu, index: number, intendedAt: number): Promise<void> {
  const s = r.scenario;
  const ctx = new Context(r, vu, index);
  let value: unknown;
  let error: unknown;
  let threw = false;
  // Late starts are measured from the intended start (no coordinated omission); a start up to
  // a timer tick early is measured from the actual start, so latency is never understated.
  const startedAt = performance.now();
  const from = Math.min(intendedAt, startedAt);
  try {
    value = await s.request(ctx);
  } catch (e) {
    error = e;
    threw = true;
  }
  const end = performance.now();
  const rec = r.recorder;
  if (!rec) return; // warm-up: not counted
  const tags = ctx.tags;
  let ok = !threw;
  let kind: string | undefined = threw ? errorKind(error) : undefined;
  const status = threw ? undefined : statusOf(value);
  if (!threw) {
    if (s.checks) {
      for (const name in s.checks) {
        let passed: boolean;
        try {
          passed = Boolean(s.checks[name]?.(value));
        } catch {
          passed = false;
        }
        rec.check(name, passed);
        if (!passed && ok) {
          ok = false;
          kind = `check failed: ${name}`;
        }
      }
    }
    if (ok) {
      const success = s.isSuccess ? s.isSuccess(value) : s.checks ? true : status === undefined || status < 400;
      if (!success) {
        ok = false;
        kind = status === undefined ? 'unsuccessful' : `HTTP ${status}`;
      }
    }
  }
  const latencyMs = end - from;
  rec.record(latencyMs, end, ok, kind);
  if (r.measuresLag) rec.recordLag(startedAt - intendedAt);
  // Per-iteration tags only: a scenario-wide tag would just repeat the totals.
  const sliceValue = tags?.[r.breakdownBy];
  if (sliceValue !== undefined) rec.slice(sliceValue, latencyMs, ok);
  const ev = r.events;
  if (ev.listenerCount('sample') > 0) {
    ev.emit('sample', { runId: r.runId, scenario: s.name, t: end - rec.t0, latencyMs, ok, ...(status === undefined ? {} : { status }), ...(kind ? { error: kind } : {}), tags: { scenario: s.name, ...s.tags, ...tags } });
  }
  if (!ok && ev.listenerCount('error') > 1) {
    ev.emit('error', { runId: r.runId, scenario: s.name, kind: kind ?? 'error', message: threw ? String((error as Error)?.message ?? error) : (kind ?? ''), tags: { scenario: s.name, ...s.tags, ...tags } });
  }
  if (r.keep) r.outcomes.push({ index, vu: vu.id, ok, latencyMs, ...(threw ? {} : { value }), ...(kind ? { error: kind } : {}) });
}
