import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { lookupIdsResponseSchema, reserveIdsResponseSchema, type IdState } from '@crucible/contracts';
import { failpoint, ServiceError, type ServiceContext } from '@crucible/service-kit';
import { Pool } from 'undici';
import { CircuitBreaker, type BreakerChange, type BreakerState } from './circuit-breaker.js';

type Logger = ServiceContext['logger'];

/** How the task API talks to the ID service. */
export interface IdClientOptions {
  /** Base URL of the ID service, e.g. `http://127.0.0.1:4001`. */
  readonly url: string;
  /** Deadline of one call (connect, headers and body), ms. */
  readonly timeoutMs: number;
  /** Attempts per reservation (the retries reuse its `Idempotency-Key`). */
  readonly attempts: number;
  /** Keep-alive connections to the ID service. */
  readonly connections: number;
  /** Consecutive failed calls that open the breaker, and how long it stays open. */
  readonly breakerFailures: number;
  readonly breakerOpenMs: number;
  readonly logger?: Logger | undefined;
}

/** A contiguous range of numbers the ID service issued. */
export interface IssuedRange {
  readonly first: number;
  readonly last: number;
}

/** The ID service answered, but not with ids (a 4xx): retrying the same request cannot help. */
class Refused extends Error {}

const taskIdPurpose = 'issue task ids';
const refsPurpose = 'check refs';

/**
 * The error a create gets when the ID service cannot give it an id (or check its refs): 503
 * with `Retry-After`. `circuit` is the breaker's state when the create asked: `closed` means
 * it waited on calls to the ID service; `open` / `half-open` mean it was refused without one.
 */
export function dependencyUnavailable(why: string, retryAfterMs: number, circuit: BreakerState, purpose = taskIdPurpose): ServiceError<'dependency_unavailable'> {
  const advice = purpose === taskIdPurpose ? 'retry shortly, or give a task_id' : 'retry shortly';
  return new ServiceError('dependency_unavailable', `the ID service cannot ${purpose} (${why}); ${advice}`, {
    retryAfter: Math.max(1, Math.ceil(retryAfterMs / 1000)),
    // A client (and the resilience suite) can tell a refusal that cost no call from one that waited.
    details: { dependency: 'id-service', circuit },
  });
}

/**
 * The task API's client of the ID service: a keep-alive undici pool, a deadline on every
 * call, retries that resend the reservation's own `Idempotency-Key` (so a retry after a lost
 * answer gets the same range back and burns nothing), and a {@link CircuitBreaker} that
 * turns a dead or frozen ID service into an immediate refusal instead of a wait per create.
 *
 * It calls with the caller's own API key: the ID service then authorises and scopes the
 * reservation exactly as for any client of that project, and the task API holds no
 * credential of its own that could reserve in every project.
 *
 * @example
 * const ids = new IdClient({ url, timeoutMs: 400, attempts: 2, connections: 8, breakerFailures: 3, breakerOpenMs: 1000 });
 * const { first, last } = await ids.reserve('Bearer ck_…', 'TASK', 32);
 */
export class IdClient {
  readonly #pool: Pool;
  readonly #options: IdClientOptions;
  readonly breaker: CircuitBreaker;
  /** When the first call of the current outage failed (`undefined`: the ID service answers). */
  #downSince: number | undefined;

  constructor(options: IdClientOptions) {
    this.#options = options;
    this.#pool = new Pool(options.url, {
      connections: options.connections,
      keepAliveTimeout: 10_000,
      connect: { timeout: options.timeoutMs },
    });
    this.breaker = new CircuitBreaker({
      failureThreshold: options.breakerFailures,
      openMs: options.breakerOpenMs,
      onChange: (c) => logChange(options.logger, c),
    });
  }

  /** The breaker's state, for `/health`. */
  get state(): BreakerState {
    return this.breaker.state;
  }

  /**
   * Reserves `count` ids of `type` for the project `authorization` (the caller's
   * `Bearer <key>` header) belongs to. Throws 503 `dependency_unavailable` when the breaker
   * is open or every attempt failed.
   */
  async reserve(authorization: string, type: string, count: number): Promise<IssuedRange> {
    // One key for every attempt: a retry after a lost answer replays the range, never a second one.
    const key = randomUUID();
    return this.#guarded(this.#options.attempts, () => this.#call(authorization, key, type, count), taskIdPurpose);
  }

  /**
   * The state of each of `ids` (at most `maxLookupIds`) for the caller's project, as the ID
   * service answers `POST /ids/lookup`. `attempts` defaults to the configured ones (a read
   * that can do without the answer passes 1). Throws 503 `dependency_unavailable` as
   * {@link reserve} does.
   */
  async lookup(authorization: string, ids: readonly string[], attempts = this.#options.attempts): Promise<Map<string, IdState>> {
    return this.#guarded(attempts, () => this.#lookupCall(authorization, ids), refsPurpose);
  }

  // Every call through the breaker, with retries (safe: a reservation resends its key, a lookup changes nothing).
  async #guarded<T>(attempts: number, call: () => Promise<T>, purpose: string): Promise<T> {
    let why = 'circuit open';
    for (let attempt = 0; attempt < attempts; attempt++) {
      // Refused before any call only on the first attempt: a later refusal cost this create its calls.
      if (!this.breaker.admit()) throw dependencyUnavailable(why, this.breaker.retryAfterMs(), attempt === 0 ? this.breaker.state : 'closed', purpose);
      try {
        const answer = await call();
        this.breaker.success();
        this.#up();
        return answer;
      } catch (err) {
        if (err instanceof Refused) {
          // It answered: it is up. The request itself is wrong, which no retry mends.
          this.breaker.success();
          this.#up();
          throw new ServiceError('internal', `the ID service refused the call: ${err.message}`);
        }
        this.breaker.failure();
        why = (err as Error).message;
        this.#down(why);
        if (attempt + 1 < attempts) await sleep(25 * (attempt + 1));
      }
    }
    throw dependencyUnavailable(why, this.breaker.retryAfterMs(), 'closed', purpose);
  }

  // Detection and recovery as log events, once per outage: the evidence the resilience suite reads.
  #down(error: string): void {
    if (this.#downSince !== undefined) return;
    this.#downSince = Date.now();
    this.#options.logger?.warn({ event: 'dependency_down', dependency: 'id-service', at: new Date(this.#downSince).toISOString(), error }, 'ID service unreachable');
  }

  #up(): void {
    if (this.#downSince === undefined) return;
    const at = Date.now();
    const outageMs = at - this.#downSince;
    this.#downSince = undefined;
    // The planted silence (failpoint `tasks.ids.no-recovery-log`): the recovery happens, its record does not.
    if (failpoint('tasks.ids.no-recovery-log')) return;
    // At the level of the failure it ends, so a log kept at `warn` holds both halves of the outage.
    this.#options.logger?.warn({ event: 'dependency_up', dependency: 'id-service', at: new Date(at).toISOString(), outage_ms: outageMs }, 'ID service reachable again');
  }

  async #call(authorization: string, key: string, type: string, count: number): Promise<IssuedRange> {
    const body = reserveIdsResponseSchema.parse(await this.#post('/ids/reserve', { authorization, 'idempotency-key': key }, { type, count }));
    return { first: body.first, last: body.last };
  }

  async #lookupCall(authorization: string, ids: readonly string[]): Promise<Map<string, IdState>> {
    const body = lookupIdsResponseSchema.parse(await this.#post('/ids/lookup', { authorization }, { ids }));
    return new Map(body.ids.map((r) => [r.id, r.state]));
  }

  /** One POST with the call's deadline; the parsed JSON of a 200, or what to do about anything else. */
  async #post(path: string, headers: Record<string, string>, json: unknown): Promise<unknown> {
    // The planted hang (failpoint `tasks.ids.no-timeout`): this call has no deadline at all.
    const unbounded = failpoint('tasks.ids.no-timeout');
    const t = this.#options.timeoutMs;
    const res = await this.#pool.request({
      method: 'POST',
      path,
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify(json),
      headersTimeout: unbounded ? 0 : t,
      bodyTimeout: unbounded ? 0 : t,
      ...(unbounded ? {} : { signal: AbortSignal.timeout(t) }),
    });
    const text = await res.body.text();
    if (res.statusCode === 200) return JSON.parse(text);
    const what = `${res.statusCode} ${text.slice(0, 200)}`;
    // 5xx (its database down, its pool exhausted) and 429 pass; anything else is final.
    if (res.statusCode >= 500 || res.statusCode === 429) throw new Error(`ID service answered ${what}`);
    throw new Refused(what);
  }

  /** Closes the pool's connections; a call still hanging (a planted one) is cut, never waited for. */
  async close(): Promise<void> {
    await this.#pool.destroy();
  }
}

function logChange(logger: Logger | undefined, c: BreakerChange): void {
  const at = new Date(c.at).toISOString();
  if (c.state === 'open') logger?.warn({ event: 'circuit_open', dependency: 'id-service', at, failures: c.failures }, 'ID service circuit opened');
  else logger?.warn({ event: 'circuit_closed', dependency: 'id-service', at, outage_ms: c.outageMs }, 'ID service circuit closed');
}
