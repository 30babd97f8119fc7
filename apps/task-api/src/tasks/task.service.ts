import {
  defaultTasksPageSize,
  formatId,
  type ClaimTaskRequest,
  type CreateTaskRequest,
  type ListTasksQuery,
  type ListTasksResponse,
  type NextTaskQuery,
  type Task,
  type UpdateTaskRequest,
} from '@crucible/contracts';
import type { Database, TaskRow } from '@crucible/db';
import { failpoint, resolveProject, ServiceError, type ProjectScope } from '@crucible/service-kit';
import type { Kysely } from 'kysely';
import { setTimeout as sleep } from 'node:timers/promises';
import { taskIdType } from '../ids/id.blocks.js';
import { decodeCursor, encodeCursor } from './task.cursor.js';
import { toTask } from './task.mapper.js';
import * as repo from './task.repository.js';

// A generated id can meet a task created earlier with that id given explicitly; the
// next issued number is then taken. Bounded so a pathological project cannot loop forever.
const maxGeneratedIdAttempts = 100;

function isDataException(err: unknown): boolean {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && code.startsWith('22');
}

/** The task numbers the ID service issued to the project (see `TaskIdBlocks`). */
export interface TaskNumbers {
  /** The next unused one. */
  take(): Promise<number>;
  /** One taken for an insert PostgreSQL refused (no row holds it): used for the next create. */
  giveBack(n: number): void;
}

/**
 * Creates a task in the key's project. Without `task_id` the next `TASK-NNN` the ID service
 * issued to the project is used (`numbers`); 503 `dependency_unavailable` when it cannot
 * issue one. Throws 409 `task_exists` for an id the project already has.
 */
export async function createTask(db: Kysely<Database>, scope: ProjectScope, body: CreateTaskRequest, numbers: TaskNumbers, idempotencyKey?: string): Promise<Created> {
  // The planted forgetting (failpoint `tasks.create.ignore-idempotency-key`): the key is neither looked up nor stored, so a retry creates a second task.
  const key = idempotencyKey !== undefined && failpoint('tasks.create.ignore-idempotency-key') ? undefined : idempotencyKey;
  const fields = { title: body.title, status: body.status ?? 'pending', priority: body.priority ?? 0, payload: body.payload, refs: body.refs ?? [], idempotencyKey: key } as const;
  // A retry finds the task its first attempt made before it takes a number (a replay burns none).
  if (key !== undefined) {
    const first = await repo.findTaskByKey(db, scope, key);
    if (first) return replayed(first, body, key);
  }
  const insert = async (trx: Kysely<Database>): Promise<Created> => {
    const task = await (body.task_id === undefined ? insertGenerated(trx, scope, fields, numbers) : insertGiven(trx, scope, { taskId: body.task_id, ...fields }));
    if (task) return { task, replayed: false };
    // Nothing written: a concurrent create under the same key got there first.
    const first = await repo.findTaskByKey(trx, scope, key as string);
    if (!first) throw new ServiceError('task_exists', `task ${body.task_id ?? ''} already exists in project ${scope.projectId}`);
    return replayed(first, body, key as string);
  };
  try {
    if (failpoint('tasks.create.ack-without-commit')) return await ackWithoutCommit(db, insert);
    // One statement either way: the number comes from the ID service, not from this database's registry.
    return await insert(db);
  } catch (err) {
    // Title and ids are checked by the contract; what PostgreSQL can still refuse is JSON
    // it cannot store (a \u0000 escape in the payload).
    if (isDataException(err)) {
      throw new ServiceError('validation_failed', `body.payload: ${(err as Error).message}`, {
        details: [{ path: 'body.payload', message: (err as Error).message }],
      });
    }
    throw err;
  }
}

type TaskFields = Omit<repo.NewTask, 'taskId'>;

/** What a create answered: the task, and whether it was made by an earlier request with the same key. */
export interface Created {
  readonly task: Task;
  readonly replayed: boolean;
}

/**
 * The task an earlier create with this key made, if this request asks for the same task; a
 * different request under a used key is refused (422 `idempotency_conflict`), never merged.
 */
function replayed(row: TaskRow, body: CreateTaskRequest, key: string): Created {
  const task = toTask(row);
  const same =
    task.title === body.title &&
    task.status === (body.status ?? 'pending') &&
    task.priority === (body.priority ?? 0) &&
    JSON.stringify(task.payload ?? null) === JSON.stringify(body.payload ?? null) &&
    JSON.stringify(row.refs) === JSON.stringify(body.refs ?? []) &&
    (body.task_id === undefined || body.task_id === task.task_id);
  if (!same) {
    throw new ServiceError('idempotency_conflict', `header.idempotency-key: ${key} was used for another request (it created ${task.task_id}); use a new key for a new task`, {
      details: [{ path: 'header.idempotency-key', message: `used for ${task.task_id}` }],
    });
  }
  return { task, replayed: true };
}

/** Renders a generated task id (`TASK-007`). */
export function generatedTaskId(n: number): string {
  return formatId(taskIdType, n);
}

/** Undefined when a create under the same key conflicted (the caller looks it up). */
async function insertGiven(db: Kysely<Database>, scope: ProjectScope, task: repo.NewTask): Promise<Task | undefined> {
  const row = await repo.insertTask(db, scope, task);
  if (row) return toTask(row);
  if (task.idempotencyKey !== undefined && (await repo.findTaskByKey(db, scope, task.idempotencyKey))) return undefined;
  throw new ServiceError('task_exists', `task ${task.taskId} already exists in project ${scope.projectId}`);
}

async function insertGenerated(trx: Kysely<Database>, scope: ProjectScope, fields: TaskFields, numbers: TaskNumbers): Promise<Task | undefined> {
  for (let attempt = 0; attempt < maxGeneratedIdAttempts; attempt++) {
    // A number met by a hand-made id is skipped for good: the ID service never issues it again.
    const n = await numbers.take().catch((err: unknown) => {
      // The planted local fallback (failpoint `tasks.ids.local-fallback`): a number made up
      // from the clock when the ID service cannot give one, instead of the 503.
      if (err instanceof ServiceError && err.code === 'dependency_unavailable' && failpoint('tasks.ids.local-fallback')) return 100_000 + (Date.now() % 900_000);
      throw err;
    });
    let row;
    try {
      row = await repo.insertTask(trx, scope, { taskId: generatedTaskId(n), ...fields });
    } catch (err) {
      // Refused as data, the row was not written: the number is still unused, so bad input burns none.
      if (isDataException(err)) numbers.giveBack(n);
      throw err;
    }
    if (row) return toTask(row);
    // A concurrent create under the same key won: its number stays unused, like any skipped one.
    if (fields.idempotencyKey !== undefined && (await repo.findTaskByKey(trx, scope, fields.idempotencyKey))) return undefined;
  }
  throw new ServiceError('task_exists', `the next ${maxGeneratedIdAttempts} generated task ids are all taken in project ${scope.projectId}; give a task_id`);
}

class RolledBack extends Error {
  constructor(readonly created: Created) {
    super('rolled back');
  }
}

/**
 * The planted lost write (failpoint `tasks.create.ack-without-commit`): the insert runs in a
 * transaction that is rolled back, and the task it returned is answered as created.
 */
async function ackWithoutCommit(db: Kysely<Database>, insert: (trx: Kysely<Database>) => Promise<Created>): Promise<Created> {
  try {
    await db.transaction().execute(async (trx) => {
      throw new RolledBack(await insert(trx));
    });
  } catch (err) {
    if (err instanceof RolledBack) return err.created;
    throw err;
  }
  throw new Error('unreachable: the transaction always rolls back');
}

/**
 * One page of the key's project, oldest first. A `project` other than the key's gets an
 * empty page: a key can neither read nor probe another project.
 */
export async function listTasks(db: Kysely<Database>, scope: ProjectScope, query: ListTasksQuery): Promise<ListTasksResponse> {
  const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
  if (query.project !== undefined && query.project !== scope.projectId) return { items: [], next_cursor: null };
  const limit = query.limit ?? defaultTasksPageSize;
  const rows = await repo.listTasksPage(db, scope, { status: query.status, limit, after });
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    items: page.map(toTask),
    next_cursor: rows.length > limit && last ? encodeCursor([last.created_key, last.task_id]) : null,
  };
}

/** The most urgent task in `status` (default `pending`); 404 `no_task` when there is none. Reads only. */
export async function nextTask(db: Kysely<Database>, scope: ProjectScope, query: NextTaskQuery): Promise<Task> {
  resolveProject(scope, query.project);
  if (failpoint('tasks.next.per-project-cost')) await perProjectCost(scope);
  const status = query.status ?? 'pending';
  const row = await repo.findNextTask(db, scope, status);
  if (!row) throw new ServiceError('no_task', `no ${status} task in project ${scope.projectId}`);
  return toTask(row);
}

// The projects that called GET /tasks/next under the planted cost, with when they last did.
const recentNextCallers = new Map<string, number>();
const costPerActiveProjectMs = 2;

/**
 * The planted per-project cost (failpoint `tasks.next.per-project-cost`): the call waits
 * {@link costPerActiveProjectMs} for every distinct project that called it in the last
 * second, as a per-request walk over every active project's state would, so latency grows
 * with the number of projects rather than with the request rate.
 */
async function perProjectCost(scope: ProjectScope): Promise<void> {
  const now = performance.now();
  recentNextCallers.set(scope.projectId, now);
  for (const [project, at] of recentNextCallers) if (now - at > 1000) recentNextCallers.delete(project);
  await sleep(costPerActiveProjectMs * recentNextCallers.size);
}

/** Claims the next pending task for `worker`; 404 `no_task` when none is left. */
export async function claimTask(db: Kysely<Database>, scope: ProjectScope, body: ClaimTaskRequest): Promise<Task> {
  const row = await repo.claimNextTask(db, scope, body.worker);
  if (!row) throw new ServiceError('no_task', `no pending task left to claim in project ${scope.projectId}`);
  return toTask(row);
}

/** One task; 404 `task_not_found` when the key's project has no such task. */
export async function getTask(db: Kysely<Database>, scope: ProjectScope, taskId: string): Promise<Task> {
  const row = await repo.findTask(db, scope, taskId);
  if (!row) throw notFound(scope, taskId);
  return toTask(row);
}

/**
 * Changes a task. With `expected_version` the change applies only to that version
 * (409 `version_conflict` otherwise, with the current version in the details).
 */
export async function updateTask(db: Kysely<Database>, scope: ProjectScope, taskId: string, body: UpdateTaskRequest): Promise<Task> {
  const row = await repo.updateTask(db, scope, taskId, body, body.expected_version);
  if (row) return toTask(row);
  const current = await repo.findTask(db, scope, taskId);
  if (!current) throw notFound(scope, taskId);
  throw new ServiceError('version_conflict', `task ${taskId} is at version ${current.version}, not ${body.expected_version}`, {
    details: { expected_version: body.expected_version, current_version: current.version },
  });
}

/** Deletes a task; 404 `task_not_found` when the key's project has no such task. */
export async function deleteTask(db: Kysely<Database>, scope: ProjectScope, taskId: string): Promise<void> {
  if (!(await repo.deleteTask(db, scope, taskId))) throw notFound(scope, taskId);
}

function notFound(scope: ProjectScope, taskId: string): ServiceError {
  return new ServiceError('task_not_found', `task ${taskId} not found in project ${scope.projectId}`);
}
