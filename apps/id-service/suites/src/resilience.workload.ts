// The id-service resilience workload (see resilience.ts): what one iteration of every fault
// step's load does, and the verdicts of each step's project.
import { bandwidth, limitData, slicer } from '@crucible/chaos';
import { idEvidenceFromDb } from '@crucible/db';
import { checkIds, reconcileIds, type IdOperation } from '@crucible/checkers';
import type { Verdict } from '@crucible/contracts';
import { expectVerdict } from '@crucible/checkers';
import { type HttpCall, type OperationInput, type ResilienceWorkload } from '@crucible/suite-kit';

import { reserveWithRetries } from './resilience.support.js';

/** The four sequence types a load spreads over when one sequence's row lock would be the limit. */
const fourTypes = ['US', 'BG', 'TK', 'EP'] as const;
/**
 * The pool load's 64 sequence types (P00…P63): the service coalesces concurrent reservations
 * of one sequence into one statement (one connection), so only reservations of *different*
 * sequences compete for the pool. At 40/s over 64 types nearly every call is its own sequence.
 */
const poolTypes = Array.from({ length: 64 }, (_, i) => `P${String(i).padStart(2, '0')}`);

/**
 * One keyed reservation. With 100 ms per database round trip a sequence's row stays locked
 * until COMMIT, a round trip later, so one sequence takes ~7 reservations/s: the latency
 * load spreads over four types, the pool load over 64. The degraded link asks for 1..5 IDs, the
 * isolation load for one.
 */
function reserve(o: OperationInput): Promise<IdOperation> {
  const type = (o.step === 'pool' ? poolTypes[o.iteration % poolTypes.length] : o.step === 'latency' ? fourTypes[o.iteration % fourTypes.length] : undefined) ?? 'US';
  const count = o.step === 'isolation' ? 1 : o.step === 'degraded' ? 1 + (o.iteration % 5) : 1 + (o.iteration % 3);
  return reserveWithRetries(o.http, { apiKey: o.apiKey, projectId: o.projectId, type, count, idempotent: true, attempts: o.calls, process: o.vu, deadlineMs: o.deadlineMs });
}

/** A 2xx answer that does not carry exactly the range asked for, rendered right. */
function wrongAnswer(c: HttpCall): boolean {
  if (!c.ok) return false;
  const b = c.body as { ids?: string[]; first?: number; last?: number };
  return !b.ids || b.first === undefined || b.last === undefined || b.ids.length !== b.last - b.first + 1 || b.ids[0] !== `US-${String(b.first).padStart(3, '0')}`;
}

function answersCorrect(calls: readonly HttpCall[]): Verdict {
  const wrong = calls.filter(wrongAnswer);
  return expectVerdict('answers-correct', wrong.length === 0, `${wrong.length} 2xx answers with a malformed range`, { wrong_answers: wrong.length }, wrong.slice(0, 5));
}

// Every step's row also carries id-reconciliation (the workload's `verdicts`), which resolves
// the indeterminate calls against id_reservations: checkIds leaves them to it.
const reconciled = { reconciledBy: 'id-reconciliation' } as const;
const uniqueAndContiguous = { verdicts: (load: { ops: readonly IdOperation[] }) => [checkIds(load.ops, reconciled)] };
const keyed = 'keyed POST /ids/reserve';

/**
 * The id-service's resilience workload: keyed reservations, reconciled against id_registry
 * and id_reservations on every step. The suite is `resilience.ts`; the planted-defect tests
 * run its steps on this workload.
 */
export const idServiceWorkload: ResilienceWorkload<IdOperation> = {
  app: 'id-service',
  peer: 'task-api',
  project: '@crucible/id-service-suites',
  warmPath: '/ids/registry',
  load: keyed,
  operations: 'reservations',
  operation: reserve,
  isOk: (op) => op.outcome === 'ok',
  // Every step's history reconciled against id_registry and id_reservations.
  verdicts: async (ctx, projectId, ops) => {
    const { registry, reservations } = await idEvidenceFromDb(ctx.db, [projectId]);
    return [reconcileIds(ops, registry, reservations).verdict];
  },
  steps: {
    latency: { rate: 12, load: `${keyed} over 4 types`, after: uniqueAndContiguous },
    resetTimeout: {
      vus: 8,
      load: `${keyed} retried with the same key`,
      after: {
        ...uniqueAndContiguous,
        metrics: ({ calls, ops }) => ({
          logical_reservations: ops.length,
          retries: ops.length > 0 ? calls.length - ops.length : 0,
          replayed_answers: calls.filter((c) => c.replayed).length,
          ops_indeterminate: ops.filter((o) => o.outcome === 'indeterminate').length,
        }),
      },
    },
    // 300 ms per round trip: a keyed reservation holds its connection ~1.2 s; 40/s over 64
    // sequences (each its own statement) needs ~50 connections of 10.
    pool: { rate: 40, load: `${keyed} over ${poolTypes.length} types` },
    degraded: {
      faults: [bandwidth(8), slicer(16, 8, 500), limitData(3000)],
      perFault: { thresholds: ['wrong_answers: value==0'], metrics: (_, calls) => ({ wrong_answers: calls.filter(wrongAnswer).length }) },
      after: { verdicts: ({ calls, ops }) => [checkIds(ops, reconciled), answersCorrect(calls)] },
    },
  },
};
