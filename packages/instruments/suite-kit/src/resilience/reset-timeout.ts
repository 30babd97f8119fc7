import { resetPeer, spanOf, timeout } from '@crucible/chaos';
import { constantVUs } from '@crucible/load-engine';
import { uncleanFailures } from '../calls.js';
import { recoveryMs } from '../phases.js';
import type { SuiteStep } from '../suite.js';
import { callsAround, describeLoad, faultRows, loadUnderFaults, measured, stepOf } from './load.js';
import type { ResilienceContext, ResilienceWorkload } from './workload.js';

/** How long the reset_peer/timeout step's load runs, and when each fault acts (ms from its start). */
export interface ResetTimeoutShape {
  /** The step's own project (a fresh one: its verdicts read only its rows). */
  readonly projectId: string;
  readonly durationS: number;
  readonly resetAtMs: number;
  readonly resetForMs: number;
  readonly timeoutAtMs: number;
  readonly timeoutForMs: number;
}

/** The suite's reset_peer/timeout step: 14 s of load, reset_peer from 2 s for 3 s, silent from 7 s for 2.5 s. */
export const resetTimeoutShape: ResetTimeoutShape = Object.freeze({ projectId: 'res-retry', durationS: 14, resetAtMs: 2000, resetForMs: 3000, timeoutAtMs: 7000, timeoutForMs: 2500 });

/**
 * 3. reset_peer for 3 s, then a silent link for 2.5 s, under concurrent clients that retry
 * each operation (idempotently) for up to 10 s: the faults make attempts fail, nothing fails
 * uncleanly, the service recovers within 10 s, and the workload's verdicts hold. `shape`
 * resizes the step (a planted-defect test runs a few seconds of it).
 */
export function resetTimeoutStep<Op>(w: ResilienceWorkload<Op>, shape: ResetTimeoutShape = resetTimeoutShape): SuiteStep<ResilienceContext> {
  const t = w.steps.resetTimeout;
  const projectId = shape.projectId;
  const s = (ms: number) => `${ms / 1000} s`;
  return {
    name: 'reset_peer + timeout with idempotent retries',
    async run(ctx, kit) {
      const executor = constantVUs({ vus: t.vus, duration: `${shape.durationS}s` });
      const faults = [
        { at: shape.resetAtMs, for: shape.resetForMs, proxy: ctx.link, fault: resetPeer() },
        { at: shape.timeoutAtMs, for: shape.timeoutForMs, proxy: ctx.link, fault: timeout(0) },
      ];
      const load = await loadUnderFaults(w, ctx, kit, { step: 'reset-timeout', projectId, executor, faults, retry: true });
      stepOf(load.timeline, 0);
      stepOf(load.timeline, 1);
      const span = spanOf(load.timeline, `reset_peer ${s(shape.resetForMs)}, then silent ${s(shape.timeoutForMs)}`);
      const during = callsAround(load, span).during;
      return faultRows(w, ctx, projectId, t, load, {
        name: `reset_peer and timeout during concurrent ${w.operations}, idempotent retries`,
        executor: describeLoad(executor, t.load ?? `${w.load}, retried`),
        step: span,
        before: { thresholds: ['errors: rate<0.02'] },
        // The faults must really have acted: some attempts failed while they were on.
        during: { thresholds: ['failed_attempts: value>0', 'unclean_failures: value==0'], metrics: { failed_attempts: during.filter((c) => !c.ok).length, unclean_failures: uncleanFailures(load.calls) } },
        after: {
          // Never serving again leaves recovery_ms out of the row: its threshold then fails.
          thresholds: ['errors: rate<0.02', 'recovery_ms: value<10000'],
          metrics: measured({ recovery_ms: span.removedAt === undefined ? null : recoveryMs(load.calls, span.removedAt), attempts: load.calls.length }),
        },
      });
    },
  };
}
