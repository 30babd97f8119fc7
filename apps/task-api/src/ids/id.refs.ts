import type { IdState, Task } from '@crucible/contracts';
import { failpoint, ServiceError } from '@crucible/service-kit';
import type { IdClient } from './id.client.js';
import { LookupBatcher } from './id.lookups.js';

/** How long the task API trusts what the ID service said about a reference. */
export interface RefCacheOptions {
  /**
   * How long "issued and live" is trusted on read before the ID service is asked again
   * (`REF_STATE_CACHE_MS`, default 2 s): a retirement shows as `stale` at most this late.
   * "Retired" is final and kept for good; "issued" is final for the write check and kept too.
   */
  readonly liveTtlMs: number;
  /** Most answers kept (`REF_CACHE_ENTRIES`); the oldest go first. */
  readonly maxEntries: number;
  readonly now?: () => number;
}

interface Known {
  readonly state: 'issued' | 'retired';
  readonly at: number;
}

/**
 * A task's entity references, checked against the ID service through the task API's
 * {@link IdClient} (its timeout, retries and breaker), with the caller's own key, so the ID
 * service answers for the caller's project only.
 *
 * On write ({@link validate}): every ref must have been issued to the project; a foreign or
 * never-issued one is a 422 `ref_not_issued` naming it; no answer is the 503
 * `dependency_unavailable`. On read ({@link mark}): each ref is `stale: true` once retired,
 * `false` while live, `null` when the ID service cannot say now: a read never fails on it.
 *
 * @example
 * const refs = new TaskRefs(client, { liveTtlMs: 2000, maxEntries: 10_000 });
 * await refs.validate('alpha', req.headers.authorization, ['US-011']);
 * res.json((await refs.mark('alpha', req.headers.authorization, [task]))[0]);
 */
export class TaskRefs {
  readonly #lookups: LookupBatcher;
  readonly #options: RefCacheOptions;
  readonly #now: () => number;
  readonly #known = new Map<string, Known>();

  constructor(client: IdClient, options: RefCacheOptions) {
    // Concurrent checks of one project share their calls (see LookupBatcher).
    this.#lookups = new LookupBatcher((authorization, ids, attempts) => client.lookup(authorization, ids, attempts));
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Throws 422 `ref_not_issued` naming every one of `refs` the ID service never issued to
   * `projectId` (another project's ids among them), or 503 `dependency_unavailable` when it
   * must be asked and cannot answer. Ids it issued once are not asked about again.
   */
  async validate(projectId: string, authorization: string, refs: readonly string[], field = 'body.refs'): Promise<void> {
    // The planted defect (failpoint `tasks.refs.unchecked`): the refs are stored unasked.
    if (refs.length === 0 || failpoint('tasks.refs.unchecked')) return;
    const ask = refs.filter((id) => !this.#known.has(keyOf(projectId, id)));
    if (ask.length === 0) return;
    const states = await this.#lookup(projectId, authorization, ask, undefined);
    const asked = new Set(ask);
    // An id the answer leaves out counts as never issued: only an answer of issued or retired admits one.
    const unknown = refs.flatMap((id, i) => (asked.has(id) && states.get(id) !== 'issued' && states.get(id) !== 'retired' ? [{ id, i }] : []));
    if (unknown.length === 0) return;
    const names = unknown.map((u) => u.id).join(', ');
    throw new ServiceError('ref_not_issued', `${field}: ${names} ${unknown.length === 1 ? 'was' : 'were'} never issued to project ${projectId}`, {
      details: unknown.map((u) => ({ path: `${field}.${u.i}`, message: `${u.id} was never issued to project ${projectId}` })),
    });
  }

  /**
   * `tasks` with each ref's `stale` filled in: from what is known and fresh, else from the
   * ID service (a single attempt: a read does not wait out retries).
   * When the ID service does not answer, the refs it was asked about stay `stale: null`.
   */
  async mark(projectId: string, authorization: string, tasks: readonly Task[]): Promise<Task[]> {
    const ids = [...new Set(tasks.flatMap((t) => t.refs.map((r) => r.id)))];
    if (ids.length === 0) return [...tasks];
    const stale = new Map<string, boolean>();
    const ask: string[] = [];
    for (const id of ids) {
      const known = this.#known.get(keyOf(projectId, id));
      if (known?.state === 'retired') stale.set(id, true);
      else if (known && this.#now() - known.at < this.#options.liveTtlMs) stale.set(id, false);
      else ask.push(id);
    }
    if (ask.length > 0) {
      try {
        // Unknown (a ref stored unchecked, or a registry restored from an older backup) resolves to nothing: stale too.
        const states = await this.#lookup(projectId, authorization, ask, 1);
        for (const id of ask) {
          const state = states.get(id);
          if (state !== undefined) stale.set(id, state !== 'issued');
        }
      } catch {
        // No answer: these stay null, and the task is answered all the same.
      }
    }
    return tasks.map((t) => (t.refs.length === 0 ? t : { ...t, refs: t.refs.map((r) => ({ id: r.id, stale: stale.get(r.id) ?? null })) }));
  }

  async #lookup(projectId: string, authorization: string, ids: readonly string[], attempts: number | undefined): Promise<Map<string, IdState>> {
    const states = await this.#lookups.ask(projectId, authorization, ids, attempts);
    const at = this.#now();
    for (const [id, state] of states) if (state !== 'unknown') this.#remember(keyOf(projectId, id), { state, at });
    return states;
  }

  #remember(key: string, known: Known): void {
    // Re-inserted so the Map's order stays oldest-first and eviction takes the stalest.
    this.#known.delete(key);
    this.#known.set(key, known);
    while (this.#known.size > this.#options.maxEntries) this.#known.delete(this.#known.keys().next().value as string);
  }
}

// Project ids and entity ids never contain a NUL, so the pair names one answer.
const keyOf = (projectId: string, id: string) => `${projectId}\u0000${id}`;
