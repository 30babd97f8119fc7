import { describe, expect, it } from 'vitest';
import { toMs } from './duration.js';
import { arrivalOffsets, constantArrivalRate, rampingArrivalRate, rampingVUs, targetRps, totalArrivals, vusAt } from './executors.js';

describe('durations', () => {
  it('reads ms, s, m, h and combinations, and names a bad one', () => {
    expect(toMs('500ms')).toBe(500);
    expect(toMs('1m30s')).toBe(90_000);
    expect(toMs(250)).toBe(250);
    expect(() => toMs('10 sec')).toThrow(/"10 sec" is not valid/);
  });
});

describe('arrival schedules', () => {
  it('constant arrival rate spaces iterations evenly: 100/s for 2 s is 200 starts 10 ms apart', () => {
    const offsets = [...arrivalOffsets(constantArrivalRate({ rate: 100, duration: '2s' }))];
    expect(offsets).toHaveLength(200);
    expect(offsets[1]).toBeCloseTo(10);
    expect(offsets.at(-1)).toBeCloseTo(1990);
  });

  it('ramping arrival rate integrates the rate: 0 → 100/s over 2 s is 100 starts, denser at the end', () => {
    const e = rampingArrivalRate({ startRate: 0, stages: [{ duration: '2s', target: 100 }] });
    const offsets = [...arrivalOffsets(e)];
    expect(totalArrivals(e)).toBe(100);
    expect(offsets).toHaveLength(100);
    expect(targetRps(e)).toBe(50);
    // Half the arrivals of a linear ramp happen in its last 29 % (t = √0.5 × 2 s ≈ 1414 ms).
    expect(offsets[50]).toBeGreaterThan(1400);
    expect(offsets[50]).toBeLessThan(1430);
    for (let i = 1; i < offsets.length; i++) expect(offsets[i]).toBeGreaterThan(offsets[i - 1] as number);
  });

  it('ramping through a plateau and down keeps every stage', () => {
    const e = rampingArrivalRate({ startRate: 10, stages: [{ duration: '1s', target: 10 }, { duration: '1s', target: 0 }] });
    const offsets = [...arrivalOffsets(e)];
    expect(offsets).toHaveLength(15);
    expect(offsets.filter((t) => t >= 1000)).toHaveLength(5);
  });

  it('rejects impossible settings with a message naming them', () => {
    expect(() => constantArrivalRate({ rate: 0, duration: '1s' })).toThrow(/rate must be a positive/);
    expect(() => constantArrivalRate({ rate: 10, duration: '1s', preAllocatedVUs: 10, maxVUs: 5 })).toThrow(/maxVUs \(5\) must be >= preAllocatedVUs \(10\)/);
  });

  it('ramping VUs interpolate linearly between stages', () => {
    const e = rampingVUs({ startVUs: 0, stages: [{ duration: '10s', target: 10 }, { duration: '10s', target: 10 }] });
    expect(vusAt(e, 0)).toBe(0);
    expect(vusAt(e, 5000)).toBe(5);
    expect(vusAt(e, 15_000)).toBe(10);
  });
});
