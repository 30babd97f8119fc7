import { createHash } from 'node:crypto';
import { isForeignKeyViolation, type Database } from '@crucible/db';
import { ServiceError, failpoint, type ProjectScope } from '@crucible/service-kit';
import type { Kysely } from 'kysely';
import type { IdRange } from './id.mapper.js';
import { allocateRange, allocateRecordedRange, claimIdempotencyKey, findReservation, type Executor } from './id.repository.js';

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

/**
 * Reserves `count` IDs of `type` in the scope's project.
 *
 * Without an idempotency key this is the single upsert of {@link allocateRange} (autocommit,
 * one round trip). With a key, one transaction claims the key first, then allocates and
 * records the range; a retry — even a concurrent one, which waits on the key's row — gets
 * the stored range back and allocates nothing. The same key with another request is a 422.
 *
 * @example
 * const r = await reserveIds(db, { projectId: 'alpha' }, { op: 'reserve', type: 'US', count: 6 });
 * // r.first .. r.last, e.g. 1 .. 6
 */
export async function reserveIds(db: Kysely<Database>, scope: ProjectScope, request: ReserveRequest, idempotencyKey?: string): Promise<Reservation> {
  try {
    // The planted defect (failpoint `ids.reserve.forget-idempotency-key`): the key is ignored.
    if (idempotencyKey === undefined || failpoint('ids.reserve.forget-idempotency-key')) {
      return { ...(await allocateRange(db, scope, request.type, request.count)), replayed: false };
    }
    const key = idempotencyKey;
    const hash = requestHash(request);
    return await db.transaction().execute(async (trx) => {
      if (await claimIdempotencyKey(trx, scope, key, request.type, hash)) {
        return { ...(await allocateRecordedRange(trx, scope, key, request.type, request.count)), replayed: false };
      }
      return replay(trx, scope, key, hash);
    });
  } catch (err) {
    // The key's project was deleted between authentication and the insert.
    if (isForeignKeyViolation(err)) throw new ServiceError('project_not_found', `project ${scope.projectId} not found`, { cause: err });
    throw err;
  }
}

async function replay(trx: Executor, scope: ProjectScope, key: string, hash: string): Promise<Reservation> {
  // The claim found a committed row (a claim still in flight would have made it wait), so a
  // fresh read-committed snapshot sees it with its final range.
  const stored = await findReservation(trx, scope, key);
  if (!stored) throw new Error(`idempotency key ${key} conflicted but no reservation is stored`);
  if (stored.requestHash !== hash) {
    throw new ServiceError('idempotency_conflict', `Idempotency-Key ${key} was already used with a different request`, {
      details: [{ path: 'header.idempotency-key', message: 'already used with a different request' }],
    });
  }
  return { type: stored.type, first: stored.first, last: stored.last, replayed: true };
}
