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

/** A shared resource name (`sdlc-core.md`). */
export const resourceNameSchema = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,127}$/, 'must be a lower-case file name');
