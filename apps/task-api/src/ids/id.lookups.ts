import { maxLookupIds, type IdState } from '@crucible/contracts';

/** One `POST /ids/lookup` (through the client's breaker): the state of each of `ids` for the key's project. */
export type LookupCall = (authorization: string, ids: readonly string[], attempts: number | undefined) => Promise<Map<string, IdState>>;

interface Waiter {
  readonly ids: readonly string[];
  readonly authorization: string;
  resolve(states: Map<string, IdState>): void;
  reject(err: unknown): void;
}

interface Lane {
  busy: boolean;
  waiting: Waiter[];
}

/**
 * Group commit for reference lookups, after the ID service's own coalescer: per project (and
 * attempt budget) at most one round of lookups is in flight, and every id asked meanwhile
 * goes out in the next round, deduplicated, {@link maxLookupIds} per call. A burst of 200
 * creates with new refs then costs the ID service a few calls instead of 200 queued behind
 * the pool, each of which would spend its deadline waiting for a connection.
 *
 * Any key of a project gets the same answer (the ID service scopes by the key's project), so
 * a round is sent with the key of its latest caller. A failed round fails every caller in it.
 *
 * @example
 * const lookups = new LookupBatcher((auth, ids, attempts) => client.lookup(auth, ids, attempts));
 * const states = await lookups.ask('alpha', 'Bearer ck_…', ['US-001'], undefined);
 */
export class LookupBatcher {
  readonly #call: LookupCall;
  readonly #lanes = new Map<string, Lane>();

  constructor(call: LookupCall) {
    this.#call = call;
  }

  /** The states of `ids` (at least), from the round they join. */
  ask(projectId: string, authorization: string, ids: readonly string[], attempts: number | undefined): Promise<Map<string, IdState>> {
    // Project ids never contain a NUL, so the pair names one lane.
    const key = `${projectId}\u0000${attempts ?? ''}`;
    let lane = this.#lanes.get(key);
    if (!lane) {
      lane = { busy: false, waiting: [] };
      this.#lanes.set(key, lane);
    }
    const answer = new Promise<Map<string, IdState>>((resolve, reject) => lane.waiting.push({ ids, authorization, resolve, reject }));
    if (!lane.busy) void this.#round(key, lane, attempts);
    return answer;
  }

  async #round(key: string, lane: Lane, attempts: number | undefined): Promise<void> {
    lane.busy = true;
    const waiters = lane.waiting;
    lane.waiting = [];
    const ids = [...new Set(waiters.flatMap((w) => w.ids))];
    const authorization = (waiters.at(-1) as Waiter).authorization;
    try {
      const chunks = Array.from({ length: Math.ceil(ids.length / maxLookupIds) }, (_, k) => ids.slice(k * maxLookupIds, (k + 1) * maxLookupIds));
      const answers = await Promise.all(chunks.map((chunk) => this.#call(authorization, chunk, attempts)));
      const states = new Map(answers.flatMap((m) => [...m]));
      for (const w of waiters) w.resolve(states);
    } catch (err) {
      for (const w of waiters) w.reject(err);
    } finally {
      lane.busy = false;
      if (lane.waiting.length > 0) void this.#round(key, lane, attempts);
      else this.#lanes.delete(key);
    }
  }
}
