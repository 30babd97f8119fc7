import {
  claimTaskRequestSchema,
  createTaskRequestSchema,
  listTasksQuerySchema,
  nextTaskQuerySchema,
  taskParamsSchema,
  updateTaskRequestSchema,
} from '@crucible/contracts';
import { failpoint, parseInput, scopeOf, type ServiceContext } from '@crucible/service-kit';
import { Router } from 'express';
import type { TaskIdBlocks } from '../ids/id.blocks.js';
import { dependencyUnavailable } from '../ids/id.client.js';
import * as tasks from './task.service.js';

/**
 * The task routes: create, list (keyset pages), next, claim, read, update, delete. Every
 * route needs an API key and works in the key's project only. A create without `task_id`
 * takes the next number of the project's block of ids from the ID service (`ids`).
 *
 * @example
 * app.use(taskRoutes(ctx, new TaskIdBlocks(client, { blockSize: 32, lowWater: 8 })));
 */
export function taskRoutes(ctx: ServiceContext, ids: TaskIdBlocks): Router {
  const { db, requireApiKey } = ctx;
  const router = Router();

  router.post('/tasks', requireApiKey, async (req, res) => {
    const body = parseInput(createTaskRequestSchema, req.body, 'body');
    const scope = scopeOf(res);
    // The caller's own key goes to the ID service: it scopes the reservation to this project.
    const numbers = { take: () => ids.take(scope.projectId, req.headers.authorization ?? ''), giveBack: (n: number) => ids.giveBack(scope.projectId, n) };
    res.status(201).json(await tasks.createTask(db, scope, body, numbers));
  });

  router.get('/tasks', requireApiKey, async (req, res) => {
    // The planted coupling (failpoint `tasks.list.needs-id-service`): a read refused while the
    // ID service is unreachable, though listing never needs it.
    if (ids.state !== 'closed' && failpoint('tasks.list.needs-id-service')) throw dependencyUnavailable('circuit open', 1000, ids.state);
    const query = parseInput(listTasksQuerySchema, req.query, 'query');
    res.json(await tasks.listTasks(db, scopeOf(res), query));
  });

  // Before /tasks/:task_id, which would otherwise take "next" for an id.
  router.get('/tasks/next', requireApiKey, async (req, res) => {
    const query = parseInput(nextTaskQuerySchema, req.query, 'query');
    const next = () => tasks.nextTask(db, scopeOf(res), query);
    res.json(await (failpoint('tasks.next.serialised') ? serialised(next) : next()));
  });

  router.post('/tasks/claim', requireApiKey, async (req, res) => {
    const body = parseInput(claimTaskRequestSchema, req.body, 'body');
    res.json(await tasks.claimTask(db, scopeOf(res), body));
  });

  router.get('/tasks/:task_id', requireApiKey, async (req, res) => {
    const { task_id } = parseInput(taskParamsSchema, req.params, 'params');
    res.json(await tasks.getTask(db, scopeOf(res), task_id));
  });

  router.patch('/tasks/:task_id', requireApiKey, async (req, res) => {
    const { task_id } = parseInput(taskParamsSchema, req.params, 'params');
    const body = parseInput(updateTaskRequestSchema, req.body, 'body');
    res.json(await tasks.updateTask(db, scopeOf(res), task_id, body));
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
