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
 * An issued ID as text, in the one form {@link formatId} renders it (`US-011`, `US-1000`;
 * not `US-11`, `US-0011` or `US-000`), so one id has one spelling to store and look up.
 */
export const entityIdSchema = z
  .string()
  .max(64)
  .refine((v) => {
    const p = parseId(v);
    return p !== undefined && p.number >= 1 && Number.isSafeInteger(p.number) && formatId(p.type, p.number) === v;
  }, 'must be an issued id such as US-011: TYPE-NNN, TYPE matching ^[A-Z][A-Z0-9_]{0,15}$, NNN a number from 001 written as formatId renders it');
export type EntityId = z.infer<typeof entityIdSchema>;

/** `POST /ids/retire` body: the id to retire, which must have been issued to the key's project. */
export const retireIdRequestSchema = z.strictObject({ id: entityIdSchema });
export type RetireIdRequest = z.infer<typeof retireIdRequestSchema>;

/** `POST /ids/retire` answer. Retiring is final and idempotent: a second call answers the first `retired_at`. */
export const retireIdResponseSchema = z.object({
  project_id: projectIdSchema,
  id: entityIdSchema,
  state: z.literal('retired'),
  retired_at: z.string(),
});
export type RetireIdResponse = z.infer<typeof retireIdResponseSchema>;

/**
 * What an id is to the asking project: `issued` to it (and live), `retired` (issued to it,
 * then retired), or `unknown` (never issued to it; another project's id reads `unknown` too,
 * so an answer never tells whether some other project holds it).
 */
export const idStateSchema = z.enum(['issued', 'retired', 'unknown']);
export type IdState = z.infer<typeof idStateSchema>;

/** Most ids one `POST /ids/lookup` may ask about. */
export const maxLookupIds = 100;

/** `POST /ids/lookup` body. */
export const lookupIdsRequestSchema = z.strictObject({
  ids: z.array(entityIdSchema).min(1).max(maxLookupIds),
});
export type LookupIdsRequest = z.infer<typeof lookupIdsRequestSchema>;

/** `POST /ids/lookup` answer: each distinct id asked, in the order asked, with its state. */
export const lookupIdsResponseSchema = z.object({
  project_id: projectIdSchema,
  ids: z.array(z.object({ id: entityIdSchema, state: idStateSchema })),
});
export type LookupIdsResponse = z.infer<typeof lookupIdsResponseSchema>;

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
