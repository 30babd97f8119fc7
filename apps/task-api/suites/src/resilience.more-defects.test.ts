// Planted defects for the task-api resilience suite's pool-exhaustion and degraded-link
// verdicts: the suite's OWN steps, resized to seconds, against the real task-api on a real
// PostgreSQL behind a real toxiproxy-server (300 ms round trips; bandwidth, slicer and
// limit_data). Each defect is a failpoint armed in a replica of the app started for that
// case; the clean first replica shows the same step passing. One system per file.
import type { ScenarioReport } from '@crucible/contracts';
import {
  degradedLinkStep,
  poolExhaustionStep,
  resilienceEnv,
  type DegradedLinkShape,
  type PoolExhaustionShape,
  type ResilienceContext,
  type SuiteStep,
} from '@crucible/suite-kit';
import { correctnessFailures, failedChecks, openStepRunner, type StepRunner } from '@crucible/suite-kit/testing';
import { startSut, type Sut } from '@crucible/testbed';
import { testServer } from '@crucible/testbed/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { taskApiWorkload } from './resilience.workload.js';

let sut: Sut;
let steps: StepRunner;

beforeAll(async () => {
  sut = await startSut({ server: testServer(), apps: ['task-api'], chaos: true, env: { ...resilienceEnv, LOG_LEVEL: 'silent' } });
  steps = openStepRunner(sut);
});
afterAll(async () => {
  await steps?.close();
  await sut?.stop();
});

/** 6 s at 60/s, 300 ms round trips from 1 s for 3 s (~18 connections' worth of demand on 10), 3 s to drain. */
const pool = (projectId: string): PoolExhaustionShape => ({ projectId, durationS: 6, slowAtMs: 1000, slowForMs: 3000, drainWithinMs: 3000 });
/** 9 s at 24/s, bandwidth, slicer and limit_data 2 s each from 1 s, 2.5 s apart. */
const degraded = (projectId: string): DegradedLinkShape => ({ projectId, rate: 24, durationS: 9, firstAtMs: 1000, faultForMs: 2000, everyMs: 2500 });

/** Runs `step` on the clean first replica (`failpoints` undefined) or on one started with them armed. */
const on = (failpoints: string | undefined, step: SuiteStep<ResilienceContext>): Promise<ScenarioReport[]> => steps.onReplica('task-api', failpoints, step);

const metric = (rows: readonly ScenarioReport[], phase: string, name: string) => rows.find((r) => r.tags['phase'] === phase)?.metrics[name];
const row = (rows: readonly ScenarioReport[], name: RegExp) => rows.find((r) => name.test(r.name));
const limitDataRow = (rows: readonly ScenarioReport[]) => row(rows, /^database link: limit_data/);

describe('pool exhaustion, on the real task-api', () => {
  it('passes on the clean system: fast pool_exhausted 503s, no hang, the pool idle again', async () => {
    const rows = await on(undefined, poolExhaustionStep(taskApiWorkload, pool('pool-clean')));
    expect(correctnessFailures(rows)).toEqual([]);
    expect(metric(rows, 'during', 'pool_exhausted')).toBeGreaterThan(0);
    expect(metric(rows, 'after', 'pool_in_use')).toBe(0);
    expect(metric(rows, 'after', 'pool_waiting')).toBe(0);
  });

  it('pool drained: a connection sometimes not given back (db.pool.leak, 5 %) fails pool_in_use and pool_drained_ms', async () => {
    // The clean step gives back > 250 connections; at 5 % per release the failpoint stays
    // unfired over the first 200 with probability 0.95^200 ≈ 4e-5. Each leak is a connection
    // in use for good.
    const rows = await on('db.pool.leak=0.05', poolExhaustionStep(taskApiWorkload, pool('pool-leak')));
    const failed = failedChecks(rows);
    expect(failed).toContainEqual(expect.stringMatching(/· after: pool_in_use: value==0 .*= [1-9]\d*/));
    expect(failed).toContainEqual(expect.stringMatching(/· after: pool_drained_ms: value<3000 .*unknown metric "pool_drained_ms"/));
    // A leak alone is refused fast (the acquire deadline holds): nothing hangs.
    expect(metric(rows, 'during', 'hung_requests')).toBe(0);
    expect(metric(rows, 'during', 'pool_exhausted')).toBeGreaterThan(0);
  });

  it('no hang: a wait for a connection without the acquire deadline (db.acquire.no-timeout, 20 %) behind a leaking pool fails hung_requests', async () => {
    // An unbounded wait only hangs behind a pool that never frees a connection; a 10 % leak
    // takes all 10 within the first ~300 releases (P(fewer than 10 leaks) ≈ 1e-5, a Binomial
    // of mean 30), in the first ~3 s. Each of the ≥ 150 arrivals after that waits without a
    // deadline at 20 %: none does with probability 0.8^150 ≈ 3e-15. The client gives up on
    // such a wait after 10 s: a hung request.
    const rows = await on('db.pool.leak=0.1,db.acquire.no-timeout=0.2', poolExhaustionStep(taskApiWorkload, pool('pool-no-deadline')));
    const failed = failedChecks(rows);
    expect(failed).toContainEqual(expect.stringMatching(/· during: hung_requests: value==0 .*= [1-9]\d*/));
    // Behind it, callers still queued for a connection that never comes.
    expect(failed).toContainEqual(expect.stringMatching(/· after: pool_waiting: value==0 .*= [1-9]\d*/));
    expect(failed.filter((f) => /· after: crashed:/.test(f))).toEqual([]);
  });
});

describe('bandwidth / slicer / limit_data, on the real task-api', () => {
  it('passes on the clean system: every failure a clean 503, nothing hung, every acknowledged write stored as sent', async () => {
    const rows = await on(undefined, degradedLinkStep(taskApiWorkload, degraded('degraded-clean')));
    expect(correctnessFailures(rows)).toEqual([]);
    expect(rows.map((r) => r.name)).toEqual([
      expect.stringMatching(/· before$/),
      expect.stringMatching(/^database link: bandwidth/),
      expect.stringMatching(/^database link: slicer/),
      expect.stringMatching(/^database link: limit_data/),
      expect.stringMatching(/· after$/),
    ]);
    // limit_data cuts 2 KB INSERTs: failures happen, and each one is a clean 503.
    expect(limitDataRow(rows)?.errors['database_unavailable']).toBeGreaterThan(0);
  });

  it('clean failures: a database error answered 500 in plain text (errors.unclean-500, 40 %) fails the limit_data row', async () => {
    // limit_data fails > 20 requests in its 2 s at 24/s (the clean run's database_unavailable);
    // each is answered 500 at 40 %: none is with probability 0.6^20 ≈ 4e-5, ~2e-7 at the usual 30.
    const rows = await on('errors.unclean-500=0.4', degradedLinkStep(taskApiWorkload, degraded('degraded-unclean')));
    const failed = failedChecks(rows);
    expect(failed).toContainEqual(expect.stringMatching(/^database link: limit_data .*: unclean_failures: value==0 .*= [1-9]\d*/));
    // The two faults that fail nothing (bandwidth, slicer) stay clean: the row that failed is the one that answered 500.
    expect(failed.filter((f) => /unclean_failures/.test(f))).toHaveLength(1);
  });

  it('nothing lost: a 201 for a rolled-back insert under the degraded link (tasks.create.ack-without-commit, 10 %) fails task-writes', async () => {
    // ~160 writes in 9 s at 24/s (3 in 4 are writes), ≥ 120 acknowledged; at 10 % none is
    // rolled back with probability 0.9^120 ≈ 3e-6.
    const rows = await on('tasks.create.ack-without-commit=0.1', degradedLinkStep(taskApiWorkload, degraded('degraded-ack-lost')));
    const verdict = rows.flatMap((r) => r.verdicts).find((v) => v.checker === 'task-writes');
    expect(verdict?.status).toBe('fail');
    expect(verdict?.counts['lost_acknowledged']).toBeGreaterThan(0);
    expect(failedChecks(rows)).toContainEqual(expect.stringMatching(/· after: task-writes: \d+ acknowledged tasks lost/));
  });
});
