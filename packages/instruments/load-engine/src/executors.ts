import { InstrumentError } from '@crucible/instrument-kit';
import { toMs, type Duration } from './duration.js';

/** One stage of a ramping executor: move linearly to `target` over `duration`. */
export interface Stage {
  readonly duration: Duration;
  readonly target: number;
}

/** Open model at a fixed rate. */
export interface ConstantArrivalRateConfig {
  readonly type: 'constant-arrival-rate';
  /** Iterations per `timeUnitMs`. */
  readonly rate: number;
  readonly timeUnitMs: number;
  readonly durationMs: number;
  readonly preAllocatedVUs: number;
  readonly maxVUs: number;
}

/** Open model with a rate that ramps through stages. */
export interface RampingArrivalRateConfig {
  readonly type: 'ramping-arrival-rate';
  readonly startRate: number;
  readonly timeUnitMs: number;
  readonly stages: ReadonlyArray<{ readonly durationMs: number; readonly target: number }>;
  readonly preAllocatedVUs: number;
  readonly maxVUs: number;
}

/** Closed model: a fixed number of VUs, each looping. */
export interface ConstantVUsConfig {
  readonly type: 'constant-vus';
  readonly vus: number;
  readonly durationMs: number;
}

/** Closed model with a VU count that ramps through stages. */
export interface RampingVUsConfig {
  readonly type: 'ramping-vus';
  readonly startVUs: number;
  readonly stages: ReadonlyArray<{ readonly durationMs: number; readonly target: number }>;
}

/** N iterations released at the same instant behind a barrier. */
export interface BurstConfig {
  readonly type: 'burst';
  readonly requests: number;
}

/** Any executor; plain data, so it crosses process and thread boundaries. */
export type ExecutorConfig = ConstantArrivalRateConfig | RampingArrivalRateConfig | ConstantVUsConfig | RampingVUsConfig | BurstConfig;

function positive(name: string, v: number, integer = false): number {
  if (!Number.isFinite(v) || v <= 0 || (integer && !Number.isInteger(v))) throw new InstrumentError('invalid_scenario', `${name} must be a positive ${integer ? 'integer' : 'number'}, got ${v}`);
  return v;
}

function stages(list: readonly Stage[]): Array<{ durationMs: number; target: number }> {
  if (list.length === 0) throw new InstrumentError('invalid_scenario', 'stages must not be empty');
  return list.map((s, i) => {
    if (!Number.isFinite(s.target) || s.target < 0) throw new InstrumentError('invalid_scenario', `stages[${i}].target must be >= 0, got ${s.target}`);
    return { durationMs: toMs(s.duration), target: s.target };
  });
}

/**
 * Open model: `rate` iterations per `timeUnit` (default 1 s) for `duration`, whether or not
 * earlier ones finished. Latency is measured from each iteration's intended start, so a stalled
 * server cannot hide behind coordinated omission. When no VU is free at an intended start and
 * `maxVUs` are already busy, the iteration is dropped and counted.
 *
 * @example constantArrivalRate({ rate: 100, duration: '10s', preAllocatedVUs: 20, maxVUs: 200 })
 */
export function constantArrivalRate(o: { rate: number; duration: Duration; timeUnit?: Duration; preAllocatedVUs?: number; maxVUs?: number }): ConstantArrivalRateConfig {
  const pre = o.preAllocatedVUs ?? Math.max(1, Math.ceil(o.rate / 10));
  const max = o.maxVUs ?? Math.max(pre, Math.ceil(o.rate));
  if (max < pre) throw new InstrumentError('invalid_scenario', `maxVUs (${max}) must be >= preAllocatedVUs (${pre})`);
  return { type: 'constant-arrival-rate', rate: positive('rate', o.rate), timeUnitMs: positive('timeUnit', toMs(o.timeUnit ?? '1s')), durationMs: positive('duration', toMs(o.duration)), preAllocatedVUs: positive('preAllocatedVUs', pre, true), maxVUs: positive('maxVUs', max, true) };
}

/**
 * Open model whose rate moves linearly from `startRate` through each stage's `target`.
 *
 * @example rampingArrivalRate({ startRate: 10, stages: [{ duration: '10s', target: 200 }, { duration: '20s', target: 200 }], maxVUs: 300 })
 */
export function rampingArrivalRate(o: { startRate?: number; stages: readonly Stage[]; timeUnit?: Duration; preAllocatedVUs?: number; maxVUs?: number }): RampingArrivalRateConfig {
  const st = stages(o.stages);
  const peak = Math.max(o.startRate ?? 0, ...st.map((s) => s.target));
  const pre = o.preAllocatedVUs ?? Math.max(1, Math.ceil(peak / 10));
  const max = o.maxVUs ?? Math.max(pre, Math.ceil(peak));
  if (max < pre) throw new InstrumentError('invalid_scenario', `maxVUs (${max}) must be >= preAllocatedVUs (${pre})`);
  return { type: 'ramping-arrival-rate', startRate: o.startRate ?? 0, timeUnitMs: positive('timeUnit', toMs(o.timeUnit ?? '1s')), stages: st, preAllocatedVUs: positive('preAllocatedVUs', pre, true), maxVUs: positive('maxVUs', max, true) };
}

/**
 * Closed model: `vus` virtual users, each running iterations back to back for `duration`.
 *
 * @example constantVUs({ vus: 10, duration: '30s' })
 */
export function constantVUs(o: { vus: number; duration: Duration }): ConstantVUsConfig {
  return { type: 'constant-vus', vus: positive('vus', o.vus, true), durationMs: positive('duration', toMs(o.duration)) };
}

/**
 * Closed model with a VU count moving linearly through stages (VUs above the target finish
 * their current iteration, then stop).
 *
 * @example rampingVUs({ startVUs: 1, stages: [{ duration: '10s', target: 20 }, { duration: '10s', target: 0 }] })
 */
export function rampingVUs(o: { startVUs?: number; stages: readonly Stage[] }): RampingVUsConfig {
  return { type: 'ramping-vus', startVUs: o.startVUs ?? 0, stages: stages(o.stages) };
}

/**
 * `requests` iterations started at the same instant behind a barrier (concurrency scenarios:
 * N claims for M tasks, N reservations at once). Every outcome is kept in the result.
 *
 * @example burst({ requests: 50 })
 */
export function burst(o: { requests: number }): BurstConfig {
  return { type: 'burst', requests: positive('requests', o.requests, true) };
}

/** Total planned duration of an executor in ms (0 for a burst). */
export function plannedDurationMs(e: ExecutorConfig): number {
  switch (e.type) {
    case 'constant-arrival-rate':
    case 'constant-vus':
      return e.durationMs;
    case 'ramping-arrival-rate':
    case 'ramping-vus':
      return e.stages.reduce((a, s) => a + s.durationMs, 0);
    case 'burst':
      return 0;
  }
}

/** The target rate in iterations per second for open models, or null. */
export function targetRps(e: ExecutorConfig): number | null {
  if (e.type === 'constant-arrival-rate') return (e.rate * 1000) / e.timeUnitMs;
  if (e.type === 'ramping-arrival-rate') {
    const d = plannedDurationMs(e);
    return d === 0 ? 0 : (totalArrivals(e) * 1000) / d;
  }
  return null;
}

/** Total planned iterations of an arrival-rate executor. */
export function totalArrivals(e: ConstantArrivalRateConfig | RampingArrivalRateConfig): number {
  if (e.type === 'constant-arrival-rate') return Math.floor((e.rate * e.durationMs) / e.timeUnitMs + 1e-9);
  let prev = e.startRate;
  let sum = 0;
  for (const s of e.stages) {
    sum += ((prev + s.target) / 2) * (s.durationMs / e.timeUnitMs);
    prev = s.target;
  }
  return Math.floor(sum + 1e-9);
}

/**
 * Intended start offsets (ms from the scenario start) of every iteration of an arrival-rate
 * executor, in order: iteration i starts when the integral of the rate reaches i.
 */
export function* arrivalOffsets(e: ConstantArrivalRateConfig | RampingArrivalRateConfig): Generator<number> {
  const total = totalArrivals(e);
  if (e.type === 'constant-arrival-rate') {
    const gap = e.timeUnitMs / e.rate;
    for (let i = 0; i < total; i++) yield i * gap;
    return;
  }
  let i = 0;
  let base = 0; // arrivals before this stage
  let t0 = 0; // stage start (ms)
  let r0 = e.startRate / e.timeUnitMs; // per ms
  for (const s of e.stages) {
    const r1 = s.target / e.timeUnitMs;
    const D = s.durationMs;
    const inStage = ((r0 + r1) / 2) * D;
    const k = D === 0 ? 0 : (r1 - r0) / (2 * D);
    while (i < total && i - base < inStage - 1e-9) {
      const x = i - base;
      const t = Math.abs(k) < 1e-15 ? x / r0 : (-r0 + Math.sqrt(r0 * r0 + 4 * k * x)) / (2 * k);
      yield t0 + t;
      i++;
    }
    base += inStage;
    t0 += D;
    r0 = r1;
  }
}

/** VU target of a ramping-vus executor at `tMs` (linear within a stage). */
export function vusAt(e: RampingVUsConfig, tMs: number): number {
  let prev = e.startVUs;
  let t0 = 0;
  for (const s of e.stages) {
    if (tMs < t0 + s.durationMs) return s.durationMs === 0 ? s.target : prev + ((s.target - prev) * (tMs - t0)) / s.durationMs;
    t0 += s.durationMs;
    prev = s.target;
  }
  return prev;
}

/** Largest VU count of a ramping-vus executor. */
export function maxVusOf(e: RampingVUsConfig): number {
  return Math.ceil(Math.max(e.startVUs, ...e.stages.map((s) => s.target)));
}
