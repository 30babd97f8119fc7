import { describe, expect, it } from 'vitest';
import { classifyGenerator, mergeGenerators, STARVATION_BOUNDS, startGeneratorMonitor, type GeneratorMeasurement } from './starvation.js';

const quiet: GeneratorMeasurement = { lagP99Ms: 1.2, loopDelayP99Ms: 2, loopDelayMaxMs: 6, cpuShare: 0.85, cpuCores: 0.2, loadPerCore: 0.6 };

describe('classifyGenerator', () => {
  it('is not starved inside every bound, and names each bound a figure goes past', () => {
    expect(classifyGenerator(quiet)).toMatchObject({ starved: false, reason: null });
    expect(classifyGenerator({ ...quiet, loopDelayP99Ms: STARVATION_BOUNDS.loopDelayP99Ms + 1 })).toMatchObject({ starved: true, reason: expect.stringContaining('event-loop delay p99 51 ms > 50 ms') });
    expect(classifyGenerator({ ...quiet, lagP99Ms: 140 })).toMatchObject({ starved: true, reason: 'start lag p99 140 ms > 100 ms' });
    // At the bound is still inside it.
    expect(classifyGenerator({ ...quiet, loopDelayP99Ms: 50, lagP99Ms: 100, cpuShare: 0.5 }).starved).toBe(false);
  });

  it('a short CPU share makes it starved only once it shows in the timing (the system under test shares the cores)', () => {
    // Measured: POST /tasks at 1000/s on a quiet machine got 44 % of the CPU it asked for and kept time within 5 ms.
    expect(classifyGenerator({ ...quiet, cpuShare: 0.44, lagP99Ms: 3.5, loopDelayP99Ms: 5 }).starved).toBe(false);
    expect(classifyGenerator({ ...quiet, cpuShare: 0.45, lagP99Ms: 14.7, loopDelayP99Ms: 6.2 })).toMatchObject({
      starved: true,
      reason: 'CPU share 45 % < 50 % of what it asked for, with event-loop delay p99 6.2 ms and start lag p99 14.7 ms (> 10 ms)',
    });
    expect(classifyGenerator({ ...quiet, cpuShare: 0.45, lagP99Ms: null, loopDelayP99Ms: 12 }).starved).toBe(true);
    // Under 40 % it is starved even with the timing kept: measured, GET /tasks/next at 100/s under a 2-thread hog got 33 %.
    expect(classifyGenerator({ ...quiet, cpuShare: 0.33, lagP99Ms: 3.7, loopDelayP99Ms: 4.8 })).toMatchObject({ starved: true, reason: 'CPU share 33 % < 40 % of what it asked for' });
    expect(classifyGenerator({ ...quiet, cpuShare: 0.4, lagP99Ms: 3.7, loopDelayP99Ms: 4.8 }).starved).toBe(false);
    expect(classifyGenerator({ ...quiet, cpuShare: 0.6, lagP99Ms: 40, loopDelayP99Ms: 30 }).starved).toBe(false);
  });

  it('never decides on the load average alone, and skips what it could not measure', () => {
    expect(classifyGenerator({ ...quiet, loadPerCore: 9 }).starved).toBe(false);
    expect(classifyGenerator({ ...quiet, lagP99Ms: null, cpuShare: null }).starved).toBe(false);
  });

  it('judges a burst by its CPU share only: it blocks its own loop and starts late by design', () => {
    expect(classifyGenerator({ ...quiet, loopDelayP99Ms: 300, lagP99Ms: 400, cpuShare: 0.36 }, { burst: true }).starved).toBe(false);
    expect(classifyGenerator({ ...quiet, cpuShare: 0.2 }, { burst: true })).toMatchObject({ starved: true, reason: 'CPU share 20 % < 25 % of what it asked for' });
  });
});

describe('mergeGenerators', () => {
  it('takes the worst segment: starved if any was', () => {
    const a = classifyGenerator(quiet);
    const b = classifyGenerator({ ...quiet, loopDelayP99Ms: 80, cpuShare: 0.7 });
    const m = mergeGenerators([a, b], 3);
    expect(m).toMatchObject({ starved: true, loopDelayP99Ms: 80, cpuShare: 0.7, lagP99Ms: 3 });
    expect(mergeGenerators([a, a], 3)?.starved).toBe(false);
    expect(mergeGenerators([], null)).toBeUndefined();
  });
});

describe('startGeneratorMonitor', () => {
  it('sees its own thread blocked: a 150 ms busy wait is event-loop delay', async () => {
    const m = startGeneratorMonitor();
    await new Promise((r) => setTimeout(r, 50));
    const end = performance.now() + 150;
    while (performance.now() < end) {
      // a blocked loop, as a starved or saturated generator has
    }
    await new Promise((r) => setTimeout(r, 50));
    const figures = m.stop(null);
    expect(figures.loopDelayMaxMs).toBeGreaterThan(100);
    expect(figures.cpuCores).toBeGreaterThan(0);
    expect(classifyGenerator(figures).starved).toBe(true);
  });
});
