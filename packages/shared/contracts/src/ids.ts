import { z } from 'zod';
import { projectIdSchema } from './project.js';

/** An artifact type such as `US` or `BUG_2`. */
export const idTypeSchema = z
  .string()
  .regex(/^[A-Z][A-Z0-9_]{0,15}$/, 'must match ^[A-Z][A-Z0-9_]{0,15}$');
export type IdType = z.infer<typeof idTypeSchema>;

/** Largest number of IDs one reservation may ask for. */
export const maxReserveCount = 10_000;

/** `POST /ids/reserve` body. */
export const reserveIdsRequestSchema = z.strictObject({
  type: idTypeSchema,
  count: z.number().int().min(1).max(maxReserveCount),
  project_id: projectIdSchema.optional(),
});
export type ReserveIdsRequest = z.infer<typeof reserveIdsRequestSchema>;

/** `POST /ids/reserve` answer: the contiguous range `first..last`. */
export const reserveIdsResponseSchema = z.object({
  project_id: projectIdSchema,
  type: idTypeSchema,
  ids: z.array(z.string()),
  first: z.number().int().positive(),
  last: z.number().int().positive(),
});
export type ReserveIdsResponse = z.infer<typeof reserveIdsResponseSchema>;

/** `GET /ids/next` query. */
export const nextIdQuerySchema = z.strictObject({
  type: idTypeSchema,
  project: projectIdSchema.optional(),
});
export type NextIdQuery = z.infer<typeof nextIdQuerySchema>;

/** `GET /ids/next` answer. */
export const nextIdResponseSchema = z.object({
  id: z.string(),
  number: z.number().int().positive(),
});
export type NextIdResponse = z.infer<typeof nextIdResponseSchema>;

/** `GET /ids/registry` query: nothing but an optional `project` (which must be the key's own). */
export const idRegistryQuerySchema = z.strictObject({
  project: projectIdSchema.optional(),
});
export type IdRegistryQuery = z.infer<typeof idRegistryQuerySchema>;

/** `POST /ids/reserve` takes its input in the body only: no query parameter is accepted. */
export const reserveIdsQuerySchema = z.strictObject({});

/** Name of the header that makes a reserving call safe to retry. */
export const idempotencyKeyHeader = 'idempotency-key';

/**
 * An `Idempotency-Key`: 1–255 characters from the set UUIDs, ULIDs and base64 use. A retry
 * with the same key and the same request gets the same range and allocates nothing.
 */
export const idempotencyKeySchema = z
  .string()
  .regex(/^[A-Za-z0-9._:~+/=-]{1,255}$/, 'must be 1-255 characters of A-Z a-z 0-9 . _ : ~ + / = -');
export type IdempotencyKey = z.infer<typeof idempotencyKeySchema>;

/** The headers the reserving calls read (others are ignored). */
export const reserveIdsHeadersSchema = z.object({
  [idempotencyKeyHeader]: idempotencyKeySchema.optional(),
});

/** `GET /ids/registry` answer. */
export const idRegistryResponseSchema = z.object({
  project_id: projectIdSchema,
  sequences: z.array(z.object({ type: idTypeSchema, last_assigned_id: z.number().int().nonnegative() })),
});
export type IdRegistryResponse = z.infer<typeof idRegistryResponseSchema>;

/**
 * Renders an ID as `TYPE-NNN`, zero-padded to three digits and growing past 999.
 * @example formatId('US', 7) // 'US-007'; formatId('US', 1000) // 'US-1000'
 */
export function formatId(type: string, n: number): string {
  return `${type}-${String(n).padStart(3, '0')}`;
}

/** Parses `TYPE-NNN` back into its parts; `undefined` when it is not an ID. */
export function parseId(id: string): { type: string; number: number } | undefined {
  const m = /^([A-Z][A-Z0-9_]{0,15})-(\d{3,})$/.exec(id);
  if (!m) return undefined;
  return { type: m[1] as string, number: Number(m[2]) };
}
