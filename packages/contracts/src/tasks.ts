import { z } from 'zod';
import { projectIdSchema } from './project.js';

export const taskStatusSchema = z.enum(['pending', 'in_progress', 'done', 'cancelled']);
export type TaskStatus = z.infer<typeof taskStatusSchema>;

/** A task id, unique within a project (`TASK-001` when generated). */
export const taskIdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'must be 1–64 letters, digits, _ . or -');

export const taskSchema = z.object({
  project_id: projectIdSchema,
  task_id: taskIdSchema,
  title: z.string(),
  status: taskStatusSchema,
  priority: z.number().int(),
  payload: z.unknown().nullable(),
  claimed_by: z.string().nullable(),
  version: z.number().int().positive(),
  created_at: z.string(),
  updated_at: z.string(),
});
export type Task = z.infer<typeof taskSchema>;

/** `POST /tasks` body. */
export const createTaskRequestSchema = z.strictObject({
  task_id: taskIdSchema.optional(),
  title: z.string().min(1).max(500),
  status: taskStatusSchema.optional(),
  priority: z.number().int().min(0).max(1000).optional(),
  payload: z.unknown().optional(),
});
export type CreateTaskRequest = z.infer<typeof createTaskRequestSchema>;

/** `GET /tasks` query. */
export const listTasksQuerySchema = z.strictObject({
  project: projectIdSchema.optional(),
  status: taskStatusSchema.optional(),
  limit: z.coerce.number().int().min(1).max(500).optional(),
  cursor: z.string().max(512).optional(),
});
export type ListTasksQuery = z.infer<typeof listTasksQuerySchema>;

export const listTasksResponseSchema = z.object({
  items: z.array(taskSchema),
  next_cursor: z.string().nullable(),
});
export type ListTasksResponse = z.infer<typeof listTasksResponseSchema>;

/** `GET /tasks/next` query. */
export const nextTaskQuerySchema = z.strictObject({
  project: projectIdSchema.optional(),
  status: taskStatusSchema.optional(),
});
export type NextTaskQuery = z.infer<typeof nextTaskQuerySchema>;

/** `POST /tasks/claim` body. */
export const claimTaskRequestSchema = z.strictObject({
  worker: z.string().min(1).max(128),
});
export type ClaimTaskRequest = z.infer<typeof claimTaskRequestSchema>;

/** `PATCH /tasks/:task_id` body. */
export const updateTaskRequestSchema = z
  .strictObject({
    status: taskStatusSchema.optional(),
    title: z.string().min(1).max(500).optional(),
    priority: z.number().int().min(0).max(1000).optional(),
    expected_version: z.number().int().positive().optional(),
  })
  .refine((b) => b.status !== undefined || b.title !== undefined || b.priority !== undefined, {
    message: 'at least one of status, title, priority is required',
  });
export type UpdateTaskRequest = z.infer<typeof updateTaskRequestSchema>;
