// Planted defect for the task-api resilience suite's failure-isolation step (the ID service
// taken away): the suite's OWN step, resized to seconds, against the real task-api and the
// real ID service it takes task ids from, the link between them behind a real
// toxiproxy-server (down: connections refused; timeout 0: accepted, never answered). The
// defect is a failpoint armed in a task-api replica started for it (same link, same ID
// service); the clean first replica shows the same step passing.
import { down, latency, resetPeer, timeout } from '@crucible/chaos';
import type { ScenarioReport } from '@crucible/contracts';
import { dependencyOutageStep, resilienceEnv, type DependencyOutageShape, type ResilienceContext, type SuiteStep } from '@crucible/suite-kit';
import { correctnessFailures, failedChecks, openStepRunner, type StepRunner } from '@crucible/suite-kit/testing';
import { startSut, type Sut } from '@crucible/testbed';
import { testServer } from '@crucible/testbed/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { taskApiWorkload } from './resilience.workload.js';

let sut: Sut;
let steps: StepRunner;

beforeAll(async () => {
  // Only the task API is asked for: the testbed starts the ID service it needs, linked through Toxiproxy.
  // At the suite's log level (warn): the step reads the replica's dependency_down / dependency_up events.
  sut = await startSut({ server: testServer(), apps: ['task-api'], chaos: true, env: { ...resilienceEnv } });
  steps = openStepRunner(sut);
});
afterAll(async () => {
  await steps?.close();
  await sut?.stop();
});

/**
 * 22 s at 40/s (20 creates a second need a generated id), on the link 3.5 s each, 5 s apart
 * from 1 s: down, frozen, reset_peer, 250 ms of latency. A block of 32 (+ up to 8 left)
 * lasts ≤ 2 s, so each fault that takes the ID service away runs the block dry.
 */
const clean = (projectId: string): DependencyOutageShape => ({
  projectId,
  rate: 40,
  durationS: 22,
  faults: [
    { at: 1000, for: 3500, fault: down() },
    { at: 6000, for: 3500, fault: timeout(0) },
    { at: 11_000, for: 3500, fault: resetPeer(0) },
    { at: 16_000, for: 3500, fault: latency(250), expect: 'served' },
  ],
});

/** 17 s at 40/s: the link frozen three times, 3.5 s each from 1 s, 5.5 s apart (2 s to recover and refill between). */
const threeFreezes = (projectId: string): DependencyOutageShape => ({
  projectId,
  rate: 40,
  durationS: 17,
  faults: [1000, 6500, 12000].map((at) => ({ at, for: 3500, fault: timeout(0) })),
});

/** Runs `step` on the clean first replica (`failpoints` undefined) or on one started with them armed. */
const on = (failpoints: string | undefined, step: SuiteStep<ResilienceContext>): Promise<ScenarioReport[]> => steps.onReplica('task-api', failpoints, step);

/** 10 s at 40/s, the link down from 1 s for 4 s: ~80 generated creates refused, ~10 reads while it is down. */
const oneOutage = (projectId: string): DependencyOutageShape => ({ projectId, rate: 40, durationS: 10, faults: [{ at: 1000, for: 4000, fault: down() }] });

const linkRow = (rows: readonly ScenarioReport[], fault: RegExp) => rows.find((r) => /link: /.test(r.name) && fault.test(r.name));

describe('the ID service taken away, on the real task-api', () => {
  it('passes on the clean system: reads, claims and own-id creates keep working, generated creates are refused fast and come back, ids reconcile', async () => {
    const rows = await on(undefined, dependencyOutageStep(taskApiWorkload, clean('dep-clean')));
    expect(correctnessFailures(rows)).toEqual([]);
    expect(rows.map((r) => r.name)).toEqual([
      expect.stringMatching(/· before$/),
      expect.stringMatching(/link: down/),
      expect.stringMatching(/link: timeout/),
      expect.stringMatching(/link: reset_peer/),
      expect.stringMatching(/link: latency/),
      expect.stringMatching(/· after$/),
    ]);
    // Slowed within the deadline, the ID service still serves: nothing refused.
    expect(linkRow(rows, /link: latency/)?.metrics['dependent_over_1500ms']).toBe(0);
    for (const fault of [/link: down/, /link: timeout/, /link: reset_peer/]) {
      const m = linkRow(rows, fault)?.metrics ?? {};
      // The fault took effect, and the calls that did not need the ID service were there to judge.
      expect(m['refusals']).toBeGreaterThan(0);
      expect(m['independent_calls']).toBeGreaterThan(20);
      expect(m['recovery_ms']).toBeLessThan(2000);
      // Not a latency of the loaded machine: a refusal without a call is in-process work.
      expect(m['open_refusal_p99_ms']).toBeLessThan(100);
      expect(m['refusal_max_ms']).toBeLessThan(1500);
    }
    // Detection and recovery in the log, once per fault, in order.
    const logged = rows.flatMap((r) => r.verdicts).filter((v) => v.checker === 'dependency-log-events');
    expect(logged.map((v) => v.status)).toEqual(['pass', 'pass', 'pass']);
    const reconciled = rows.flatMap((r) => r.verdicts).find((v) => v.checker === 'task-id-reconciliation');
    expect(reconciled?.status).toBe('pass');
    expect(reconciled?.counts['generated_acknowledged']).toBeGreaterThan(50);
    expect(reconciled?.counts['generated_refused']).toBeGreaterThan(0);
  });

  it('fast refusal: a call for ids without a deadline (tasks.ids.no-timeout, 75 %) behind a frozen ID service fails dependent_over_1500ms', async () => {
    // The defect shows only while the breaker is still closed: then every create of the
    // project waits on the one refill in flight, and one without a deadline waits out the
    // whole freeze. Each freeze sees 3 calls with the breaker closed (the refill ahead of
    // need, its retry, the next refill, whose failure opens it); none of the 9 in three
    // freezes goes without a deadline with probability 0.25^9 ≈ 4e-6.
    const rows = await on('tasks.ids.no-timeout=0.75', dependencyOutageStep(taskApiWorkload, threeFreezes('dep-no-timeout')));
    const failed = failedChecks(rows);
    expect(failed).toContainEqual(expect.stringMatching(/link: timeout .*: dependent_over_1500ms: value==0 .*= [1-9]\d*/));
    // Slow, not wrong: no id is lost, duplicated or made up.
    expect(rows.flatMap((r) => r.verdicts).find((v) => v.checker === 'task-id-reconciliation')?.status).toBe('pass');
  });

  it('recovery logged: a task API that never logs dependency_up (tasks.ids.no-recovery-log) fails dependency-log-events on every fault', async () => {
    // The event is written once per outage, so the defect is armed at 100 %: it is the issue's
    // "a service that never logs recovery". The recovery itself still happens (recovery_ms passes).
    const rows = await on('tasks.ids.no-recovery-log=1', dependencyOutageStep(taskApiWorkload, clean('dep-no-recovery-log')));
    const failed = failedChecks(rows);
    expect(failed.filter((f) => /dependency-log-events: no dependency_up for id-service/.test(f))).toHaveLength(3);
    expect(failed.filter((f) => /recovery_ms/.test(f))).toEqual([]);
  });

  it('ids from the ID service only: a task API that makes a number up when it cannot get one (tasks.ids.local-fallback, 20 %) fails task-id-reconciliation', async () => {
    // ~80 creates are refused while the link is down; none of them falling back has
    // probability 0.8^80 ≈ 2e-8. A made-up number (100000 + clock) is above anything issued.
    const rows = await on('tasks.ids.local-fallback=0.2', dependencyOutageStep(taskApiWorkload, oneOutage('dep-local-fallback')));
    const verdict = rows.flatMap((r) => r.verdicts).find((v) => v.checker === 'task-id-reconciliation');
    expect(verdict?.status).toBe('fail');
    expect(verdict?.counts['not_issued']).toBeGreaterThan(0);
    expect(verdict?.summary).toMatch(/[1-9]\d* never issued by the ID service/);
    expect(verdict?.examples[0]).toMatchObject({ kind: 'not_issued' });
  });

  it('isolation: a read refused while the ID service is away (tasks.list.needs-id-service, 50 %) fails independent_error_pct', async () => {
    // ~20 reads run while the breaker is open (1 in 8 calls, 4 s at 40/s); half refused is
    // ~5 % of the ~80 calls that never need the ID service, far past 1 %; none refused has
    // probability 0.5^20 ≈ 1e-6.
    const rows = await on('tasks.list.needs-id-service=0.5', dependencyOutageStep(taskApiWorkload, oneOutage('dep-read-coupled')));
    expect(failedChecks(rows)).toContainEqual(expect.stringMatching(/link: down .*: independent_error_pct: value<1 /));
    // Only the isolation: the generated ids still reconcile.
    expect(rows.flatMap((r) => r.verdicts).find((v) => v.checker === 'task-id-reconciliation')?.status).toBe('pass');
  });
});
