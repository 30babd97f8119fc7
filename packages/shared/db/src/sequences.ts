import { sql, type InsertQueryBuilder, type QueryCreator } from 'kysely';
import type { Database } from './database.js';

/** The project a sequence belongs to (the scope of the authenticated key). */
export interface SequenceScope {
  readonly projectId: string;
}

/**
 * The one ID allocation statement: an upsert on `id_registry` that creates the project's
 * `sequenceType` sequence at `count`, or adds `count` to it under the row lock, and returns
 * the new high-water mark (`last_assigned_id`). The range handed out is
 * `(last_assigned_id - count + 1) .. last_assigned_id`.
 *
 * Concurrent callers queue on the row lock and each sees the value the previous one
 * committed, so there is no read-then-write window, no serialization failure and nothing to
 * retry. Inside a transaction the lock is held until it ends, which serialises the
 * sequence's writers for that long.
 *
 * Returns the builder, not its result, so the same statement is executed, used in a CTE
 * (`db.with('bump', (qc) => bumpSequence(qc, …))`) and EXPLAINed.
 *
 * @example
 * const { last_assigned_id } = await bumpSequence(db, { projectId: 'alpha' }, 'US', 6).executeTakeFirstOrThrow();
 * // a fresh sequence: '6', i.e. US-001 … US-006 are this caller's
 */
export function bumpSequence(
  db: QueryCreator<Database>,
  scope: SequenceScope,
  sequenceType: string,
  count: number,
): InsertQueryBuilder<Database, 'id_registry', { last_assigned_id: string }> {
  return db
    .insertInto('id_registry')
    .values({ project_id: scope.projectId, sequence_type: sequenceType, last_assigned_id: count })
    .onConflict((oc) =>
      oc.columns(['project_id', 'sequence_type']).doUpdateSet({
        last_assigned_id: sql<string>`id_registry.last_assigned_id + excluded.last_assigned_id`,
        updated_at: sql<Date>`now()`,
      }),
    )
    .returning('last_assigned_id');
}
