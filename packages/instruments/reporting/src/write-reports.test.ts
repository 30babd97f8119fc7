import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { runReportSchema } from '@crucible/contracts';
import { afterEach, describe, expect, it } from 'vitest';
import { latencies, runFrom, scenarioFrom } from '../tests/report-fixture.js';
import { createBaseline, saveBaseline } from './baseline.js';
import { EXIT } from './exit-codes.js';
import { finishRun, runSuite } from './write-reports.js';

const sink = (): Writable & { text: string } => {
  const w = new Writable({
    write(chunk: Buffer, _enc, cb) {
      w.text += chunk.toString();
      cb();
    },
  }) as Writable & { text: string };
  w.text = '';
  return w;
};

afterEach(() => {
  process.exitCode = 0;
});

describe('suite endings', () => {
  it('a crash writes a crash report in every form and exits 2', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'crucible-crash-'));
    const out = sink();
    const code = await runSuite({ suite: 'crashy', project: 'p', target: 'stress' }, async () => {
      throw new Error('database never came up');
    }, { dir, out, stepSummary: false });
    expect(code).toBe(EXIT.crash);
    const report = runReportSchema.parse(JSON.parse(await readFile(path.join(dir, 'p', 'stress.json'), 'utf8')));
    expect(report.crash).toBe('Error: database never came up');
    expect(await readFile(path.join(dir, 'p', 'stress.xml'), 'utf8')).toMatch(/<error message="Error: database never came up" type="crash"\/>/);
    expect(await readFile(path.join(dir, 'p', 'stress.md'), 'utf8')).toMatch(/Crashed/);
    expect(out.text).toMatch(/crashy crashed: Error: database never came up/);
  });

  it('with a baseline file, a slower run exits 3 and names the figure; without one it says how to make it', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'crucible-finish-'));
    const run = (center: number, seed: number) => runFrom([scenarioFrom('next id', [latencies(300, center, 2, seed)], { thresholdExpressions: ['p(99)<1000'] })]);
    const baseline = path.join(dir, 'baselines', 'stress.json');
    const out = sink();
    expect(await finishRun(run(10, 1), { dir, out, baseline, stepSummary: false })).toBe(EXIT.ok);
    expect(out.text).toMatch(/no baseline at .*baseline save/);
    await saveBaseline(createBaseline([run(10, 1), run(10, 2), run(10, 3)]), baseline);
    expect(await finishRun(run(10, 4), { dir, out: null, baseline, stepSummary: false })).toBe(EXIT.ok);
    const slow = sink();
    expect(await finishRun(run(25, 5), { dir, out: slow, baseline, stepSummary: false })).toBe(EXIT.regression);
    expect(slow.text).toMatch(/next id: latency_ms\.p50 regressed/);
    const html = await readFile(path.join(dir, 'fixture', 'stress.html'), 'utf8');
    expect(html).toMatch(/Baseline .* — regressed/);
  });
});
