import { z } from 'zod';

/**
 * Every error code any Crucible service can answer with, mapped to its HTTP status.
 * The `Record` keyed on the code union makes a code without a status a compile error.
 */
export const errorStatus = {
  validation_failed: 400,
  invalid_json: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  project_not_found: 404,
  no_task: 404,
  task_not_found: 404,
  artifact_not_found: 404,
  resource_not_found: 404,
  id_not_found: 404,
  method_not_allowed: 405,
  project_exists: 409,
  task_exists: 409,
  version_conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  idempotency_conflict: 422,
  ref_not_issued: 422,
  pool_exhausted: 503,
  database_unavailable: 503,
  dependency_unavailable: 503,
  shutting_down: 503,
  too_many_connections: 503,
  internal: 500,
} as const satisfies Record<string, number>;

/** The union of every error code. */
export type ErrorCode = keyof typeof errorStatus;

/** All error codes as a tuple, for schemas and tables. */
export const errorCodes = Object.keys(errorStatus) as [ErrorCode, ...ErrorCode[]];

/** Schema of an error code. */
export const errorCodeSchema = z.enum(errorCodes);

/** One problem with a request field (`path` is the dotted field name, e.g. `body.count`). */
export const fieldIssueSchema = z.object({
  path: z.string(),
  message: z.string(),
});
export type FieldIssue = z.infer<typeof fieldIssueSchema>;

/**
 * The JSON error envelope every 4xx and 5xx answer carries:
 * `{ "error": { "code", "message", "details"? } }`.
 */
export const errorEnvelopeSchema = z.object({
  error: z.object({
    code: errorCodeSchema,
    message: z.string(),
    details: z.unknown().optional(),
  }),
});
export type ErrorEnvelope = z.infer<typeof errorEnvelopeSchema>;
