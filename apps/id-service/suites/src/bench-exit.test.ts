import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runBench, type BenchSuite } from '@crucible/benchmarks';
import { EXIT } from '@crucible/reporting';
import { afterAll, describe, expect, it } from 'vitest';
import { benchExit } from './bench-exit.js';

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

// Busy-waits: a preempted iteration only gets slower, so medians stay near `ms` under load.
const spin = (ms: number) => {
  const end = performance.now() + ms;
  while (performance.now() < end);
};
const suite = (ms: number, names = ['work', 'other']): BenchSuite => ({ name: 'exit', time: 120, warmupTime: 20, iterations: 30, tasks: names.map((name) => ({ name, fn: () => spin(name === 'work' ? ms : 0.2) })) });

describe('bench exit codes', () => {
  it('a regression exits 3, a task gone from the run 1, a slowdown only an overloaded machine saw 4, a clean run 0', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-exit-'));
    dirs.push(dir);
    const options = { project: 'demo', reportsDir: dir, baselinePath: path.join(dir, 'b.json'), settleMs: 0, loadPerCpu: () => 0.5 };
    await runBench(suite(0.2), { ...options, saveBaseline: true });
    expect(benchExit[(await runBench(suite(0.2), options)).status]).toBe(EXIT.ok);
    // What bench.ts exits with on a 3× slower task: the documented regression code, not 1.
    expect(benchExit[(await runBench(suite(0.6), options)).status]).toBe(3);
    expect(EXIT.regression).toBe(3);
    expect(benchExit[(await runBench(suite(0.2, ['work']), options)).status]).toBe(EXIT.failed);
    expect(benchExit[(await runBench(suite(0.6), { ...options, loadPerCpu: () => 9 })).status]).toBe(EXIT.inconclusive);
  });
});
