import { describe, expect, it } from 'vitest';
import { cpuShareOf, processUsage } from './process-usage.js';

describe('processUsage', () => {
  it('reads this process: its CPU time agrees with process.cpuUsage() and its RSS with process.memoryUsage()', async () => {
    const t0 = performance.now();
    while (performance.now() - t0 < 300); // burn some CPU so the tick count is not zero
    const own = process.cpuUsage();
    const usage = await processUsage(process.pid);
    const seconds = (own.user + own.system) / 1e6;
    // Ticks are 10 ms: the two readings agree to a few ticks.
    expect(Math.abs(usage.cpuSeconds - seconds)).toBeLessThan(0.1);
    expect(usage.rssBytes / process.memoryUsage().rss).toBeGreaterThan(0.8);
    expect(usage.rssBytes / process.memoryUsage().rss).toBeLessThan(1.2);
  });

  it('throws naming a process that is not there, instead of reading zero', async () => {
    await expect(processUsage(2 ** 30)).rejects.toThrow(/process 1073741824 cannot be read/);
  });
});

describe('cpuShareOf', () => {
  it('is the CPU used over the wall time and all cores', () => {
    const before = [{ pid: 1, cpuSeconds: 10, rssBytes: 0, at: 0 }, { pid: 2, cpuSeconds: 5, rssBytes: 0, at: 0 }];
    const after = [{ pid: 1, cpuSeconds: 11, rssBytes: 0, at: 2000 }, { pid: 2, cpuSeconds: 5.6, rssBytes: 0, at: 2000 }];
    expect(cpuShareOf(before, after, 2)).toBeCloseTo(0.4, 6);
  });

  it('refuses readings of different processes', () => {
    expect(() => cpuShareOf([{ pid: 1, cpuSeconds: 0, rssBytes: 0, at: 0 }], [{ pid: 2, cpuSeconds: 1, rssBytes: 0, at: 1 }])).toThrow(/process 2, not 1/);
  });
});
