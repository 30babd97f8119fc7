import type { IdRegistryRow, IdReservationRow } from '@crucible/db';

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

/**
 * A `bigint` column as a JS number. pg returns bigint as a string; a sequence past 2^53
 * cannot be rendered exactly, so it is an error rather than a silently wrong ID.
 */
export function toNumber(value: string | number | bigint): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new RangeError(`sequence value ${String(value)} is beyond the exact range of a JS number`);
  return n;
}

/** The range a bump of `count` that reached `last` hands out: `last - count + 1 .. last`. */
export function toRange(type: string, last: string | number | bigint, count: number): IdRange {
  const high = toNumber(last);
  return { type, first: high - count + 1, last: high };
}

/** Maps an `id_registry` row to its DTO. */
export function toSequence(row: Pick<IdRegistryRow, 'sequence_type' | 'last_assigned_id'>): IdSequence {
  return { type: row.sequence_type, last_assigned_id: toNumber(row.last_assigned_id) };
}

/** Maps an `id_reservations` row to a stored range. */
export function toStoredReservation(row: Pick<IdReservationRow, 'sequence_type' | 'first_id' | 'last_id' | 'request_hash'>): StoredReservation {
  return { type: row.sequence_type, first: toNumber(row.first_id), last: toNumber(row.last_id), requestHash: row.request_hash };
}
