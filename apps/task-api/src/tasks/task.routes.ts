import {
  claimTaskRequestSchema,
  createTaskRequestSchema,
  listTasksQuerySchema,
  nextTaskQuerySchema,
  taskParamsSchema,
  updateTaskRequestSchema,
} from '@crucible/contracts';
import type { Task } from '@crucible/contracts';
import { failpoint, idempotencyKeyOf, parseInput, scopeOf, ServiceError, type ServiceContext } from '@crucible/service-kit';
import { Router, type Request, type Response } from 'express';
import type { TaskIdBlocks } from '../ids/id.blocks.js';
import { dependencyUnavailable } from '../ids/id.client.js';
import type { TaskRefs } from '../ids/id.refs.js';
import * as tasks from './task.service.js';

/**
 * The task routes: create, list (keyset pages), next, claim, read, update, delete. Every
 * route needs an API key and works in the key's project only. A create without `task_id`
 * takes the next number of the project's block of ids from the ID service (`ids`). `refs`
 * are checked with the ID service on create and update, and marked stale on every answer
 * that carries a task (`refs`).
 *
 * @example
 * app.use(taskRoutes(ctx, new TaskIdBlocks(client, { blockSize: 32, lowWater: 8 }), new TaskRefs(client, { liveTtlMs: 2000, maxEntries: 10_000 })));
 */
export function taskRoutes(ctx: ServiceContext, ids: TaskIdBlocks, refs: TaskRefs): Router {
  const { db, requireApiKey } = ctx;
  const router = Router();
  // The caller's own key goes to the ID service: it scopes every call to this project.
  const authOf = (req: Request) => req.headers.authorization ?? '';
  // A task without refs has nothing to mark: answered as it is, without a promise.
  const marked = (req: Request, res: Response, task: Task): Task | Promise<Task> =>
    task.refs.length === 0 ? task : refs.mark(scopeOf(res).projectId, authOf(req), [task]).then((marked) => marked[0] as Task);

  router.post('/tasks', requireApiKey, async (req, res) => {
    const body = parseInput(createTaskRequestSchema, req.body, 'body');
    const scope = scopeOf(res);
    // Checked before an id is taken, so a refused ref burns no task number (none to check: no promise).
    if (body.refs !== undefined && body.refs.length > 0) await refs.validate(scope.projectId, authOf(req), body.refs);
    const numbers = { take: () => ids.take(scope.projectId, authOf(req)), giveBack: (n: number) => ids.giveBack(scope.projectId, n) };
    const created = await tasks.createTask(db, scope, body, numbers, idempotencyKeyOf(req));
    // The planted unacknowledged commit (failpoint `tasks.create.commit-then-503`): the task is
    // stored, yet the answer is a 503, as when a commit lands and its acknowledgement is lost.
    if (failpoint('tasks.create.commit-then-503')) throw new ServiceError('database_unavailable', 'the database is unavailable; retry shortly');
    // A retry under the same Idempotency-Key gets the task its first attempt made, said so.
    if (created.replayed) res.setHeader('Idempotent-Replayed', 'true');
    res.status(201).json(await marked(req, res, created.task));
  });

  router.get('/tasks', requireApiKey, async (req, res) => {
    // The planted coupling (failpoint `tasks.list.needs-id-service`): a read refused while the
    // ID service is unreachable, though listing never needs it.
    if (ids.state !== 'closed' && failpoint('tasks.list.needs-id-service')) throw dependencyUnavailable('circuit open', 1000, ids.state);
    const query = parseInput(listTasksQuerySchema, req.query, 'query');
    const page = await tasks.listTasks(db, scopeOf(res), query);
    res.json({ ...page, items: await refs.mark(scopeOf(res).projectId, authOf(req), page.items) });
  });

  // Before /tasks/:task_id, which would otherwise take "next" for an id.
  router.get('/tasks/next', requireApiKey, async (req, res) => {
    const query = parseInput(nextTaskQuerySchema, req.query, 'query');
    const next = () => tasks.nextTask(db, scopeOf(res), query);
    res.json(await marked(req, res, await (failpoint('tasks.next.serialised') ? serialised(next) : next())));
  });

  router.post('/tasks/claim', requireApiKey, async (req, res) => {
    const body = parseInput(claimTaskRequestSchema, req.body, 'body');
    res.json(await marked(req, res, await tasks.claimTask(db, scopeOf(res), body)));
  });

  router.get('/tasks/:task_id', requireApiKey, async (req, res) => {
    const { task_id } = parseInput(taskParamsSchema, req.params, 'params');
    res.json(await marked(req, res, await tasks.getTask(db, scopeOf(res), task_id)));
  });

  router.patch('/tasks/:task_id', requireApiKey, async (req, res) => {
    const { task_id } = parseInput(taskParamsSchema, req.params, 'params');
    const body = parseInput(updateTaskRequestSchema, req.body, 'body');
    if (body.refs) await refs.validate(scopeOf(res).projectId, authOf(req), body.refs);
    res.json(await marked(req, res, await tasks.updateTask(db, scopeOf(res), task_id, body)));
  });

  router.delete('/tasks/:task_id', requireApiKey, async (req, res) => {
    const { task_id } = parseInput(taskParamsSchema, req.params, 'params');
    await tasks.deleteTask(db, scopeOf(res), task_id);
    res.status(204).end();
  });

  return router;
}

// The planted lock (failpoint `tasks.next.serialised`): one process-wide mutex held across a
// slow section, as a lock held around a refresh would be; the callers queue on `lockTail`.
let lockTail: Promise<void> = Promise.resolve();
const lockedSectionMs = 15;

/** Runs `work` after every earlier holder released the lock, holding it for {@link lockedSectionMs} more. */
async function serialised<T>(work: () => Promise<T>): Promise<T> {
  const previous = lockTail;
  let release!: () => void;
  lockTail = new Promise((r) => (release = r));
  await previous;
  try {
    await new Promise((r) => setTimeout(r, lockedSectionMs));
    return await work();
  } finally {
    release();
  }
}
