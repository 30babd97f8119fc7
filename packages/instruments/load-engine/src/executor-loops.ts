import { performance } from 'node:perf_hooks';
import { setImmediate as yieldToLoop, setTimeout as sleepMs } from 'node:timers/promises';
import { arrivalOffsets, maxVusOf, vusAt, type ConstantArrivalRateConfig, type ExecutorConfig, type RampingArrivalRateConfig } from './executors.js';
import { iterate } from './iteration.js';
import { makeVu, settle, type ScenarioRun, type Vu } from './scenario-run.js';
import { indexRange, ownsIndex, scaleVus } from './segment.js';
import { VuPool } from './vu-pool.js';

/**
 * Open model: starts each owned iteration of the schedule at its intended time on a free VU,
 * or counts it as dropped when all `maxVUs` are busy; never waits for earlier iterations.
 */
async function runArrival(r: ScenarioRun, e: ConstantArrivalRateConfig | RampingArrivalRateConfig): Promise<Vu[]> {
  const pool = new VuPool(scaleVus(r.segment, e.preAllocatedVUs), scaleVus(r.segment, e.maxVUs), (i) => makeVu(r, i));
  const inflight = new Set<Promise<void>>();
  const t0 = performance.now();
  let index = -1;
  let firedSinceYield = 0;
  for (const offset of arrivalOffsets(e)) {
    index++;
    if (!ownsIndex(r.segment, index)) continue;
    if (r.stopped) break;
    const due = t0 + offset;
    const wait = due - performance.now();
    if (wait >= 1) {
      await sleepMs(wait);
      firedSinceYield = 0;
    } else if (++firedSinceYield >= 64) {
      // Catching up on a backlog: let responses be processed between batches.
      await yieldToLoop();
      firedSinceYield = 0;
    }
    const vu = pool.acquire();
    if (!vu) {
      r.recorder?.drop(due);
      continue;
    }
    r.busy++;
    const p = iterate(r, vu, index, due).finally(() => {
      r.busy--;
      pool.release(vu);
      inflight.delete(p);
    });
    inflight.add(p);
  }
  await settle(r, inflight);
  return pool.all;
}

/** Closed model: each owned VU runs iterations back to back (ramping: while its number is under the target). */
async function runVus(r: ScenarioRun, e: ExecutorConfig & { type: 'constant-vus' | 'ramping-vus' }): Promise<Vu[]> {
  const total = e.type === 'constant-vus' ? e.vus : maxVusOf(e);
  const durationMs = e.type === 'constant-vus' ? e.durationMs : e.stages.reduce((a, s) => a + s.durationMs, 0);
  const owned: number[] = [];
  if (e.type === 'constant-vus') {
    const [from, to] = indexRange(r.segment, total);
    for (let v = from; v < to; v++) owned.push(v);
  } else {
    for (let v = 0; v < total; v++) if (ownsIndex(r.segment, v)) owned.push(v);
  }
  const t0 = performance.now();
  const end = t0 + durationMs;
  const vus = owned.map((v) => makeVu(r, v));
  // Each loop awaits its own iteration, so no per-iteration bookkeeping (a Set of promises
  // costs two hash operations a request); the graceful stop is applied to the loops at the end.
  const loops = vus.map(async (vu, i) => {
    const global = owned[i] as number;
    let n = 0;
    for (;;) {
      const now = performance.now();
      if (now >= end || r.stopped) return;
      if (e.type === 'ramping-vus' && global >= Math.round(vusAt(e, now - t0))) {
        await sleepMs(Math.min(50, end - now));
        continue;
      }
      r.busy++;
      vu.busy = true;
      await iterate(r, vu, n++, performance.now());
      vu.busy = false;
      r.busy--;
    }
  });
  const all = Promise.all(loops);
  const untilEnd = new AbortController();
  await Promise.race([all, sleepMs(Math.max(0, end - performance.now()), undefined, { signal: untilEnd.signal }).catch(() => undefined)]);
  untilEnd.abort();
  await settle(r, new Set([all.then(() => undefined)]));
  return vus;
}

/** Burst: every owned request waits behind one barrier, released at one instant. */
async function runBurst(r: ScenarioRun, requests: number): Promise<Vu[]> {
  const [from, to] = indexRange(r.segment, requests);
  const vus: Vu[] = [];
  let release!: (at: number) => void;
  const gate = new Promise<number>((resolve) => (release = resolve));
  const all: Array<Promise<void>> = [];
  for (let i = from; i < to; i++) {
    const vu = makeVu(r, i);
    vus.push(vu);
    all.push(gate.then((at) => iterate(r, vu, i, at)));
  }
  await yieldToLoop();
  r.busy = to - from;
  release(performance.now());
  const inflight = new Set(all);
  await settle(r, inflight);
  r.busy = 0;
  return vus;
}

/** Runs the executor's schedule to its end (or a stop) and returns the VUs it used. */
export function runExecutor(r: ScenarioRun, e: ExecutorConfig): Promise<Vu[]> {
  switch (e.type) {
    case 'constant-arrival-rate':
    case 'ramping-arrival-rate':
      return runArrival(r, e);
    case 'constant-vus':
    case 'ramping-vus':
      return runVus(r, e);
    case 'burst':
      return runBurst(r, e.requests);
  }
}
