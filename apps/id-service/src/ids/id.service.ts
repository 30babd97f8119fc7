import { createHash } from 'node:crypto';
import { isForeignKeyViolation, type Database } from '@crucible/db';
import { ServiceError, failpoint, type ProjectScope } from '@crucible/service-kit';
import type { Kysely } from 'kysely';
import { Coalescer } from './id.coalescer.js';
import type { IdRange, StoredReservation } from './id.mapper.js';
import {
  allocateBatch,
  allocateRange,
  allocateRecordedRange,
  anotherProjectWith,
  claimIdempotencyKey,
  claimIdempotencyKeys,
  findReservation,
  findReservations,
  recordRange,
  type Executor,
  type PlantedAllocation,
} from './id.repository.js';

/** What a reserving call asks for; `op` tells `POST /ids/reserve` and `GET /ids/next` apart. */
export interface ReserveRequest {
  readonly op: 'reserve' | 'next';
  readonly type: string;
  readonly count: number;
}

/** A reserved range, and whether it was replayed from an earlier call with the same key. */
export interface Reservation extends IdRange {
  readonly replayed: boolean;
}

/**
 * Fingerprint of a request, stored with its idempotency key so a reused key with another
 * request is recognised. The project is not part of it: keys are already kept per project.
 */
export function requestHash(request: ReserveRequest): string {
  return createHash('sha256').update(`${request.op}\n${request.type}\n${request.count}`).digest('hex');
}

/** One call waiting in a sequence's batch. */
interface BatchCall {
  readonly count: number;
  readonly key?: string;
  readonly hash?: string;
}

interface SequenceLane {
  readonly scope: ProjectScope;
  readonly type: string;
}

/**
 * Reserves IDs, coalescing the concurrent calls of one sequence (project + type) into one
 * allocation statement (group commit, see {@link Coalescer} and `allocateBatch`): a sequence
 * under load takes one row lock and one round trip per batch instead of one per call. The
 * ranges of a batch are handed out in arrival order, each contiguous.
 *
 * Idempotency keys: a batch with keys runs in one transaction that claims them all (a key
 * another transaction holds makes the claim wait for it), replays the keys already stored,
 * and allocates and records the rest with the unkeyed calls in one statement. A retry gets
 * the stored range back and allocates nothing; the same key with another request is a 422
 * for that caller alone. A batch whose statement fails fails every caller in it, and no
 * range is answered before its batch committed.
 *
 * @example
 * const ids = new IdReserver(db);
 * const r = await ids.reserve({ projectId: 'alpha' }, { op: 'reserve', type: 'US', count: 6 });
 * // r.first .. r.last, e.g. 1 .. 6
 */
export class IdReserver {
  readonly #db: Kysely<Database>;
  readonly #coalescer: Coalescer<SequenceLane, BatchCall, Reservation>;

  /** @param options `maxBatch`: most calls one statement allocates for (default 500). */
  constructor(db: Kysely<Database>, options: { maxBatch?: number } = {}) {
    this.#db = db;
    this.#coalescer = new Coalescer((lane, calls) => this.#runBatch(lane, calls), {
      ...options,
      // Project ids and types never contain a NUL, so the pair names one sequence.
      keyOf: (lane) => `${lane.scope.projectId}\u0000${lane.type}`,
    });
  }

  /** Batches run and calls answered through them (their ratio is the mean batch size). */
  get stats(): { batches: number; items: number } {
    return this.#coalescer.stats;
  }

  /** Reserves `request.count` IDs of `request.type` in the scope's project, honouring `idempotencyKey`. */
  async reserve(scope: ProjectScope, request: ReserveRequest, idempotencyKey?: string): Promise<Reservation> {
    try {
      // The planted lost update is an allocation made outside the allocator, as such bugs are:
      // it races the batches instead of queueing behind them.
      // Group commit off (failpoint `ids.reserve.uncoalesced`): the call takes the same path alone.
      const planted: PlantedAllocation | undefined = failpoint('ids.allocate.read-then-write')
        ? 'read-then-write'
        : failpoint('ids.reserve.uncoalesced')
          ? 'uncoalesced'
          : undefined;
      const wrongProject = !planted && failpoint('ids.reserve.wrong-project');
      // The planted defect (failpoint `ids.reserve.forget-idempotency-key`): the key is ignored.
      const key = idempotencyKey !== undefined && !failpoint('ids.reserve.forget-idempotency-key') ? idempotencyKey : undefined;
      if (planted) return await reserveAlone(this.#db, scope, request, key, planted);
      if (wrongProject) return await this.#fromAnotherProject(scope, request, key);
      const call: BatchCall = key === undefined ? { count: request.count } : { count: request.count, key, hash: requestHash(request) };
      return await this.#coalescer.submit({ scope, type: request.type }, call);
    } catch (err) {
      // The key's project was deleted between authentication and the insert.
      if (isForeignKeyViolation(err)) throw new ServiceError('project_not_found', `project ${scope.projectId} not found`, { cause: err });
      throw err;
    }
  }

  /**
   * The planted cross-project allocation (failpoint `ids.reserve.wrong-project`): the range
   * is taken in the batch of another project's sequence of the type (the first by id; the
   * caller's own when there is none), as that project's own calls are, and answered to the
   * caller, recorded under the caller's key when it sent one.
   */
  async #fromAnotherProject(scope: ProjectScope, request: ReserveRequest, key: string | undefined): Promise<Reservation> {
    const source = await anotherProjectWith(this.#db, scope, request.type);
    // Taken before the key's transaction opens: a transaction held open while waiting for a
    // batch would hold a pool connection the batch itself may need.
    const taken = await this.#coalescer.submit({ scope: source, type: request.type }, { count: request.count });
    if (key === undefined) return taken;
    const hash = requestHash(request);
    return this.#db.transaction().execute(async (trx) => {
      if (!(await claimIdempotencyKey(trx, scope, key, request.type, hash))) return answerOrThrow(replayOf(key, await findOne(trx, scope, key), hash));
      return { ...(await recordRange(trx, scope, key, taken)), replayed: false };
    });
  }

  async #runBatch({ scope, type }: SequenceLane, calls: readonly BatchCall[]): Promise<(Reservation | Error)[]> {
    // The first call with a key owns it; a later call of the batch with the same key replays it.
    const owner = new Map<string, number>();
    calls.forEach((c, i) => {
      if (c.key !== undefined && !owner.has(c.key)) owner.set(c.key, i);
    });
    if (owner.size === 0) {
      // Unkeyed only: one autocommitted statement.
      const ranges = await allocateBatch(this.#db, scope, type, calls);
      return ranges.map((r) => ({ ...r, replayed: false }));
    }
    return this.#db.transaction().execute(async (trx) => {
      const claims = [...owner.keys()].map((key) => ({ key, requestHash: (calls[owner.get(key) as number] as BatchCall).hash as string }));
      const claimed = await claimIdempotencyKeys(trx, scope, type, claims);
      const stored = await findReservations(
        trx,
        scope,
        claims.filter((c) => !claimed.has(c.key)).map((c) => c.key),
      );
      // Who allocates: unkeyed calls, and the owners of keys this transaction claimed.
      const allocating = calls.flatMap((c, i) => (c.key === undefined || (owner.get(c.key) === i && claimed.has(c.key)) ? [i] : []));
      const ranges = allocating.length === 0 ? [] : await allocateBatch(trx, scope, type, allocating.map((i) => calls[i] as BatchCall));
      const fresh = new Map<number, IdRange>(allocating.map((callIndex, k) => [callIndex, ranges[k] as IdRange]));
      return calls.map((c, i): Reservation | Error => {
        const range = fresh.get(i);
        if (range) return { ...range, replayed: false };
        const key = c.key as string;
        const ownerIndex = owner.get(key) as number;
        const earlier: StoredReservation | undefined = claimed.has(key)
          ? { ...(fresh.get(ownerIndex) as IdRange), requestHash: (calls[ownerIndex] as BatchCall).hash as string }
          : stored.get(key);
        // The claim found a committed row (one still in flight would have made it wait), so
        // the read after it sees its final range; none at all is a broken invariant.
        if (!earlier) throw new Error(`idempotency key ${key} conflicted but no reservation is stored`);
        return replayOf(key, earlier, c.hash as string);
      });
    });
  }
}

/** A stored range as the answer to a retry with `hash`, or the 422 of a reused key. */
function replayOf(key: string, stored: StoredReservation, hash: string): Reservation | ServiceError {
  if (stored.requestHash !== hash) {
    return new ServiceError('idempotency_conflict', `Idempotency-Key ${key} was already used with a different request`, {
      details: [{ path: 'header.idempotency-key', message: 'already used with a different request' }],
    });
  }
  return { type: stored.type, first: stored.first, last: stored.last, replayed: true };
}

/**
 * One call allocated on its own, the way the service worked before coalescing: the path a
 * planted allocation defect takes (a lost update, or group commit switched off). With a key,
 * one transaction claims it, then allocates and records the range; a retry gets the stored
 * range back.
 */
async function reserveAlone(db: Kysely<Database>, scope: ProjectScope, request: ReserveRequest, key: string | undefined, planted: PlantedAllocation): Promise<Reservation> {
  if (key === undefined) {
    // Alone and correct, its held row lock needs a transaction to be held in.
    const allocate = (e: Executor) => allocateRange(e, scope, request.type, request.count, planted);
    const range = planted === 'uncoalesced' ? await db.transaction().execute(allocate) : await allocate(db);
    return { ...range, replayed: false };
  }
  const hash = requestHash(request);
  return db.transaction().execute(async (trx) => {
    if (await claimIdempotencyKey(trx, scope, key, request.type, hash)) {
      return { ...(await allocateRecordedRange(trx, scope, key, request.type, request.count, planted)), replayed: false };
    }
    return answerOrThrow(replayOf(key, await findOne(trx, scope, key), hash));
  });
}

function answerOrThrow(answer: Reservation | Error): Reservation {
  if (answer instanceof Error) throw answer;
  return answer;
}

async function findOne(trx: Executor, scope: ProjectScope, key: string): Promise<StoredReservation> {
  const stored = await findReservation(trx, scope, key);
  if (!stored) throw new Error(`idempotency key ${key} conflicted but no reservation is stored`);
  return stored;
}
