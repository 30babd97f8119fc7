// Planted defects for the task-api resilience suite's verdicts: its OWN steps (database down,
// reset_peer + timeout; pool exhaustion and the degraded link are in
// resilience.more-defects.test.ts), resized to seconds, against the real task-api on a real
// PostgreSQL behind a real toxiproxy-server. Each defect is a failpoint armed in a replica of the app
// started for that case; the clean replica shows the same step passing. One system per file.
import type { ScenarioReport } from '@crucible/contracts';
import { databaseDownStep, resetTimeoutStep, resilienceEnv, type DatabaseDownShape, type ResetTimeoutShape } from '@crucible/suite-kit';
import { correctnessFailures, failedChecks, openStepRunner, type StepRunner } from '@crucible/suite-kit/testing';
import { startSut, type Sut } from '@crucible/testbed';
import { testServer } from '@crucible/testbed/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { taskApiWorkload } from './resilience.workload.js';

let sut: Sut;
let steps: StepRunner;

beforeAll(async () => {
  // At the suite's log level (warn): the database-down step reads the replica's db_unreachable / db_recovered events.
  sut = await startSut({ server: testServer(), apps: ['task-api'], chaos: true, env: { ...resilienceEnv, LOG_LEVEL: 'warn' } });
  steps = openStepRunner(sut);
});
afterAll(async () => {
  await steps?.close();
  await sut?.stop();
});

/** 7 s at 30/s, the database link down from 1.5 s for 3 s: ~45 probes of /health, ~90 refusals. */
const down = (projectId: string): DatabaseDownShape => ({ projectId, rate: 30, durationS: 7, downAtMs: 1500, downForMs: 3000 });
/** 5 s of 6 retrying writers: reset_peer from 1 s for 1.5 s, silent from 3 s for 1 s. */
const resetTimeout = (projectId: string): ResetTimeoutShape => ({ projectId, durationS: 5, resetAtMs: 1000, resetForMs: 1500, timeoutAtMs: 3000, timeoutForMs: 1000 });

const downStep = (projectId: string, failpoints?: string) => steps.onReplica('task-api', failpoints, databaseDownStep(taskApiWorkload, down(projectId)));
const retryStep = (projectId: string, failpoints?: string) => steps.onReplica('task-api', failpoints, resetTimeoutStep(taskApiWorkload, resetTimeout(projectId)));

const metric = (rows: readonly ScenarioReport[], phase: string, name: string) => rows.find((r) => r.tags['phase'] === phase)?.metrics[name];

describe('database down, on the real task-api', () => {
  it('passes on the clean system: /health turns 503, requests are refused fast, service and health recover, no write lost', async () => {
    const rows = await downStep('down-clean');
    expect(correctnessFailures(rows)).toEqual([]);
    expect(metric(rows, 'during', 'refusals_503')).toBeGreaterThan(0);
    expect(metric(rows, 'during', 'health_detect_ms')).toBeLessThan(5000);
    expect(metric(rows, 'after', 'recovery_ms')).toBeLessThan(10_000);
  });

  it('health detection: a /health that answers a cached result (health.stale-ok) fails the step, naming the undetected outage', async () => {
    // A healthy answer is kept for 30 s when the failpoint fires (p = 0.5 per fresh check);
    // ~15 probes before the link goes down leave it unfired with probability 0.5^15 ≈ 3e-5.
    const rows = await downStep('down-stale-health', 'health.stale-ok=0.5');
    const failed = failedChecks(rows);
    expect(failed).toContainEqual(expect.stringMatching(/· during: health_unavailable_samples: value>0 .*= 0/));
    expect(failed).toContainEqual(expect.stringMatching(/· during: health_detect_ms: value<5000 .*unknown metric "health_detect_ms"/));
    // Only health detection: requests were refused and the service recovered.
    expect(correctnessFailures(rows).filter((f) => !/health_(unavailable_samples|detect_ms)/.test(f))).toEqual([]);
  });

  it('recovery logged: a service that never logs db_recovered (db.no-recovery-log) fails db-log-events, and only it', async () => {
    const rows = await downStep('down-no-recovery-log', 'db.no-recovery-log=1');
    const failed = failedChecks(rows);
    expect(failed).toContainEqual(expect.stringMatching(/· during: db-log-events: no db_recovered for the database after the fault was removed/));
    // Detected in time, and the service itself recovered: only the record of it is missing.
    const verdict = rows.find((r) => r.tags['phase'] === 'during')?.verdicts.find((v) => v.checker === 'db-log-events');
    expect(verdict?.counts['down_after_fault_ms']).toBeLessThan(1000);
    expect(correctnessFailures(rows).filter((f) => !/db-log-events/.test(f))).toEqual([]);
  });

  it('recovery: a service that refuses for 15 s after a database error (db.slow-recovery) fails recovery_ms', async () => {
    // The breaker opens when the failpoint fires on a database error (p = 0.1); the ~90
    // requests refused while the link is down leave it unfired with probability 0.9^90 ≈ 8e-5.
    const rows = await downStep('down-slow-recovery', 'db.slow-recovery=0.1');
    const failed = failedChecks(rows);
    // Still refusing when the load ended, 2.5 s after the link came back: never recovered.
    expect(failed).toContainEqual(expect.stringMatching(/· after: recovery_ms: value<10000 .*unknown metric "recovery_ms"/));
    expect(metric(rows, 'during', 'health_detect_ms')).toBeLessThan(5000);
    expect(correctnessFailures(rows).filter((f) => !/· after: (recovery_ms|errors)/.test(f))).toEqual([]);
  });

  it('Retry-After: a 503 sometimes answered without it (errors.no-retry-after, 10 %) fails refusals_without_retry_after', async () => {
    // ~90 requests are refused while the link is down (3 s at 30/s); each loses its header at
    // 10 %: none does with probability 0.9^90 ≈ 8e-5.
    const rows = await downStep('down-no-retry-after', 'errors.no-retry-after=0.1');
    const failed = failedChecks(rows);
    expect(failed).toContainEqual(expect.stringMatching(/· during: refusals_without_retry_after: value==0 .*= [1-9]\d*/));
    expect(correctnessFailures(rows).filter((f) => !/refusals_without_retry_after/.test(f))).toEqual([]);
  });

  it('fast refusal: a 503 sometimes held 1.5 s (errors.slow-refusal, 15 %) fails refusal_p99_ms', async () => {
    // The p99 of ~90 refusals is past 1 s once 2 of them are slow; at 15 % fewer than 2 are
    // with probability 0.85^90 + 90 · 0.15 · 0.85^89 ≈ 8e-6.
    const rows = await downStep('down-slow-refusal', 'errors.slow-refusal=0.15');
    const failed = failedChecks(rows);
    expect(failed).toContainEqual(expect.stringMatching(/· during: refusal_p99_ms: value<1000 /));
    expect(metric(rows, 'during', 'refusal_p99_ms')).toBeGreaterThanOrEqual(1500);
    // Slow, not hung, and still answered with the envelope.
    expect(metric(rows, 'during', 'hung_requests')).toBe(0);
    expect(metric(rows, 'during', 'unclean_failures')).toBe(0);
  });

  it('clean refusal: a database error sometimes answered 500 in plain text (errors.unclean-500, 10 %) fails unclean_failures', async () => {
    // ~90 database errors while the link is down; each answered 500 at 10 %: none is with
    // probability 0.9^90 ≈ 8e-5.
    const rows = await downStep('down-unclean-500', 'errors.unclean-500=0.1');
    const failed = failedChecks(rows);
    expect(failed).toContainEqual(expect.stringMatching(/· during: unclean_failures: value==0 .*= [1-9]\d*/));
    // The rest of the refusals were clean 503s with Retry-After.
    expect(metric(rows, 'during', 'refusals_503')).toBeGreaterThan(0);
    expect(metric(rows, 'during', 'refusals_without_retry_after')).toBe(0);
  });
});

describe('reset_peer + timeout with idempotent retries, on the real task-api', () => {
  it('passes on the clean system: every acknowledged write stored as sent', async () => {
    const rows = await retryStep('retry-clean');
    expect(correctnessFailures(rows)).toEqual([]);
    const verdict = rows.flatMap((r) => r.verdicts).find((v) => v.checker === 'task-writes');
    expect(verdict?.counts['lost_acknowledged']).toBe(0);
    expect(metric(rows, 'after', 'logical_writes')).toBeGreaterThan(300);
  });

  it('durability: a 201 for a rolled-back insert (tasks.create.ack-without-commit, 2 %) fails task-writes, naming the lost writes', async () => {
    // The clean run acknowledges > 300 writes in 5 s; at 2 % the failpoint stays unfired with
    // probability 0.98^300 ≈ 2e-3, and a few hundred more writes make it far smaller.
    const rows = await retryStep('retry-ack-without-commit', 'tasks.create.ack-without-commit=0.02');
    const verdict = rows.flatMap((r) => r.verdicts).find((v) => v.checker === 'task-writes');
    expect(verdict?.status).toBe('fail');
    expect(verdict?.counts['lost_acknowledged']).toBeGreaterThan(0);
    expect(verdict?.summary).toMatch(/^\d+ acknowledged tasks lost/);
    expect(verdict?.examples[0]).toMatchObject({ kind: 'lost' });
  });
});
