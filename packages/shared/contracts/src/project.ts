import { z } from 'zod';

/** A project id: lower-case letters, digits and dashes, 1–63 characters. */
export const projectIdSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must match ^[a-z0-9][a-z0-9-]{0,62}$');
export type ProjectId = z.infer<typeof projectIdSchema>;

/** `POST /admin/projects` body. */
export const createProjectRequestSchema = z.strictObject({ id: projectIdSchema });
export type CreateProjectRequest = z.infer<typeof createProjectRequestSchema>;

/** `POST /admin/projects` answer; the key is shown only here. */
export const createProjectResponseSchema = z.object({
  project: z.object({ id: projectIdSchema }),
  api_key: z.string(),
});
export type CreateProjectResponse = z.infer<typeof createProjectResponseSchema>;
