import { z } from 'zod';
import { entityIdSchema } from './ids.js';
import { projectIdSchema } from './project.js';

/** Where a task is in its life: `pending` tasks wait in the queue; a claim makes one `in_progress`. */
export const taskStatusSchema = z.enum(['pending', 'in_progress', 'done', 'cancelled']);
export type TaskStatus = z.infer<typeof taskStatusSchema>;

/**
 * A task id, unique within a project (`TASK-001` when generated). `next` and `claim` are
 * routes under `/tasks/`, so they cannot be ids.
 */
export const taskIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'must be 1–64 letters, digits, _ . or -')
  .refine((v) => v !== 'next' && v !== 'claim', 'next and claim are reserved (they are routes under /tasks/)');

// PostgreSQL text cannot hold U+0000; refusing it here keeps such input a 400, never a 500.
const text = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .refine((v) => !v.includes('\u0000'), 'must not contain NUL (U+0000) characters');

/** Deepest nesting of objects and arrays a task payload may have. */
export const maxPayloadDepth = 64;

// Iterative, so a hostile payload nested 100,000 deep cannot exhaust the stack while it is
// checked (JSON.stringify and PostgreSQL would, further on).
function nestingWithin(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  for (let next = stack.pop(); next; next = stack.pop()) {
    const [v, depth] = next;
    if (v === null || typeof v !== 'object') continue;
    if (depth > max) return false;
    for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
  return true;
}

/** Most entity references one task may carry. */
export const maxTaskRefs = 20;

/**
 * `refs` of a create or update: ids the ID service issued to the task's project (`US-011`),
 * at most {@link maxTaskRefs}, none twice. The shape is checked here (400); whether each was
 * issued to the project is the ID service's answer (422 `ref_not_issued` naming it).
 */
export const taskRefsRequestSchema = z
  .array(entityIdSchema)
  .max(maxTaskRefs)
  .refine((ids) => new Set(ids).size === ids.length, 'must not name an id twice');

/**
 * One reference of a task as the API returns it. `stale: true` — the ID service retired the
 * id since; `false` — it is live; `null` — not known, because the ID service did not answer
 * when the task was read (the task is still returned; read it again later to know).
 */
export const taskRefSchema = z.object({
  id: entityIdSchema,
  stale: z.boolean().nullable(),
});
export type TaskRef = z.infer<typeof taskRefSchema>;

/** A task as the API returns it. */
export const taskSchema = z.object({
  project_id: projectIdSchema,
  task_id: taskIdSchema,
  title: z.string(),
  status: taskStatusSchema,
  priority: z.number().int(),
  payload: z.unknown().nullable(),
  claimed_by: z.string().nullable(),
  /** Entity references, in the order given (`[]` when none). */
  refs: z.array(taskRefSchema),
  version: z.number().int().positive(),
  created_at: z.string(),
  updated_at: z.string(),
});
export type Task = z.infer<typeof taskSchema>;

/** `POST /tasks` body. */
export const createTaskRequestSchema = z.strictObject({
  task_id: taskIdSchema.optional(),
  title: text(500),
  status: taskStatusSchema.optional(),
  priority: z.number().int().min(0).max(1000).optional(),
  payload: z
    .unknown()
    .refine((v) => nestingWithin(v, maxPayloadDepth), `must not nest objects and arrays deeper than ${maxPayloadDepth} levels`)
    .optional(),
  refs: taskRefsRequestSchema.optional(),
});
export type CreateTaskRequest = z.infer<typeof createTaskRequestSchema>;

/** Largest page `GET /tasks` returns. */
export const maxTasksPageSize = 500;

/** Page size of `GET /tasks` when `limit` is not given. */
export const defaultTasksPageSize = 100;

/** `GET /tasks` query. */
export const listTasksQuerySchema = z.strictObject({
  project: projectIdSchema.optional(),
  status: taskStatusSchema.optional(),
  limit: z.coerce.number().int().min(1).max(maxTasksPageSize).optional(),
  cursor: z.string().max(512).optional(),
});
export type ListTasksQuery = z.infer<typeof listTasksQuerySchema>;

/** `GET /tasks` answer: one page, oldest first, and the cursor of the next page (`null` at the end). */
export const listTasksResponseSchema = z.object({
  items: z.array(taskSchema),
  next_cursor: z.string().nullable(),
});
export type ListTasksResponse = z.infer<typeof listTasksResponseSchema>;

/** `GET /tasks/next` query (`status` defaults to `pending`). */
export const nextTaskQuerySchema = z.strictObject({
  project: projectIdSchema.optional(),
  status: taskStatusSchema.optional(),
});
export type NextTaskQuery = z.infer<typeof nextTaskQuerySchema>;

/** `POST /tasks/claim` body. */
export const claimTaskRequestSchema = z.strictObject({
  worker: text(128),
});
export type ClaimTaskRequest = z.infer<typeof claimTaskRequestSchema>;

/** Route parameters of `/tasks/:task_id`. */
export const taskParamsSchema = z.strictObject({ task_id: taskIdSchema });
export type TaskParams = z.infer<typeof taskParamsSchema>;

/**
 * The position a `GET /tasks` page ended at: the last task's creation time (PostgreSQL
 * microsecond precision, ISO 8601 in UTC) and its id. Sent to clients base64url-encoded.
 */
export const taskCursorSchema = z.tuple([z.iso.datetime({ precision: 6 }), taskIdSchema]);
export type TaskCursor = z.infer<typeof taskCursorSchema>;

/** `PATCH /tasks/:task_id` body; `expected_version` turns on optimistic concurrency (409 `version_conflict`). */
export const updateTaskRequestSchema = z
  .strictObject({
    status: taskStatusSchema.optional(),
    title: text(500).optional(),
    priority: z.number().int().min(0).max(1000).optional(),
    /** Replaces the task's references (`[]` removes them). */
    refs: taskRefsRequestSchema.optional(),
    expected_version: z.number().int().positive().max(2_147_483_647).optional(),
  })
  .refine((b) => b.status !== undefined || b.title !== undefined || b.priority !== undefined || b.refs !== undefined, {
    message: 'at least one of status, title, priority, refs is required',
  });
export type UpdateTaskRequest = z.infer<typeof updateTaskRequestSchema>;
