import { bumpSequence, type Database } from '@crucible/db';
import type { ProjectScope } from '@crucible/service-kit';
import { sql, type Kysely, type Transaction } from 'kysely';
import { toNumber, toRange, toSequence, toStoredReservation, type IdRange, type IdSequence, type StoredReservation } from './id.mapper.js';

/** A connection, or a transaction, to run repository functions on. */
export type Executor = Kysely<Database> | Transaction<Database>;

/**
 * A planted defect of a single allocation, chosen by the caller from its failpoint:
 * `read-then-write` is the lost update of {@link allocateReadThenWrite}; `uncoalesced` is the
 * correct upsert, made alone and holding the row lock 1 ms longer ({@link holdRowLock}).
 */
export type PlantedAllocation = 'read-then-write' | 'uncoalesced';

/**
 * The planted per-call allocation (failpoint `ids.reserve.uncoalesced`): the transaction that
 * just bumped a sequence keeps its row lock 1 ms more before it commits, so calls that do
 * not share a batch serialise at no less than 1 ms each, however fast the machine.
 */
async function holdRowLock(db: Executor): Promise<void> {
  await sql`select pg_sleep(0.001)`.execute(db);
}

/**
 * Allocates `count` IDs of `type` in the scope's project with the one atomic upsert of
 * {@link bumpSequence} and returns the range `(new - count + 1) .. new`. The service
 * allocates through {@link allocateBatch}; this is the single call a planted defect takes.
 */
export async function allocateRange(db: Executor, scope: ProjectScope, type: string, count: number, planted?: PlantedAllocation): Promise<IdRange> {
  if (planted === 'read-then-write') return allocateReadThenWrite(db, scope, type, count);
  const row = await bumpSequence(db, scope, type, count).executeTakeFirstOrThrow();
  if (planted === 'uncoalesced') await holdRowLock(db);
  return toRange(type, row.last_assigned_id, count);
}

/**
 * The planted cross-project allocation (failpoint `ids.reserve.wrong-project`): the first
 * other project (by id) that has a `type` sequence, whose sequence the caller's range is then
 * drawn from; the caller's own scope when there is none.
 */
export async function anotherProjectWith(db: Executor, scope: ProjectScope, type: string): Promise<ProjectScope> {
  const row = await db
    .selectFrom('id_registry')
    .select('project_id')
    .where('sequence_type', '=', type)
    .where('project_id', '<>', scope.projectId)
    .orderBy('project_id')
    .limit(1)
    .executeTakeFirst();
  return row ? { projectId: row.project_id } : scope;
}

/**
 * The planted lost update (failpoint `ids.allocate.read-then-write`): reads the high-water
 * mark, then writes back an absolute value in a second statement, with no row lock held in
 * between. Two callers that read the same mark hand out the same range, and the registry ends
 * below the number of IDs answered.
 */
async function allocateReadThenWrite(db: Executor, scope: ProjectScope, type: string, count: number): Promise<IdRange> {
  const current = await db
    .selectFrom('id_registry')
    .select('last_assigned_id')
    .where('project_id', '=', scope.projectId)
    .where('sequence_type', '=', type)
    .executeTakeFirst();
  const next = (current ? toNumber(current.last_assigned_id) : 0) + count;
  await db
    .insertInto('id_registry')
    .values({ project_id: scope.projectId, sequence_type: type, last_assigned_id: next })
    .onConflict((oc) => oc.columns(['project_id', 'sequence_type']).doUpdateSet({ last_assigned_id: next, updated_at: sql<Date>`now()` }))
    .execute();
  return toRange(type, next, count);
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
    .values({ project_id: scope.projectId, idempotency_key: key, sequence_type: type, request_hash: requestHash, first_id: 0, last_id: 0 })
    .onConflict((oc) => oc.columns(['project_id', 'idempotency_key']).doNothing())
    .returning('idempotency_key')
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * Allocates the range for a claimed key and records it on the claim, in one statement (the
 * upsert runs in a CTE whose result the UPDATE stores): the single keyed call a planted
 * defect takes (the service records through {@link allocateBatch}).
 */
export async function allocateRecordedRange(
  trx: Transaction<Database>,
  scope: ProjectScope,
  key: string,
  type: string,
  count: number,
  planted?: PlantedAllocation,
): Promise<IdRange> {
  if (planted === 'read-then-write') return recordRange(trx, scope, key, await allocateReadThenWrite(trx, scope, type, count));
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
  if (planted === 'uncoalesced') await holdRowLock(trx);
  return { type, first: toNumber(row.first_id), last: toNumber(row.last_id) };
}

/** Stores `range` on the scope's claim of `key`, in a statement of its own (the planted defects' paths). */
export async function recordRange(trx: Transaction<Database>, scope: ProjectScope, key: string, range: IdRange): Promise<IdRange> {
  await trx
    .updateTable('id_reservations')
    .set({ first_id: range.first, last_id: range.last })
    .where('project_id', '=', scope.projectId)
    .where('idempotency_key', '=', key)
    .execute();
  return range;
}

/** The range stored under an idempotency key of the scope's project, if any. */
export async function findReservation(db: Executor, scope: ProjectScope, key: string): Promise<StoredReservation | undefined> {
  const row = await db
    .selectFrom('id_reservations')
    .select(['sequence_type', 'first_id', 'last_id', 'request_hash'])
    .where('project_id', '=', scope.projectId)
    .where('idempotency_key', '=', key)
    .executeTakeFirst();
  return row ? toStoredReservation(row) : undefined;
}

/** The query {@link listSequences} runs, for EXPLAIN. */
export function listSequencesQuery(db: Executor, scope: ProjectScope) {
  return db.selectFrom('id_registry').select(['sequence_type', 'last_assigned_id']).where('project_id', '=', scope.projectId).orderBy('sequence_type');
}

/** Every sequence of the scope's project, by type. */
export async function listSequences(db: Executor, scope: ProjectScope): Promise<IdSequence[]> {
  const rows = await listSequencesQuery(db, scope).execute();
  return rows.map(toSequence);
}

/** One call of a coalesced batch, as the batch statement sees it. */
export interface BatchAllocation {
  readonly count: number;
  /** The claimed idempotency key the range is recorded under; none for an unkeyed call. */
  readonly key?: string;
}

/**
 * Claims many idempotency keys of the scope's project in one statement (see
 * {@link claimIdempotencyKey}, whose waiting rules hold for each key) and returns the keys
 * this transaction now owns. Keys are inserted in sorted order, so two batches that share
 * keys lock them in the same order and cannot deadlock on each other.
 */
export async function claimIdempotencyKeys(
  trx: Transaction<Database>,
  scope: ProjectScope,
  type: string,
  claims: readonly { readonly key: string; readonly requestHash: string }[],
): Promise<Set<string>> {
  if (claims.length === 0) return new Set();
  const sorted = [...claims].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const rows = await trx
    .insertInto('id_reservations')
    // 0..0 is a placeholder the same transaction overwrites; no other transaction can see it.
    .values(sorted.map((c) => ({ project_id: scope.projectId, idempotency_key: c.key, sequence_type: type, request_hash: c.requestHash, first_id: 0, last_id: 0 })))
    .onConflict((oc) => oc.columns(['project_id', 'idempotency_key']).doNothing())
    .returning('idempotency_key')
    .execute();
  return new Set(rows.map((r) => r.idempotency_key));
}

/** The ranges stored under `keys` of the scope's project, by key. */
export async function findReservations(db: Executor, scope: ProjectScope, keys: readonly string[]): Promise<Map<string, StoredReservation>> {
  if (keys.length === 0) return new Map();
  const rows = await db
    .selectFrom('id_reservations')
    .select(['idempotency_key', 'sequence_type', 'first_id', 'last_id', 'request_hash'])
    .where('project_id', '=', scope.projectId)
    .where('idempotency_key', 'in', keys)
    .execute();
  return new Map(rows.map((r) => [r.idempotency_key, toStoredReservation(r)]));
}

/**
 * The coalesced allocation (group commit): ONE {@link bumpSequence} adds the total of
 * `calls`, and the ranges are handed out in the order of `calls`, each contiguous: call i
 * gets the `count` IDs after those of calls 0..i-1. The ranges of keyed calls are recorded on
 * their claims in the same statement (a CTE), so a committed allocation always has its
 * records; a statement that fails allocates and records nothing. Unkeyed-only batches need no
 * transaction (the statement autocommits); keyed ones run inside the claiming transaction.
 *
 * @example
 * const ranges = await allocateBatch(db, { projectId: 'alpha' }, 'US', [{ count: 2 }, { count: 1 }]);
 * // [{ first: 1, last: 2 }, { first: 3, last: 3 }] on a fresh sequence
 */
export async function allocateBatch(db: Executor, scope: ProjectScope, type: string, calls: readonly BatchAllocation[]): Promise<IdRange[]> {
  const offsets: number[] = [];
  let total = 0;
  for (const c of calls) {
    offsets.push(total);
    total += c.count;
  }
  const keyed = calls.flatMap((c, i) => (c.key === undefined ? [] : [{ key: c.key, offset: offsets[i] as number, count: c.count }]));
  let last: number;
  if (keyed.length === 0) {
    last = toNumber((await bumpSequence(db, scope, type, total).executeTakeFirstOrThrow()).last_assigned_id);
  } else {
    const row = await db
      .with('bump', (qc) => bumpSequence(qc, scope, type, total))
      .with('rec', (qc) =>
        qc
          .updateTable('id_reservations as r')
          .from([
            'bump',
            sql<{ k: string; off: string; cnt: string }>`unnest(${keyed.map((k) => k.key)}::text[], ${keyed.map((k) => k.offset)}::bigint[], ${keyed.map((k) => k.count)}::bigint[])`.as(
              sql`v(k, off, cnt)` as unknown as 'v',
            ),
          ])
          .set({
            first_id: sql<string>`bump.last_assigned_id - ${total} + v.off + 1`,
            last_id: sql<string>`bump.last_assigned_id - ${total} + v.off + v.cnt`,
          })
          .where('r.project_id', '=', scope.projectId)
          .whereRef('r.idempotency_key', '=', sql.ref('v.k'))
          .returning('r.idempotency_key'),
      )
      .selectFrom('bump')
      .select(['bump.last_assigned_id', sql<string>`(select count(*) from rec)`.as('recorded')])
      .executeTakeFirstOrThrow();
    // Every keyed call's claim must carry its range, or the transaction must not commit.
    if (Number(row.recorded) !== keyed.length) throw new Error(`coalesced allocation recorded ${row.recorded} of ${keyed.length} idempotency keys`);
    last = toNumber(row.last_assigned_id);
  }
  const base = last - total;
  return calls.map((c, i) => ({ type, first: base + (offsets[i] as number) + 1, last: base + (offsets[i] as number) + c.count }));
}
