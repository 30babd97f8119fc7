// The task-api side of the dependency-outage step: its mixed load (creates that need a
// generated id, creates with the client's own id, reads, claims) and the reconciliation of
// the generated task ids with the ID service's registry.
import { parseId, type Verdict } from '@crucible/contracts';
import { expectVerdict } from '@crucible/checkers';
import { taskRowsFromDb, type Database } from '@crucible/db';
import { send, type HttpCall, type OperationInput } from '@crucible/suite-kit';
import type { Kysely } from 'kysely';

/** One operation of the dependency-outage load. */
export interface DependencyOp {
  readonly kind: 'generated' | 'given' | 'read' | 'claim';
  readonly call: HttpCall;
  /** The title sent (unique per operation), for creates. */
  readonly title?: string;
  /** The id the task API answered (generated) or the client chose (given). */
  readonly taskId?: string;
}

/**
 * One iteration: 4 in 8 create without `task_id` (they need the ID service), 2 in 8 with
 * the client's own id, 1 a read of the newest tasks, 1 a claim. One attempt each: the step
 * judges the answers, not retries.
 */
export async function dependencyOperation(o: OperationInput): Promise<DependencyOp> {
  const auth = { authorization: `Bearer ${o.apiKey}` };
  const slot = o.iteration % 8;
  const push = (kind: DependencyOp['kind'], call: HttpCall, extra: Partial<DependencyOp> = {}): DependencyOp => {
    o.calls.push(call);
    return { kind, call, ...extra };
  };
  if (slot === 3) return push('read', await send(o.http, { path: '/tasks?limit=20', headers: auth }));
  if (slot === 7) {
    // Nothing pending left to claim is a correct answer too.
    const call = await send(o.http, { method: 'POST', path: '/tasks/claim', headers: auth, body: { worker: `w${o.vu}` } }, (s) => s === 200 || s === 404);
    return push('claim', call.status === 404 && call.code !== 'no_task' ? { ...call, ok: false } : call);
  }
  const title = `dependency op ${o.iteration} of ${o.projectId}`;
  if (slot === 1 || slot === 5) {
    const taskId = `${o.projectId}-own-${o.iteration}`;
    return push('given', await send(o.http, { method: 'POST', path: '/tasks', headers: auth, body: { task_id: taskId, title } }, (s) => s === 201), { title, taskId });
  }
  const call = await send(o.http, { method: 'POST', path: '/tasks', headers: auth, body: { title } }, (s) => s === 201);
  const answered = call.status === 201 ? (call.body as { task_id?: string } | undefined)?.task_id : undefined;
  return push('generated', call, { title, ...(answered === undefined ? {} : { taskId: answered }) });
}

/** The ID service's last issued `TASK` number of a project (0 when it issued none). */
async function lastIssued(db: Kysely<Database>, projectId: string): Promise<number> {
  const row = await db
    .selectFrom('id_registry')
    .select('last_assigned_id')
    .where('project_id', '=', projectId)
    .where('sequence_type', '=', 'TASK')
    .executeTakeFirst();
  return Number(row?.last_assigned_id ?? 0);
}

/**
 * Reconciles the step's tasks with the ID service's registry: every generated id answered
 * once only (never reused or duplicated across the outage), each stored under the title it
 * was created with, each issued by the ID service (its number at most the registry's last
 * `TASK` number: an id the task API made up itself fails), no refused create stored, and
 * every create with the client's own id that was acknowledged stored.
 */
export async function reconcileTaskIds(db: Kysely<Database>, projectId: string, ops: readonly DependencyOp[]): Promise<Verdict> {
  const rows = await taskRowsFromDb(db, projectId);
  const issued = await lastIssued(db, projectId);
  const byId = new Map(rows.map((r) => [r.task_id, r]));
  const byTitle = new Map(rows.map((r) => [r.title, r]));
  const generated = ops.filter((o) => o.kind === 'generated');
  const acked = generated.filter((o) => o.taskId !== undefined);
  const answers = new Map<string, number>();
  for (const o of acked) answers.set(o.taskId as string, (answers.get(o.taskId as string) ?? 0) + 1);
  const duplicated = [...answers].filter(([, n]) => n > 1).map(([id]) => id);
  const misplaced = acked.filter((o) => byId.get(o.taskId as string)?.title !== o.title);
  const generatedRows = rows.filter((r) => parseId(r.task_id)?.type === 'TASK');
  const notIssued = generatedRows.filter((r) => (parseId(r.task_id)?.number ?? 0) > issued);
  const refusedStored = generated.filter((o) => o.call.status === 503 && byTitle.has(o.title as string));
  const givenLost = ops.filter((o) => o.kind === 'given' && o.call.ok && !byId.has(o.taskId as string));
  const counts = {
    generated_acknowledged: acked.length,
    generated_refused: generated.filter((o) => o.call.status === 503).length,
    generated_stored: generatedRows.length,
    last_issued: issued,
    duplicated: duplicated.length,
    misplaced: misplaced.length,
    not_issued: notIssued.length,
    refused_but_stored: refusedStored.length,
    given_lost: givenLost.length,
  };
  const bad = duplicated.length + misplaced.length + notIssued.length + refusedStored.length + givenLost.length;
  return expectVerdict(
    'task-id-reconciliation',
    bad === 0 && acked.length > 0,
    bad === 0
      ? `${acked.length} generated task ids answered once each, stored as created, all issued by the ID service (last TASK number ${issued}); ${counts.generated_refused} refused and none stored`
      : `${duplicated.length} generated ids answered twice, ${misplaced.length} not stored as created, ${notIssued.length} never issued by the ID service (above ${issued}), ${refusedStored.length} refused but stored, ${givenLost.length} acknowledged own-id creates lost`,
    counts,
    [
      ...duplicated.slice(0, 5).map((task_id) => ({ kind: 'duplicated', task_id })),
      ...notIssued.slice(0, 5).map((r) => ({ kind: 'not_issued', task_id: r.task_id, last_issued: issued })),
      ...misplaced.slice(0, 5).map((o) => ({ kind: 'misplaced', task_id: o.taskId })),
    ],
  );
}
