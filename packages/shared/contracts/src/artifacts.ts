import { z } from 'zod';

/** An artifact id, unique within a project. */
export const artifactIdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/, 'must be 1–128 letters, digits, _ . or -');

/** `PUT /artifacts/:artifact_id` answer. */
export const artifactMetaSchema = z.object({
  project_id: z.string(),
  artifact_id: artifactIdSchema,
  content_type: z.string(),
  size: z.number().int().nonnegative(),
  sha256: z.string(),
  etag: z.string(),
  created: z.boolean(),
});
export type ArtifactMeta = z.infer<typeof artifactMetaSchema>;

/** Route parameters of `/artifacts/:artifact_id`. */
export const artifactParamsSchema = z.strictObject({ artifact_id: artifactIdSchema });
export type ArtifactParams = z.infer<typeof artifactParamsSchema>;

/**
 * The `Content-Type` an artifact is stored with: `type/subtype` plus optional parameters
 * (`text/plain; charset=utf-8`), at most 255 characters.
 */
export const artifactContentTypeSchema = z
  .string()
  .max(255)
  .regex(/^[A-Za-z0-9][\w!#$&^.+-]*\/[A-Za-z0-9][\w!#$&^.+-]*(\s*;\s*[\w!#$&^.+-]+=("[^"\\\r\n]*"|[\w!#$&^.+-]+))*\s*$/, 'must be a media type such as text/plain; charset=utf-8');

/** Headers of `PUT /artifacts/:artifact_id` the API reads (a missing type stores `application/octet-stream`). */
export const artifactPutHeadersSchema = z.object({ 'content-type': artifactContentTypeSchema.optional() });

/** A shared resource name (`sdlc-core.md`). */
export const resourceNameSchema = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,127}$/, 'must be a lower-case file name');

/** Route parameters of `/resources/:name`. */
export const resourceParamsSchema = z.strictObject({ name: resourceNameSchema });

/** `GET /resources` answer: every shared document with its size in bytes. */
export const resourceListResponseSchema = z.object({
  items: z.array(z.object({ name: resourceNameSchema, size: z.number().int().nonnegative() })),
});
export type ResourceListResponse = z.infer<typeof resourceListResponseSchema>;
