import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runReportSchema } from '@crucible/contracts';
import { describe, expect, it } from 'vitest';
import { latencies, runFrom, scenarioFrom } from '../tests/report-fixture.js';

const CLI = fileURLToPath(new URL('./cli.ts', import.meta.url));

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--conditions=@crucible/source', '--import', 'tsx', CLI, ...args], { cwd: path.dirname(CLI) }, (error, stdout, stderr) =>
      resolve({ code: error ? Number((error as { code?: number }).code ?? 2) : 0, stdout, stderr }),
    );
  });
}

const STARVED = { lag_p99_ms: 140, loop_delay_p99_ms: 62, loop_delay_max_ms: 300, cpu_share: 0.41, cpu_cores: 0.3, load_per_core: 2.1, starved: true, reason: 'event-loop delay p99 62 ms > 50 ms' };

/** A run report whose one threshold passes, fails, or (`'starved'`) is inconclusive. */
async function writeReport(dir: string, project: string, target: string, passed: boolean | 'starved'): Promise<void> {
  const s = scenarioFrom(`${project} main`, [latencies(50, 10, 5)], { thresholdExpressions: [passed === false ? 'p(99)<1' : 'p(99)<1000'], ...(passed === 'starved' ? { generator: STARVED } : {}) });
  const report = runFrom([s], { project, target, suite: `${project} ${target}` });
  await mkdir(path.join(dir, project), { recursive: true });
  await writeFile(path.join(dir, project, `${target}.json`), JSON.stringify(report));
}

// Each case starts the CLI (node + tsx) several times: slow on a loaded machine.
describe('report CLI', { timeout: 90_000 }, () => {
  it('merge combines every run report into reports/combined.* and exits 1 when one run failed', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'crucible-merge-'));
    await writeReport(dir, '@crucible/id-service-suites', 'stress', true);
    await writeReport(dir, 'task-api-suites', 'stress', false);
    await writeFile(path.join(dir, 'not-a-report.json'), '{"hello": 1}');
    const { code, stdout } = await cli(['merge', '--dir', dir]);
    expect(code).toBe(1);
    expect(stdout).toMatch(/merged 2 run report\(s\)/);
    const combined = runReportSchema.parse(JSON.parse(await readFile(path.join(dir, 'combined.json'), 'utf8')));
    expect(combined.passed).toBe(false);
    expect(combined.scenarios.map((s) => s.source)).toEqual(['@crucible/id-service-suites/stress', 'task-api-suites/stress']);
    for (const ext of ['md', 'xml', 'html']) expect(await readFile(path.join(dir, `combined.${ext}`), 'utf8')).toContain('task-api-suites/stress');

    // Merging again does not swallow its own output.
    expect((await cli(['merge', '--dir', dir])).stdout).toMatch(/merged 2 run report\(s\)/);

    // A report that does not validate is named and skipped, and the merge exits 2 (a broken suite).
    await writeFile(path.join(dir, 'broken.json'), JSON.stringify({ schema_version: 1, scenarios: 'nope' }));
    const broken = await cli(['merge', '--dir', dir]);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/not a valid run report \(skipped\): .*broken\.json/);
    expect(broken.stdout).toMatch(/merged 2 run report\(s\)/);
  });

  it('merge exits 0 when every run passed, and 2 when there is nothing to merge', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'crucible-merge-'));
    expect((await cli(['merge', '--dir', dir])).code).toBe(2);
    await writeReport(dir, 'a', 'stress', true);
    expect((await cli(['merge', '--dir', dir])).code).toBe(0);
  });

  it('merge exits 4 when a run is only inconclusive (a starved load generator), and 1 once another run failed', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'crucible-merge-'));
    await writeReport(dir, 'a', 'stress', true);
    await writeReport(dir, 'b', 'stress', 'starved');
    const merged = await cli(['merge', '--dir', dir]);
    expect(merged.code).toBe(4);
    expect(merged.stdout).toMatch(/INCONCLUSIVE/);
    expect(merged.stdout).toContain('b main: threshold p(99)<1000 inconclusive: load generator starved (event-loop delay p99 62 ms, lag p99 140 ms, CPU share 41 %, load 2.1 per core)');
    const combined = runReportSchema.parse(JSON.parse(await readFile(path.join(dir, 'combined.json'), 'utf8')));
    expect(combined).toMatchObject({ passed: false, status: 'inconclusive' });
    expect(await readFile(path.join(dir, 'combined.xml'), 'utf8')).toMatch(/<testsuites [^>]*skipped="1"/);
    await writeReport(dir, 'c', 'stress', false);
    expect((await cli(['merge', '--dir', dir])).code).toBe(1);
  });

  it('merge --only stress leaves older reports of other targets out', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'crucible-merge-'));
    await writeReport(dir, 'a', 'stress', true);
    await writeReport(dir, 'a', 'resilience', false);
    const all = await cli(['merge', '--dir', dir]);
    expect(all.code).toBe(1);
    const only = await cli(['merge', '--dir', dir, '--only', 'stress']);
    expect(only.code).toBe(0);
    expect(only.stdout).toMatch(/merged 1 run report\(s\): a\/stress\.json/);
  });

  it('baseline save + compare exits 3 on a regression and names the figure', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'crucible-cmp-'));
    const at = async (name: string, center: number): Promise<string> => {
      const file = path.join(dir, 'runs', `${name}.json`);
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, JSON.stringify(runFrom([scenarioFrom('s', [latencies(200, center, 2, center)])])));
      return file;
    };
    const base = path.join(dir, 'baseline.json');
    expect((await cli(['baseline', 'save', await at('b1', 10), await at('b2', 10.2), '--out', base])).code).toBe(0);
    expect((await cli(['compare', '--baseline', base, await at('c1', 10.1)])).code).toBe(0);
    const worse = await cli(['compare', '--baseline', base, await at('c2', 30), '--write']);
    expect(worse.code).toBe(3);
    expect(worse.stdout).toMatch(/regressed: s latency_ms\.p50/);
    const rewritten = runReportSchema.parse(JSON.parse(await readFile(path.join(dir, 'runs', 'c2.json'), 'utf8')));
    expect(rewritten.comparison?.regressed).toBe(true);
  });

  it('refuses unknown flags and missing values naming them and listing the accepted ones; --help exits 0', async () => {
    const [typo, missingOut, strayCommand, help, mergeHelp] = await Promise.all([
      cli(['merge', '--olny=stress']),
      cli(['baseline', 'save', 'run.json']),
      cli(['mrege']),
      cli(['--help']),
      cli(['merge', '--help']),
    ]);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain("'--olny'");
    expect(typo.stderr).toContain('--only=<target>');
    expect(typo.stderr).not.toMatch(/\n\s+at /);
    expect(missingOut.code).toBe(2);
    expect(missingOut.stderr).toContain('--out is required');
    expect(strayCommand.code).toBe(2);
    expect(strayCommand.stderr).toContain('unknown command "mrege"');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('report merge | report baseline save | report compare');
    expect(mergeHelp.code).toBe(0);
    expect(mergeHelp.stdout).toContain('--dir=<dir>');
  });
});
