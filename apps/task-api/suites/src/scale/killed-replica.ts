// One of three replicas SIGKILLed mid-run under a mixed read/write load through nginx:
// nothing acknowledged is lost, no id is answered twice, errors stay bounded, and the time
// until the two left take all the traffic is measured from nginx's own access log.
import { checkTaskWrites, classifyOutcome, type TaskWrite } from '@crucible/checkers';
import type { Verdict } from '@crucible/contracts';
import { taskRowsFromDb } from '@crucible/db';
import { now } from '@crucible/instrument-kit';
import { constantArrivalRate, scenario } from '@crucible/load-engine';
import { retryPause, send, type Http, type HttpCall, type SuiteStep } from '@crucible/suite-kit';
import { startNginx, type RunningApp, type StartNginxOptions } from '@crucible/testbed';
import { reconcileTaskIds, type DependencyOp } from '../resilience.ids.js';
import { taskFor } from '../resilience.support.js';
import type { ScaleContext } from './context.js';
import { failoverTimeline } from './failover-timeline.js';

/** How the step runs; the defaults are the suite's. */
export interface KilledReplicaPlan {
  /** Operations per second through the balancer (default 40). */
  readonly rate?: number;
  /** Run length in seconds (default 10 quick, 30 full). */
  readonly durationS?: number;
  /** When the replica is killed, ms into the run (default 3000). */
  readonly killAtMs?: number;
  /** Environment of the step's three replicas (a planted-defect test arms failpoints here). */
  readonly env?: Record<string, string>;
  /** Retry generated-id creates under their key (default true); a planted-defect test of the balancer turns it off, so only the balancer's failover is left. */
  readonly retryGeneratedCreates?: boolean;
  /** Balancer options: only a planted-defect test sets them (e.g. `nextUpstream: 'off'`). */
  readonly balancer?: Partial<StartNginxOptions>;
}

/** What the error bound and the take-over bound are, declared beside the thresholds that read them. */
export const killedReplicaThresholds = ['failed_operations_pct: value<2', 'takeover_ms: value<5000', 'served_after_kill: value>0', 'lost_acknowledged_writes: value==0', 'duplicate_ids: value==0', 'duplicate_creates: value==0'];

type Op = { kind: 'own'; write: TaskWrite; attempts: number } | { kind: 'generated'; op: DependencyOp } | { kind: 'read'; call: HttpCall };

const retryDeadlineMs = 10_000;

/**
 * A create with the client's own `task_id` (the task API's idempotency key for a create: a
 * retry of one that landed answers 409 `task_exists`), retried on a 502, a 503 or no answer
 * (nginx answers 502 for a POST that reached the killed replica, and never replays it
 * itself) until {@link retryDeadlineMs}.
 */
async function createRetried(http: Http, auth: Record<string, string>, task: ReturnType<typeof taskFor>): Promise<{ write: TaskWrite; attempts: number }> {
  const t0 = now();
  let mayHaveLanded = false;
  for (let n = 0; ; n++) {
    const call = await send(http, { method: 'POST', path: '/tasks', headers: auth, body: task }, (s) => s === 201);
    if (call.status === 201 || (call.status === 409 && call.code === 'task_exists' && mayHaveLanded)) return { write: { ...task, outcome: 'ok' }, attempts: n + 1 };
    if (classifyOutcome({ status: call.status, code: call.code }) === 'indeterminate') mayHaveLanded = true;
    const retryable = call.status === undefined || call.status === 502 || call.status === 503;
    const pause = retryPause(call, n);
    if (!retryable || now() - t0 + pause > retryDeadlineMs) return { write: { ...task, outcome: mayHaveLanded ? 'indeterminate' : 'failed' }, attempts: n + 1 };
    await new Promise((r) => setTimeout(r, pause));
  }
}

/**
 * A create whose id the ID service generates, under an `Idempotency-Key` of its own, retried
 * like {@link createRetried}: a retry after an attempt that landed (its answer lost with the
 * replica) gets that attempt's task (`Idempotent-Replayed`), never a second one.
 */
async function createGeneratedRetried(http: Http, auth: Record<string, string>, title: string, key: string, retry: boolean): Promise<DependencyOp> {
  const t0 = now();
  for (let n = 0; ; n++) {
    const call = await send(http, { method: 'POST', path: '/tasks', headers: { ...auth, 'idempotency-key': key }, body: { title } }, (s) => s === 201);
    const taskId = call.status === 201 ? (call.body as { task_id?: string } | undefined)?.task_id : undefined;
    const retryable = call.status === undefined || call.status === 502 || call.status === 503;
    const pause = retryPause(call, n);
    if (!retry || !retryable || now() - t0 + pause > retryDeadlineMs) return { kind: 'generated', call, title, ...(taskId === undefined ? {} : { taskId }) };
    await new Promise((r) => setTimeout(r, pause));
  }
}

const failed = (op: Op) => (op.kind === 'own' ? op.write.outcome !== 'ok' : op.kind === 'generated' ? !op.op.call.ok : !op.call.ok);

/**
 * Three fresh task-api replicas behind a balancer of their own; at `killAtMs` one is
 * SIGKILLed. The load, at a constant rate: 2 in 4 creates with the client's own id
 * (retried, {@link createRetried}), 1 in 4 creates whose id the ID service generates (under
 * an `Idempotency-Key`, retried, {@link createGeneratedRetried}), 1 in 4 `GET /tasks`.
 * Verdicts: `task-writes` (every acknowledged own-id create stored as sent), and
 * `task-id-reconciliation` (no generated id answered twice, each issued by the ID service);
 * `duplicate_creates` counts keyed creates stored more than once (a retry that made a second task);
 * thresholds {@link killedReplicaThresholds}; the row's evidence is the per-second timeline
 * of which upstream answered (nginx's access log).
 */
export function killedReplica(plan: KilledReplicaPlan = {}): SuiteStep<ScaleContext> {
  const rate = plan.rate ?? 40;
  const killAtMs = plan.killAtMs ?? 3000;
  return {
    name: `replica SIGKILLed at ${killAtMs / 1000} s under mixed load at ${rate}/s`,
    // A second run would judge the same project's rows twice over.
    rerunWhenStarved: false,
    async run(ctx, kit) {
      const durationS = plan.durationS ?? (kit.args.profile === 'full' ? 30 : 10);
      const replicas = await Promise.all([0, 1, 2].map(() => kit.sut.startReplica('task-api', plan.env)));
      const lb = await startNginx({ upstreams: replicas.map((r) => r.url), ...plan.balancer });
      const project = `kill-${Date.now().toString(36)}`;
      const auth = { authorization: `Bearer ${(await kit.sut.createProject(project)).api_key}` };
      const victim = replicas[1] as RunningApp;
      let killedAt: number | undefined;
      try {
        const timer = setTimeout(() => {
          killedAt = now();
          void victim.kill();
        }, killAtMs);
        const result = await kit.runOne(
          scenario<Op>({
            name: `killed replica: 1 of 3 SIGKILLed at ${killAtMs / 1000} s, ${rate}/s for ${durationS} s (2/4 own-id creates retried, 1/4 generated-id creates, 1/4 GET /tasks)`,
            executor: constantArrivalRate({ rate, duration: `${durationS}s`, preAllocatedVUs: 20, maxVUs: 200 }),
            baseUrl: lb.url,
            keepResponses: true,
            tags: { replicas: '3', killed: 'replica 2' },
            request: async (it): Promise<Op> => {
              const slot = it.iteration % 4;
              if (slot === 3) return { kind: 'read', call: await send(it.http, { path: '/tasks?limit=20', headers: auth }) };
              if (slot === 2) {
                const title = `generated ${it.iteration} of ${project}`;
                return { kind: 'generated', op: await createGeneratedRetried(it.http, auth, title, `${project}-gen-${it.iteration}`, plan.retryGeneratedCreates ?? true) };
              }
              return { kind: 'own', ...(await createRetried(it.http, auth, taskFor(`${project}-own`, it.iteration, 100))) };
            },
            isSuccess: (op) => !failed(op),
          }),
        );
        clearTimeout(timer);
        const ops = result.outcomes.flatMap((o) => (o.value === undefined ? [] : [o.value as Op]));
        result.outcomes.length = 0;
        const rows = await taskRowsFromDb(kit.db, project);
        const own = ops.flatMap((o) => (o.kind === 'own' ? [o.write] : []));
        const writes = checkTaskWrites(own, rows.filter((r) => r.task_id.startsWith(`${project}-own-`)));
        const ids = await reconcileTaskIds(kit.db, project, ops.flatMap((o) => (o.kind === 'generated' ? [o.op] : [])));
        // Each keyed create's title is its own: a title stored twice is a retry that made a second task.
        const stored = new Map<string, number>();
        for (const r of rows) if (r.title.startsWith('generated ')) stored.set(r.title, (stored.get(r.title) ?? 0) + 1);
        const duplicateCreates = [...stored.values()].filter((n) => n > 1).length;
        // The access log is flushed once a second.
        await new Promise((r) => setTimeout(r, 1200));
        const timeline = failoverTimeline(await lb.accessLog(), lb.upstreams, victim.url, killedAt);
        const failedOps = ops.filter(failed).length;
        Object.assign(result.metrics, {
          operations: ops.length,
          failed_operations: failedOps,
          failed_operations_pct: ops.length ? Math.round((failedOps / ops.length) * 10_000) / 100 : 100,
          retried_creates: ops.filter((o) => o.kind === 'own' && o.attempts > 1).length,
          lost_acknowledged_writes: writes.counts['lost_acknowledged'] ?? 0,
          duplicate_ids: ids.counts['duplicated'] ?? 0,
          duplicate_creates: duplicateCreates,
          ...timeline.metrics,
        });
        const verdicts: Verdict[] = [writes, ids];
        return { ...result, thresholds: [...result.thresholds, ...killedReplicaThresholds], verdicts: [...result.verdicts, ...verdicts], evidence: [...result.evidence, timeline.evidence] };
      } finally {
        await lb.stop();
        await Promise.all(replicas.map((r) => r.stop(1000)));
      }
    },
  };
}
