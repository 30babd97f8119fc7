import { describe, expect, it } from 'vitest';
import { phaseReports, recoveryMs, type CallRecord } from './phases.js';
import { down, type StepRecord, type TimelineRun } from '@crucible/chaos';

const t0 = 1_700_000_000_000;
const call = (startS: number, ms: number, ok: boolean, extra: Partial<CallRecord> = {}): CallRecord => ({
  start: t0 + startS * 1000,
  end: t0 + startS * 1000 + ms,
  ok,
  status: ok ? 200 : 503,
  ...(ok ? {} : { code: 'database_unavailable' }),
  ...extra,
});

describe('phase reports', () => {
  const step: StepRecord = { name: 'cut', description: 'at 2 s cut postgres for 2 s', proxy: 'postgres', fault: down(), appliedAt: t0 + 2000, removedAt: t0 + 4000 };
  const run: TimelineRun = { startedAt: t0, endedAt: t0 + 7000, steps: [step] };
  // 1 call per 0.5 s: ok before, 503s during, failing 0.6 s more after the removal, then ok.
  const calls = Array.from({ length: 14 }, (_, i) => {
    const s = i / 2;
    const failing = s >= 2 && s < 4.6;
    return call(s, failing ? 20 : 5, !failing);
  });

  it('splits the calls into before, during and after with their own figures and thresholds', () => {
    const [before, during, after] = phaseReports(calls, {
      name: 'database down',
      executor: 'constant-arrival-rate 2/s',
      step,
      run,
      during: { thresholds: ['errors: rate>0.9', 'p(99)<1000'] },
      after: { thresholds: ['recovery_ms: value<10000'], metrics: { recovery_ms: recoveryMs(calls, step.removedAt!) ?? -1 } },
    });
    expect([before?.name, during?.name, after?.name]).toEqual(['database down · before', 'database down · during', 'database down · after']);
    expect([before?.requests, during?.requests, after?.requests]).toEqual([4, 4, 6]);
    expect(before?.error_rate).toBe(0);
    expect(during?.errors).toEqual({ database_unavailable: 4 });
    expect(during?.tags).toMatchObject({ phase: 'during', fault: 'at 2 s cut postgres for 2 s' });
    expect(during?.passed).toBe(true);
    expect(after?.errors).toEqual({ database_unavailable: 2 });
    expect(after?.metrics['recovery_ms']).toBe(1005);
    expect(after?.thresholds[0]).toMatchObject({ passed: true, actual: 1005 });
    expect(during?.series.map((p) => p.requests)).toEqual([2, 2]);
  });

  it('a call in flight when the fault starts belongs to the fault', () => {
    const inflight = call(1.9, 300, false);
    const [before, during] = phaseReports([inflight], { name: 'x', executor: 'y', step, run });
    expect(before?.requests).toBe(0);
    expect(during?.requests).toBe(1);
  });

  it('a threshold that does not hold fails its phase', () => {
    const [, during] = phaseReports(calls, { name: 'x', executor: 'y', step, run, during: { thresholds: ['errors: rate<0.1'] } });
    expect(during?.passed).toBe(false);
  });

  it('dropped iterations count in the phase they were meant to start in, and can fail a threshold', () => {
    const dropped = [
      { at: t0 + 1000, dropped: 2 },
      { at: t0 + 3000, dropped: 5 },
    ];
    const thresholds = ['dropped_iterations: value==0'];
    const [before, during, after] = phaseReports(calls, { name: 'x', executor: 'y', step, run, dropped, before: { thresholds }, during: { thresholds }, after: { thresholds } });
    expect([before?.dropped_iterations, during?.dropped_iterations, after?.dropped_iterations]).toEqual([2, 5, 0]);
    expect(during?.series.find((p) => p.t === 1)?.dropped).toBe(5);
    expect(before?.thresholds[0]).toMatchObject({ passed: false, actual: 2 });
    expect(after?.thresholds[0]).toMatchObject({ passed: true, actual: 0 });
  });

  it('recovery: null when it never serves again, small when nothing failed after the removal', () => {
    expect(recoveryMs([call(5, 10, false), call(6, 10, false)], t0 + 4000)).toBeNull();
    expect(recoveryMs([call(4.1, 10, true)], t0 + 4000)).toBe(110);
  });
});
