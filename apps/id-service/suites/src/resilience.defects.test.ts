// Planted defect for the id-service resilience suite's id-reconciliation verdict: its OWN
// reset_peer + timeout step (clients retrying each reservation with one Idempotency-Key),
// resized to seconds, against the real id-service on a real PostgreSQL behind a real
// toxiproxy-server. The defect is a server that sometimes ignores the key, armed in a replica
// started for that case; the clean replica shows the same step passing. (The client-side
// defect, retries without a key, is idempotent-retries.test.ts.)
import type { ScenarioReport } from '@crucible/contracts';
import { resetTimeoutStep, resilienceEnv, type ResetTimeoutShape } from '@crucible/suite-kit';
import { correctnessFailures, failedChecks, openStepRunner, type StepRunner } from '@crucible/suite-kit/testing';
import { startSut, type Sut } from '@crucible/testbed';
import { testServer } from '@crucible/testbed/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { idServiceWorkload } from './resilience.workload.js';

let sut: Sut;
let steps: StepRunner;

beforeAll(async () => {
  sut = await startSut({ server: testServer(), apps: ['id-service'], chaos: true, env: { ...resilienceEnv, LOG_LEVEL: 'silent' } });
  steps = openStepRunner(sut);
});
afterAll(async () => {
  await steps?.close();
  await sut?.stop();
});

/** 5 s of 8 retrying clients: reset_peer from 1 s for 1.5 s, silent from 3 s for 1 s. */
const shape = (projectId: string): ResetTimeoutShape => ({ projectId, durationS: 5, resetAtMs: 1000, resetForMs: 1500, timeoutAtMs: 3000, timeoutForMs: 1000 });

const retryStep = (projectId: string, failpoints?: string): Promise<ScenarioReport[]> =>
  steps.onReplica('id-service', failpoints, resetTimeoutStep(idServiceWorkload, shape(projectId)));

const reconciliation = (rows: readonly ScenarioReport[]) => rows.flatMap((r) => r.verdicts).find((v) => v.checker === 'id-reconciliation');

describe('reset_peer + timeout with idempotent retries, on the real id-service', () => {
  it('passes on the clean system: every acknowledged range unique and accounted for by its key', async () => {
    const rows = await retryStep('retry-clean');
    expect(correctnessFailures(rows)).toEqual([]);
    expect(reconciliation(rows)?.counts).toMatchObject({ duplicate_ids: 0, lost_acknowledged_ids: 0, unexplained_gap_ids: 0 });
    expect(rows.find((r) => r.tags['phase'] === 'after')?.metrics['logical_reservations']).toBeGreaterThan(200);
  });

  it('idempotent retries: a server that ignores the Idempotency-Key (ids.reserve.forget-idempotency-key, 2 %) fails id-reconciliation', async () => {
    // The clean run makes > 200 keyed reservations in 5 s; at 2 % per attempt the failpoint
    // stays unfired with probability 0.98^200 ≈ 2e-2 at that floor, ~1e-4 at the usual ~450.
    // A reservation made without its key leaves no row under the key (the range the client
    // holds is unaccounted for), and a retry of one whose answer the fault lost takes a
    // second range (the first is a gap nothing explains).
    const rows = await retryStep('retry-forget-key', 'ids.reserve.forget-idempotency-key=0.02');
    const verdict = reconciliation(rows);
    expect(verdict?.status).toBe('fail');
    const counts = verdict?.counts ?? {};
    expect((counts['lost_acknowledged_ids'] ?? 0) + (counts['duplicate_ids'] ?? 0) + (counts['unexplained_gap_ids'] ?? 0)).toBeGreaterThan(0);
    expect(verdict?.summary).toMatch(/duplicate IDs, \d+ acknowledged IDs lost, \d+ IDs missing without explanation/);
    expect(failedChecks(rows)).toContainEqual(expect.stringMatching(/· after: id-reconciliation: /));
  });
});
