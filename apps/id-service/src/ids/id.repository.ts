import type { Database, IdRegistryRow, IdReservationRow } from '@crucible/db';
import type { ProjectScope } from '@crucible/service-kit';
import { sql, type Kysely, type QueryCreator, type Transaction } from 'kysely';

/** A connection, or a transaction, to run repository functions on. */
export type Executor = Kysely<Database> | Transaction<Database>;

/** A contiguous range `first..last` of one sequence. */
export interface IdRange {
  readonly type: string;
  readonly first: number;
  readonly last: number;
}

/** One sequence as `GET /ids/registry` lists it. */
export interface IdSequence {
  readonly type: string;
  readonly last_assigned_id: number;
}

/** A stored idempotent reservation. */
export interface StoredReservation extends IdRange {
  readonly requestHash: string;
}

// pg returns bigint as a string. A sequence past 2^53 cannot be rendered exactly, so it is
// an error rather than a silently wrong ID.
function toNumber(value: string | number | bigint): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new RangeError(`sequence value ${String(value)} is beyond the exact range of a JS number`);
  return n;
}

/** Maps an `id_registry` row to its DTO. */
export function toSequence(row: Pick<IdRegistryRow, 'artifact_type' | 'last_assigned_id'>): IdSequence {
  return { type: row.artifact_type, last_assigned_id: toNumber(row.last_assigned_id) };
}

/** Maps an `id_reservations` row to a stored range. */
export function toStoredReservation(row: Pick<IdReservationRow, 'artifact_type' | 'first_id' | 'last_id' | 'request_hash'>): StoredReservation {
  return { type: row.artifact_type, first: toNumber(row.first_id), last: toNumber(row.last_id), requestHash: row.request_hash };
}

/**
 * The allocation statement (exported for EXPLAIN). The whole allocation is this one
 * statement: the upsert creates the sequence at `count` or adds `count` under the row lock,
 * and returns the new high-water mark. Concurrent callers queue on the row lock and each
 * sees the value the previous one committed, so there is no read-then-write window, no
 * serialization failure and nothing to retry.
 */
export function bumpSequence(db: QueryCreator<Database>, scope: ProjectScope, type: string, count: number) {
  return db
    .insertInto('id_registry')
    .values({ project_id: scope.projectId, artifact_type: type, last_assigned_id: count })
    .onConflict((oc) =>
      oc.columns(['project_id', 'artifact_type']).doUpdateSet({
        last_assigned_id: sql<string>`id_registry.last_assigned_id + excluded.last_assigned_id`,
        updated_at: sql<Date>`now()`,
      }),
    )
    .returning('last_assigned_id');
}

/**
 * Allocates `count` IDs of `type` in the scope's project with one atomic upsert and returns
 * the range `(new - count + 1) .. new`.
 */
export async function allocateRange(db: Executor, scope: ProjectScope, type: string, count: number): Promise<IdRange> {
  const row = await bumpSequence(db, scope, type, count).executeTakeFirstOrThrow();
  const last = toNumber(row.last_assigned_id);
  return { type, first: last - count + 1, last };
}

/**
 * Claims an idempotency key for this project, before anything is allocated. Returns `true`
 * when this transaction now owns the key. A concurrent claim of the same key waits on the
 * unique index until the first transaction ends; if that one commits, this returns `false`
 * and the stored range can be read.
 */
export async function claimIdempotencyKey(
  trx: Transaction<Database>,
  scope: ProjectScope,
  key: string,
  type: string,
  requestHash: string,
): Promise<boolean> {
  const row = await trx
    .insertInto('id_reservations')
    // 0..0 is a placeholder the same transaction overwrites; no other transaction can see it.
    .values({ project_id: scope.projectId, idempotency_key: key, artifact_type: type, request_hash: requestHash, first_id: 0, last_id: 0 })
    .onConflict((oc) => oc.columns(['project_id', 'idempotency_key']).doNothing())
    .returning('idempotency_key')
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * Allocates the range for a claimed key and records it on the claim, in one statement (the
 * upsert runs in a CTE whose result the UPDATE stores).
 */
export async function allocateRecordedRange(
  trx: Transaction<Database>,
  scope: ProjectScope,
  key: string,
  type: string,
  count: number,
): Promise<IdRange> {
  const row = await trx
    .with('bump', (db) => bumpSequence(db, scope, type, count))
    .updateTable('id_reservations')
    .from('bump')
    .set((eb) => ({
      first_id: sql<string>`${eb.ref('bump.last_assigned_id')} - ${count} + 1`,
      last_id: eb.ref('bump.last_assigned_id'),
    }))
    .where('id_reservations.project_id', '=', scope.projectId)
    .where('id_reservations.idempotency_key', '=', key)
    .returning(['id_reservations.first_id', 'id_reservations.last_id'])
    .executeTakeFirstOrThrow();
  return { type, first: toNumber(row.first_id), last: toNumber(row.last_id) };
}

/** The range stored under an idempotency key of the scope's project, if any. */
export async function findReservation(db: Executor, scope: ProjectScope, key: string): Promise<StoredReservation | undefined> {
  const row = await db
    .selectFrom('id_reservations')
    .select(['artifact_type', 'first_id', 'last_id', 'request_hash'])
    .where('project_id', '=', scope.projectId)
    .where('idempotency_key', '=', key)
    .executeTakeFirst();
  return row ? toStoredReservation(row) : undefined;
}

/** The query {@link listSequences} runs, for EXPLAIN. */
export function listSequencesQuery(db: Executor, scope: ProjectScope) {
  return db.selectFrom('id_registry').select(['artifact_type', 'last_assigned_id']).where('project_id', '=', scope.projectId).orderBy('artifact_type');
}

/** Every sequence of the scope's project, by type. */
export async function listSequences(db: Executor, scope: ProjectScope): Promise<IdSequence[]> {
  const rows = await listSequencesQuery(db, scope).execute();
  return rows.map(toSequence);
}
