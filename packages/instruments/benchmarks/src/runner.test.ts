import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runReportSchema } from '@crucible/contracts';
import { afterAll, describe, expect, it } from 'vitest';
import { parseBenchArgs } from './args.js';
import { readBaseline } from './baseline.js';
import { runBench, type BenchSuite } from './runner.js';

// Busy-waits for `ms` of wall time: a preempted iteration only gets slower, so the median
// of a loaded machine stays near `ms`, which keeps these tests reliable under load.
const spin = (ms: number) => {
  const end = performance.now() + ms;
  while (performance.now() < end);
};

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

async function tmp(): Promise<string> {
  const d = await mkdtemp(path.join(os.tmpdir(), 'bench-test-'));
  dirs.push(d);
  return d;
}

const suite = (workMs: number): BenchSuite => ({
  name: 'spin',
  time: 150,
  warmupTime: 20,
  iterations: 30,
  tolerance: 0.25,
  tasks: [
    { name: 'work', fn: () => spin(workMs) },
    { name: 'steady', fn: () => spin(0.2) },
  ],
});

describe('runBench', () => {
  it('saves a baseline, passes an equal run, and fails a run whose task got 3× slower', async () => {
    const dir = await tmp();
    // The test must not depend on how busy the machine is: the load guard has its own test.
    const options = { project: 'demo', reportsDir: path.join(dir, 'reports'), baselinePath: path.join(dir, 'baselines', 'bench.json'), loadPerCpu: () => 0.5 };

    const first = await runBench(suite(0.2), { ...options, saveBaseline: true });
    expect(first.hadBaseline).toBe(false);
    expect(first.passed).toBe(true);
    const baseline = await readBaseline(options.baselinePath);
    expect(Object.keys(baseline?.tasks ?? {})).toEqual(['work', 'steady']);
    expect(baseline?.tasks['work']?.median_ms).toBeGreaterThanOrEqual(0.2);

    const same = await runBench(suite(0.2), options);
    expect(same.hadBaseline).toBe(true);
    expect(same.comparisons.map((c) => c.verdict)).toEqual(['unchanged', 'unchanged']);
    expect(same.passed).toBe(true);

    const slower = await runBench(suite(0.6), options);
    expect(slower.comparisons.find((c) => c.name === 'work')?.verdict).toBe('regressed');
    expect(slower.comparisons.find((c) => c.name === 'steady')?.verdict).toBe('unchanged');
    expect(slower.passed).toBe(false);
    expect(slower.status).toBe('regressed');
    // A quiet machine: measured once, no second look.
    expect(slower.measurements).toHaveLength(1);

    const report = runReportSchema.parse(JSON.parse(await readFile(path.join(dir, 'reports', 'demo', 'bench.json'), 'utf8')));
    // No task failed: the run's failure is the regression (EXIT.regression), as the shared exit codes read it.
    expect(report.passed).toBe(true);
    expect(report.run.target).toBe('bench');
    expect(report.comparison?.regressed).toBe(true);
    expect(report.comparison?.figures.find((f) => f.scenario === 'work')).toMatchObject({ figure: 'latency_ms.p50', worse_when: 'higher', regressed: true });
    expect(report.comparison?.figures.find((f) => f.scenario === 'steady')?.regressed).toBe(false);
    const work = report.scenarios.find((s) => s.name === 'work');
    expect(work?.verdicts[0]?.status).toBe('fail');
    expect(work?.latency_ms?.p50).toBeGreaterThanOrEqual(0.6);
    const md = await readFile(path.join(dir, 'reports', 'demo', 'bench.md'), 'utf8');
    expect(md).toContain('REGRESSED');
    expect(md).toMatch(/\| work \|.*regressed/);
  });

  it('measures a regression seen on a loaded machine again: a quiet re-measure that still regresses fails', async () => {
    const dir = await tmp();
    const options = { project: 'demo', reportsDir: dir, baselinePath: path.join(dir, 'b.json'), settleMs: 0 };
    await runBench(suite(0.2), { ...options, saveBaseline: true, loadPerCpu: () => 0.5 });
    // Loaded for the first measurement (read before and after it), quiet afterwards.
    let reads = 0;
    const outcome = await runBench(suite(0.6), { ...options, loadPerCpu: () => (++reads <= 2 ? 9 : 0.5) });
    expect(outcome.measurements.map((m) => m.tasks)).toEqual([['work', 'steady'], ['work']]);
    expect(outcome.measurements.map((m) => m.load_per_cpu)).toEqual([9, 0.5]);
    expect(outcome.comparisons.find((c) => c.name === 'work')?.verdict).toBe('regressed');
    expect(outcome.status).toBe('regressed');
    expect(outcome.markdown).toContain('measured again: work at load 0.5');
  });

  it('drops a slowdown the loaded machine alone caused when the re-measure is unchanged', async () => {
    const dir = await tmp();
    const options = { project: 'demo', reportsDir: dir, baselinePath: path.join(dir, 'b.json'), settleMs: 0 };
    await runBench(suite(0.2), { ...options, saveBaseline: true, loadPerCpu: () => 0.5 });
    // The "contention" makes `work` slow during the first measurement only.
    let reads = 0;
    let workMs = 0.6;
    const transient: BenchSuite = { ...suite(0.2), tasks: [{ name: 'work', fn: () => spin(workMs) }, { name: 'steady', fn: () => spin(0.2) }] };
    const outcome = await runBench(transient, {
      ...options,
      loadPerCpu: () => {
        if (++reads === 2) workMs = 0.2;
        return 9;
      },
    });
    expect(outcome.measurements).toHaveLength(2);
    expect(outcome.comparisons.find((c) => c.name === 'work')?.verdict).toBe('unchanged');
    expect(outcome.status).toBe('passed');
  });

  it('calls a regression the machine stayed overloaded for inconclusive after the bounded re-measures, naming every load figure', async () => {
    const dir = await tmp();
    const options = { project: 'demo', reportsDir: dir, baselinePath: path.join(dir, 'b.json'), settleMs: 0 };
    await runBench(suite(0.2), { ...options, saveBaseline: true, loadPerCpu: () => 0.5 });
    // Read before and after each measurement and once by each (zero-length) settle wait.
    let reads = 0;
    const busy = await runBench(suite(0.6), { ...options, loadPerCpu: () => [9, 8, 7, 6, 5, 4][reads++] ?? 3 });
    expect(busy.measurements.map((m) => m.load_per_cpu)).toEqual([9, 6, 3]);
    const work = busy.comparisons.find((c) => c.name === 'work');
    expect(work?.verdict).toBe('inconclusive');
    expect(work?.reason).toContain('overloaded through 3 measurements (load 9.0, 6.0, 3.0 per CPU > 2)');
    expect(busy.status).toBe('inconclusive');
    expect(busy.passed).toBe(false);
    expect(busy.markdown).toContain('INCONCLUSIVE');
  });

  it('fails naming a task of the baseline the run no longer measures, unless a new baseline retires it', async () => {
    const dir = await tmp();
    const options = { project: 'demo', reportsDir: dir, baselinePath: path.join(dir, 'b.json'), loadPerCpu: () => 0.5 };
    await runBench(suite(0.2), { ...options, saveBaseline: true });
    const fewer: BenchSuite = { ...suite(0.2), tasks: suite(0.2).tasks.filter((t) => t.name === 'work') };
    const outcome = await runBench(fewer, options);
    expect(outcome.status).toBe('failed');
    expect(outcome.missing).toEqual(['steady']);
    expect(outcome.markdown).toContain('Not measured, though in the baseline: steady');
    expect(outcome.report.passed).toBe(false);
    const row = outcome.report.scenarios.find((s) => s.name === 'steady');
    expect(row?.passed).toBe(false);
    expect(row?.verdicts[0]?.summary).toContain('missing: steady is in the baseline');
    const retired = await runBench(fewer, { ...options, saveBaseline: true });
    expect(retired.status).toBe('passed');
    expect(Object.keys((await readBaseline(options.baselinePath))?.tasks ?? {})).toEqual(['work']);
  });

  it('fails a run whose task throws, naming the error', async () => {
    const dir = await tmp();
    const outcome = await runBench(
      { name: 'broken', time: 20, warmupTime: 0, iterations: 5, tasks: [{ name: 'boom', fn: () => { throw new Error('kaput'); } }] },
      { project: 'demo', reportsDir: dir, baselinePath: path.join(dir, 'b.json') },
    );
    expect(outcome.passed).toBe(false);
    expect(outcome.run.errors['boom']).toContain('kaput');
    expect(outcome.markdown).toContain('kaput');
  });
});

describe('parseBenchArgs', () => {
  it('reads --save-baseline, --tolerance and the env switch, and names a bad flag', () => {
    expect(parseBenchArgs([])).toEqual({ saveBaseline: false });
    expect(parseBenchArgs(['--save-baseline', '--tolerance=0.4'])).toEqual({ saveBaseline: true, tolerance: 0.4 });
    expect(parseBenchArgs([], { BENCH_SAVE_BASELINE: '1' })).toEqual({ saveBaseline: true });
    expect(() => parseBenchArgs(['--tolerance=lots'])).toThrow(/--tolerance/);
    expect(() => parseBenchArgs(['--fast'])).toThrow(/'--fast'[\s\S]*--save-baseline[\s\S]*--tolerance=<ratio>/);
    expect(() => parseBenchArgs(['--tolerance=11'])).toThrow('--tolerance must be a number from 0 to 10, not "11"');
    expect(() => parseBenchArgs(['--tolerance'])).toThrow(/--tolerance/);
  });

  it('lets an explicit flag beat BENCH_SAVE_BASELINE, refuses a malformed one, and answers --help', () => {
    expect(parseBenchArgs(['--no-save-baseline'], { BENCH_SAVE_BASELINE: '1' })).toEqual({ saveBaseline: false });
    expect(parseBenchArgs(['--save-baseline'], { BENCH_SAVE_BASELINE: 'nope' })).toEqual({ saveBaseline: true });
    expect(() => parseBenchArgs([], { BENCH_SAVE_BASELINE: 'yes please' })).toThrow(/BENCH_SAVE_BASELINE/);
    expect(parseBenchArgs(['--tolerance=x', '--help']).help).toBe(true);
  });
});
