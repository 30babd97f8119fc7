import type { TaskCursor, TaskStatus } from '@crucible/contracts';
import type { Database, TaskRow } from '@crucible/db';
import { failpoint, type ProjectScope } from '@crucible/service-kit';
import { sql, type Kysely, type SelectQueryBuilder } from 'kysely';
import { prepared } from './task.prepared.js';

// Every function here takes a ProjectScope (from the authenticated key) and filters on
// it: a query without a project cannot be written through this module. A Transaction is
// a Kysely, so each function runs inside or outside a transaction alike.

/** A task row with its keyset position (`created_at` at microsecond precision, ISO 8601 UTC). */
export type KeyedTaskRow = TaskRow & { created_key: string };

/** What a new task is made of once validated. */
export interface NewTask {
  taskId: string;
  title: string;
  status: TaskStatus;
  priority: number;
  payload: unknown;
  /** Entity references, already checked against the ID service. */
  refs: readonly string[];
  /** The create's `Idempotency-Key`, stored with the task (unique per project). */
  idempotencyKey?: string | undefined;
}

/** Fields a PATCH may change. */
export interface TaskChanges {
  status?: TaskStatus | undefined;
  title?: string | undefined;
  priority?: number | undefined;
  refs?: readonly string[] | undefined;
}

// PostgreSQL keeps microseconds; a JS Date keeps milliseconds. The cursor carries the
// exact value as text so a page boundary never falls between two rows of the same ms.
const createdKey = sql<string>`to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/** Inserts a task; `undefined` when the project already has a task with that id. */
export async function insertTask(db: Kysely<Database>, scope: ProjectScope, task: NewTask): Promise<TaskRow | undefined> {
  const target = failpoint('tasks.create.wrong-project') ? await anotherProject(db, scope) : scope;
  const keyed = task.idempotencyKey !== undefined;
  const values = [target.projectId, task.taskId, task.title, task.status, task.priority, payloadOf(task.payload), [...task.refs], keyed ? task.idempotencyKey : undefined] as const;
  return (await db.executeQuery(preparedInsert.compile(db, keyed ? 'keyed' : 'plain', values))).rows[0];
}

// insertTaskQuery compiled once per shape (with or without an Idempotency-Key); the markers stand for its values.
const refsMarker: string[] = [];
const preparedInsert = prepared(
  (db: Kysely<Database>, shape, [projectId, taskId, title, status, priority, payload, refs, key]) =>
    insertTaskQuery(db, { projectId }, { taskId, title, status, priority, payload: undefined, refs, ...(shape === 'keyed' ? { idempotencyKey: key } : {}) }, payload),
  ['\u0000project', '\u0000task', '\u0000title', '\u0000status' as TaskStatus, -0.5, '\u0000payload', refsMarker, '\u0000key'] as const,
  [7],
);

const payloadOf = (payload: unknown): string | null => (payload === undefined ? null : JSON.stringify(payload));

/**
 * The planted cross-project write (failpoint `tasks.create.wrong-project`): the newest other
 * project, whose id the task is then stored under; the caller's own scope when there is none.
 */
async function anotherProject(db: Kysely<Database>, scope: ProjectScope): Promise<ProjectScope> {
  const row = await db
    .selectFrom('projects')
    .select('id')
    .where('id', '<>', scope.projectId)
    .orderBy('created_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row ? { projectId: row.id } : scope;
}

/** The statement {@link insertTask} runs, for EXPLAIN. `payloadText` (the JSON) overrides `task.payload` (a prepared statement's marker). */
export function insertTaskQuery(db: Kysely<Database>, scope: ProjectScope, task: NewTask, payloadText: string | null = payloadOf(task.payload)) {
  return db
    .insertInto('tasks')
    .values({
      project_id: scope.projectId,
      task_id: task.taskId,
      title: task.title,
      status: task.status,
      priority: task.priority,
      payload: payloadText,
      // Not copied: pg only reads it, and the prepared insert finds its marker array by identity.
      refs: task.refs as string[],
      ...(task.idempotencyKey === undefined ? {} : { idempotency_key: task.idempotencyKey }),
    })
    // With a key, a second create under it conflicts on tasks_idempotency_idx: nothing is
    // written either way, and the caller tells the two apart by looking the key up.
    .onConflict((oc) => (task.idempotencyKey === undefined ? oc.columns(['project_id', 'task_id']).doNothing() : oc.doNothing()))
    .returningAll();
}

/** The task a create with this `Idempotency-Key` made in the project, or `undefined`. */
export async function findTaskByKey(db: Kysely<Database>, scope: ProjectScope, key: string): Promise<TaskRow | undefined> {
  return db.selectFrom('tasks').selectAll().where('project_id', '=', scope.projectId).where('idempotency_key', '=', key).executeTakeFirst();
}

/** One task of the project, or `undefined`. */
export async function findTask(db: Kysely<Database>, scope: ProjectScope, taskId: string): Promise<TaskRow | undefined> {
  return db.selectFrom('tasks').selectAll().where('project_id', '=', scope.projectId).where('task_id', '=', taskId).executeTakeFirst();
}

/**
 * One keyset page of the project's tasks, oldest first (`tasks_list_idx`), starting after
 * `after`. Reads `limit + 1` rows so the caller knows whether another page exists.
 */
export async function listTasksPage(db: Kysely<Database>, scope: ProjectScope, options: ListTasksOptions): Promise<KeyedTaskRow[]> {
  // The planted leak (failpoint `tasks.list.unscoped`): the page is read without the project filter.
  if (failpoint('tasks.list.unscoped')) return pageQuery(db, undefined, options).execute();
  return listTasksQuery(db, scope, options).execute();
}

/** Filters and position of one `GET /tasks` page. */
export interface ListTasksOptions {
  status?: TaskStatus | undefined;
  limit: number;
  after?: TaskCursor | undefined;
}

/** The query {@link listTasksPage} runs, for EXPLAIN. */
export function listTasksQuery(db: Kysely<Database>, scope: ProjectScope, options: ListTasksOptions) {
  return pageQuery(db, scope.projectId, options);
}

// One builder for the scoped page and the planted unscoped one, so they differ in the filter only.
function pageQuery(db: Kysely<Database>, projectId: string | undefined, options: ListTasksOptions) {
  const { status, limit, after } = options;
  return db
    .selectFrom('tasks')
    .selectAll()
    .select(createdKey.as('created_key'))
    .$if(projectId !== undefined, (qb) => qb.where('project_id', '=', projectId as string))
    .$if(status !== undefined, (qb) => qb.where('status', '=', status as TaskStatus))
    .$if(after !== undefined, (qb) => qb.where(sql<boolean>`(created_at, task_id) > (${after?.[0]}::timestamptz, ${after?.[1]})`))
    .orderBy('created_at')
    .orderBy('task_id')
    .limit(limit + 1);
}

/** The project's most urgent task in `status` (see {@link nextTaskQuery}, compiled once per status). */
export async function findNextTask(db: Kysely<Database>, scope: ProjectScope, status: TaskStatus): Promise<TaskRow | undefined> {
  return (await db.executeQuery(preparedNext.compile(db, status, [scope.projectId]))).rows[0];
}

const preparedNext = prepared((db: Kysely<Database>, status, [projectId]) => nextTaskQuery(db, { projectId }, status as TaskStatus), ['\u0000project'] as const);

/**
 * The query behind `GET /tasks/next`: the project's most urgent task in `status` (highest
 * priority, then oldest), which `tasks_queue_idx` answers with one index probe. Exported so
 * tests can EXPLAIN exactly what the route runs.
 */
export function nextTaskQuery(db: Kysely<Database>, scope: ProjectScope, status: TaskStatus): SelectQueryBuilder<Database, 'tasks', TaskRow> {
  return queueHead(db, scope, status).selectAll();
}

/** The first task of the project's queue in `status` (highest priority, then oldest): the one order `next` and both claims read. */
function queueHead(db: Kysely<Database>, scope: ProjectScope, status: TaskStatus) {
  return db.selectFrom('tasks').where('project_id', '=', scope.projectId).where('status', '=', status).orderBy('priority', 'desc').orderBy('created_at').limit(1);
}

/**
 * Claims the project's next pending task for `worker` in one statement: the sub-select
 * locks the first pending row in queue order and skips rows other claimers hold
 * (`FOR UPDATE SKIP LOCKED`), so concurrent claimers never wait on each other and never
 * get the same task. `undefined` when nothing is left to claim.
 */
export async function claimNextTask(db: Kysely<Database>, scope: ProjectScope, worker: string): Promise<TaskRow | undefined> {
  if (failpoint('tasks.claim.without-lock')) return claimWithoutLock(db, scope, worker);
  return claimNextTaskQuery(db, scope, worker).executeTakeFirst();
}

/**
 * The planted claim race (failpoint `tasks.claim.without-lock`): selects the next pending
 * task without `FOR UPDATE SKIP LOCKED`, then updates it by id without checking it is still
 * pending, so two claimers that read the same row both get it.
 */
async function claimWithoutLock(db: Kysely<Database>, scope: ProjectScope, worker: string): Promise<TaskRow | undefined> {
  const next = await queueHead(db, scope, 'pending').select('task_id').executeTakeFirst();
  if (!next) return undefined;
  return db
    .updateTable('tasks')
    .set({ status: 'in_progress', claimed_by: worker, version: (eb) => eb('version', '+', 1), updated_at: sql`clock_timestamp()` })
    .where('project_id', '=', scope.projectId)
    .where('task_id', '=', next.task_id)
    .returningAll()
    .executeTakeFirst();
}

/** The statement {@link claimNextTask} runs, for EXPLAIN. */
export function claimNextTaskQuery(db: Kysely<Database>, scope: ProjectScope, worker: string) {
  return db
    .updateTable('tasks')
    .set({
      status: 'in_progress',
      claimed_by: worker,
      version: (eb) => eb('version', '+', 1),
      updated_at: sql`clock_timestamp()`,
    })
    .where('project_id', '=', scope.projectId)
    .where('task_id', '=', queueHead(db, scope, 'pending').select('task_id').forUpdate().skipLocked())
    .returningAll();
}

/**
 * Applies `changes` and bumps the version, only if the version is still `expectedVersion`
 * (when given). `undefined` when the task is missing or its version moved on.
 */
export async function updateTask(
  db: Kysely<Database>,
  scope: ProjectScope,
  taskId: string,
  changes: TaskChanges,
  expectedVersion?: number,
): Promise<TaskRow | undefined> {
  return db
    .updateTable('tasks')
    .set({
      ...(changes.title !== undefined ? { title: changes.title } : {}),
      ...(changes.priority !== undefined ? { priority: changes.priority } : {}),
      ...(changes.status !== undefined ? { status: changes.status } : {}),
      ...(changes.refs !== undefined ? { refs: [...changes.refs] } : {}),
      // A task put back in the queue belongs to no worker.
      ...(changes.status === 'pending' ? { claimed_by: null } : {}),
      version: (eb) => eb('version', '+', 1),
      updated_at: sql`clock_timestamp()`,
    })
    .where('project_id', '=', scope.projectId)
    .where('task_id', '=', taskId)
    .$if(expectedVersion !== undefined, (qb) => qb.where('version', '=', expectedVersion as number))
    .returningAll()
    .executeTakeFirst();
}

/** Deletes a task; `false` when the project has no such task. */
export async function deleteTask(db: Kysely<Database>, scope: ProjectScope, taskId: string): Promise<boolean> {
  const row = await db
    .deleteFrom('tasks')
    .where('project_id', '=', scope.projectId)
    .where('task_id', '=', taskId)
    .returning('task_id')
    .executeTakeFirst();
  return row !== undefined;
}
