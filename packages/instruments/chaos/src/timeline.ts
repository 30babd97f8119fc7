import { InstrumentError, now } from '@crucible/instrument-kit';
import type { ChaosProxy, Disruption } from './client.js';
import { describeFault, type FaultSpec } from './toxics.js';

/** One step of a fault timeline: `at` ms after the start, put `fault` on `proxy` for `for` ms. */
export interface FaultStep {
  /** Start, in ms after the timeline starts. */
  readonly at: number;
  /** Duration in ms. */
  readonly for: number;
  readonly proxy: ChaosProxy;
  readonly fault: FaultSpec;
  /** Label for reports (default: {@link describeStep}). */
  readonly name?: string;
}

/** What happened to one step; times are epoch ms (fractional, monotonic within a run). */
export interface StepRecord {
  readonly name: string;
  /** e.g. `at 5 s add latency 200±50 ms on postgres for 10 s`. */
  readonly description: string;
  readonly proxy: string;
  readonly fault: FaultSpec;
  /** When the fault was in effect (set once the API call returned). */
  appliedAt?: number;
  /** When the fault was gone again (set once the removal returned). */
  removedAt?: number;
  /** Why applying or removing failed. */
  error?: string;
}

/** The record of one timeline run. */
export interface TimelineRun {
  readonly startedAt: number;
  endedAt?: number;
  readonly steps: StepRecord[];
}

/** A phase of a run around one fault: before it, while it acts, after it. */
export interface Phase {
  readonly name: 'before' | 'during' | 'after';
  /** Epoch ms, inclusive. */
  readonly from: number;
  /** Epoch ms, exclusive. */
  readonly to: number;
}


const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;

/** `at 5 s add latency 200±50 ms on postgres for 10 s`, `at 20 s cut postgres for 5 s`. */
export function describeStep(step: Pick<FaultStep, 'at' | 'for' | 'fault'> & { proxy: { name: string } }): string {
  return step.fault.type === 'down'
    ? `at ${seconds(step.at)} cut ${step.proxy.name} for ${seconds(step.for)}`
    : `at ${seconds(step.at)} add ${describeFault(step.fault)} on ${step.proxy.name} for ${seconds(step.for)}`;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted || ms <= 0) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Removes a fault; retries, and as a last resort resets the whole proxy. */
async function removeSurely(d: Disruption, proxy: ChaosProxy): Promise<void> {
  let last: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await d.remove();
      return;
    } catch (err) {
      last = err;
      await sleep(100 * (attempt + 1));
    }
  }
  try {
    await proxy.reset();
  } catch {
    // the original error says more
  }
  throw last;
}

/**
 * Runs a fault timeline: each step is applied at its time and removed when its duration
 * ends, when `signal` aborts, or when anything throws. Resolves once every applied fault
 * is removed again; failures are recorded in the step (`error`), never left in effect.
 *
 * @example
 * const run = await runTimeline([
 *   { at: 5_000, for: 10_000, proxy: db, fault: latency(200, 50) },
 *   { at: 20_000, for: 5_000, proxy: db, fault: down() },
 * ]);
 */
export async function runTimeline(
  steps: readonly FaultStep[],
  options: { signal?: AbortSignal; startedAt?: number; onError?: (step: StepRecord) => void } = {},
): Promise<TimelineRun> {
  const startedAt = options.startedAt ?? now();
  const planned = steps.map((step) => ({
    step,
    record: { name: step.name ?? describeStep(step), description: describeStep(step), proxy: step.proxy.name, fault: step.fault } as StepRecord,
  }));
  const run: TimelineRun = { startedAt, steps: planned.map((p) => p.record) };
  const signal = options.signal;
  await Promise.all(
    planned.map(async ({ step, record }) => {
      await sleep(startedAt + step.at - now(), signal);
      if (signal?.aborted) return;
      let disruption: Disruption | undefined;
      try {
        disruption = await step.proxy.apply(step.fault);
        record.appliedAt = now();
        await sleep(record.appliedAt + step.for - now(), signal);
      } catch (err) {
        record.error = `applying: ${(err as Error).message}`;
        options.onError?.(record);
      } finally {
        if (disruption) {
          try {
            await removeSurely(disruption, step.proxy);
            record.removedAt = now();
          } catch (err) {
            record.error = `${record.error ? `${record.error}; ` : ''}removing: ${(err as Error).message}`;
            options.onError?.(record);
          }
        }
      }
    }),
  );
  run.endedAt = now();
  return run;
}

/** A timeline step failed to apply or to be removed. */
export class TimelineError extends InstrumentError<'fault_timeline'> {
  override name = 'TimelineError';
  constructor(readonly run: TimelineRun) {
    super('fault_timeline', `fault timeline failed: ${run.steps.filter((s) => s.error).map((s) => `${s.description}: ${s.error}`).join('; ')}`);
  }
}

/**
 * Runs `load` and a fault timeline side by side. The timeline starts with the load; when the
 * load ends (or throws) any fault still in effect is removed at once. If a step cannot be
 * applied or removed, the load is aborted through its signal and this rejects with a
 * {@link TimelineError} — after the cleanup, never before.
 *
 * @example
 * const { result, timeline } = await withFaults(
 *   [{ at: 5_000, for: 5_000, proxy: sut.chaos!.proxy('id-service'), fault: down() }],
 *   (signal) => runScenario({ durationMs: 20_000, signal }),
 * );
 */
export async function withFaults<T>(
  steps: readonly FaultStep[],
  load: (signal: AbortSignal) => Promise<T>,
): Promise<{ result: T; timeline: TimelineRun }> {
  const stopTimeline = new AbortController();
  const abortLoad = new AbortController();
  const startedAt = now();
  const timelineDone = runTimeline(steps, {
    signal: stopTimeline.signal,
    startedAt,
    onError: (step) => abortLoad.abort(new Error(`fault step failed: ${step.description}: ${step.error}`)),
  });
  const outcome = await load(abortLoad.signal).then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  stopTimeline.abort();
  const timeline = await timelineDone;
  // The run lasts as long as the load, not only until the last fault is removed.
  timeline.endedAt = Math.max(timeline.endedAt ?? 0, now());
  if (timeline.steps.some((s) => s.error)) throw new TimelineError(timeline);
  if (!outcome.ok) throw outcome.error;
  return { result: outcome.value, timeline };
}

/**
 * Splits a run around one step into before / during / after, for per-phase metrics.
 * A step that never applied has only a `before` phase.
 */
export function phasesOf(step: StepRecord, run: { startedAt: number; endedAt?: number | undefined }, endedAt = run.endedAt ?? now()): Phase[] {
  if (step.appliedAt === undefined) return [{ name: 'before', from: run.startedAt, to: endedAt }];
  const removed = step.removedAt ?? endedAt;
  return [
    { name: 'before', from: run.startedAt, to: step.appliedAt },
    { name: 'during', from: step.appliedAt, to: removed },
    { name: 'after', from: removed, to: endedAt },
  ];
}

/**
 * One record spanning every step of a run (from the first application to the last
 * removal), for phases around a sequence of faults, e.g. reset_peer then timeout.
 */
export function spanOf(run: TimelineRun, name = run.steps.map((s) => s.name).join(', then ')): StepRecord {
  const applied = run.steps.map((s) => s.appliedAt).filter((t): t is number => t !== undefined);
  const removed = run.steps.map((s) => s.removedAt).filter((t): t is number => t !== undefined);
  const first = run.steps[0];
  if (!first) throw new Error('spanOf: the run has no steps');
  return {
    name,
    description: run.steps.map((s) => s.description).join('; '),
    proxy: [...new Set(run.steps.map((s) => s.proxy))].join(', '),
    fault: first.fault,
    ...(applied.length ? { appliedAt: Math.min(...applied) } : {}),
    ...(removed.length ? { removedAt: Math.max(...removed) } : {}),
    ...(run.steps.some((s) => s.error) ? { error: run.steps.map((s) => s.error).filter(Boolean).join('; ') } : {}),
  };
}
