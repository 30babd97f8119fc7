// The task-api resilience workload (see resilience.ts): what one iteration of every fault
// step's load does, and the verdicts of each step's project.
import { bandwidth, limitData, slicer } from '@crucible/chaos';
import { taskRowsFromDb } from '@crucible/db';
import { checkTaskWrites, type TaskWrite } from '@crucible/checkers';
import { send, type HttpCall, type OperationInput, type ResilienceWorkload } from '@crucible/suite-kit';

import { dependencyOperation, reconcileTaskIds, type DependencyOp } from './resilience.ids.js';
import { createTask, taskFor } from './resilience.support.js';

/**
 * One iteration: a task creation, or (every 4th, except in the isolation load) a read of the
 * newest tasks; in the dependency-outage step, one of its mixed operations.
 */
export type TaskOp = TaskWrite | { readonly read: HttpCall } | { readonly dependency: DependencyOp };

const isWrite = (op: TaskOp): op is TaskWrite => !('read' in op) && !('dependency' in op);
const writesOf = (ops: readonly TaskOp[]) => ops.filter(isWrite);
const dependencyOps = (ops: readonly TaskOp[]) => ops.flatMap((op) => ('dependency' in op ? [op.dependency] : []));

/** Task numbers per project, so every write of a step has its own `task_id`. */
const next = new Map<string, number>();

async function writeOrRead(o: OperationInput): Promise<TaskOp> {
  if (o.step === 'dependency') return { dependency: await dependencyOperation(o) };
  const auth = { authorization: `Bearer ${o.apiKey}` };
  if (o.step !== 'isolation' && o.iteration % 4 === 3) {
    const read = await send(o.http, { path: '/tasks?limit=20', headers: auth });
    o.calls.push(read);
    return { read };
  }
  const n = next.get(o.projectId) ?? 0;
  next.set(o.projectId, n + 1);
  // The degraded link carries ~2 KB INSERTs, so limit_data cuts one in the middle every few writes.
  const task = taskFor(o.projectId, n, o.step === 'degraded' ? 2000 : 200);
  return createTask(o.http, { apiKey: o.apiKey, task, deadlineMs: o.deadlineMs, attempts: o.calls });
}

const mixed = 'POST /tasks (3 in 4) and GET /tasks';

/**
 * The task-api's resilience workload: task writes with client-chosen ids (3 in 4) and reads,
 * judged by `checkTaskWrites` on every step. The suite is `resilience.ts`; the planted-defect
 * tests run its steps on this workload.
 */
export const taskApiWorkload: ResilienceWorkload<TaskOp> = {
  app: 'task-api',
  peer: 'id-service',
  // Generated task ids come from the ID service: its outage is this app's failure-isolation step.
  dependency: {
    app: 'id-service',
    refusal: 'dependency_unavailable',
    rate: 30,
    load: 'POST /tasks without task_id (4 in 8), with one (2 in 8), GET /tasks, POST /tasks/claim',
    split: (op) => ('dependency' in op ? { call: op.dependency.call, needsDependency: op.dependency.kind === 'generated' } : undefined),
    verdicts: async (ctx, projectId, ops) => [await reconcileTaskIds(ctx.db, projectId, dependencyOps(ops))],
  },
  project: '@crucible/task-api-suites',
  warmPath: '/tasks?limit=1',
  load: mixed,
  operations: 'writes',
  operation: writeOrRead,
  isOk: (op) => (isWrite(op) ? op.outcome === 'ok' : 'read' in op ? op.read.ok : op.dependency.call.ok),
  // Every acknowledged write stored exactly as sent, nothing half-written or phantom.
  // (The dependency-outage step's project is reconciled by its own verdict, generated ids included.)
  verdicts: async (ctx, projectId, ops) => (dependencyOps(ops).length > 0 ? [] : [checkTaskWrites(writesOf(ops), await taskRowsFromDb(ctx.db, projectId))]),
  steps: {
    latency: { rate: 15 },
    resetTimeout: {
      vus: 6,
      load: 'POST /tasks retried with the same task_id',
      after: {
        metrics: ({ ops }) => ({ logical_writes: writesOf(ops).length, writes_indeterminate: writesOf(ops).filter((w) => w.outcome === 'indeterminate').length }),
      },
    },
    // 300 ms per round trip: each request holds a connection ≥ 300 ms; 60/s needs ~18 of 10.
    pool: { rate: 60 },
    // On the way to the database, the direction a write travels.
    degraded: {
      faults: [bandwidth(32, { stream: 'upstream' }), slicer(64, 32, 200, { stream: 'upstream' }), limitData(5000, { stream: 'upstream' })],
      load: 'POST /tasks with 2 KB payloads (3 in 4) and GET /tasks',
    },
    isolation: { load: 'POST /tasks' },
  },
};
