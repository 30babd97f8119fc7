import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runReportSchema, type RunReport } from '@crucible/contracts';
import { describe, expect, it } from 'vitest';
import { startItemsServer } from '../tests/items-server.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const BIN = path.join(ROOT, 'node_modules/.bin/crucible');

interface Exit {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** `crucible …` as a real process, with the Indexed Job's variables when given. */
function crucible(args: string[], env: Record<string, string> = {}): Promise<Exit> {
  return new Promise((resolve) => {
    execFile(BIN, args, { cwd: ROOT, env: { ...process.env, FORCE_COLOR: '0', ...env } }, (error, stdout, stderr) =>
      resolve({ code: error ? Number((error as { code?: number }).code ?? 2) : 0, stdout, stderr }),
    );
  });
}

/** N workers started as the pods of an Indexed Job would be (one process each, JOB_COMPLETION_INDEX 0…N-1), then the merge step. */
async function distributed(n: number, baseUrl: string, extra: string[] = []): Promise<{ workers: Exit[]; collect: Exit; report: RunReport; results: string }> {
  const results = await mkdtemp(path.join(os.tmpdir(), `crucible-job${n}-`));
  const out = path.join(results, 'reports');
  const workers = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      crucible(['worker', 'examples/http-api.ts', '--results', results, '--base-url', baseUrl, '--env', 'RATE=40', '--env', 'DURATION=3s', ...extra], { JOB_COMPLETION_INDEX: String(i), JOB_COMPLETIONS: String(n) }),
    ),
  );
  const collect = await crucible(['collect', results, '--completions', String(n), '--out', out]);
  const report = runReportSchema.parse(JSON.parse(await readFile(path.join(out, 'distributed.json'), 'utf8')));
  return { workers, collect, report, results };
}

const requestsOf = (r: RunReport) => Object.fromEntries(r.scenarios.map((s) => [s.name, s.requests]));

describe('distributed run: crucible worker as Indexed Job pods, crucible collect', { timeout: 240_000 }, () => {
  it('1, 2 and 4 workers at a fixed rate give the same request counts and close percentiles; the segments start together', async () => {
    // Every GET /items waits 8 ms: the latency is the server's, not noise, in both runs.
    await using server = await startItemsServer({ delayMs: 8 });
    const one = await distributed(1, server.url);
    const two = await distributed(2, server.url);
    const four = await distributed(4, server.url);
    for (const w of [...one.workers, ...two.workers, ...four.workers]) expect(w.code, w.stderr).toBe(0);
    expect(requestsOf(two.report)).toEqual(requestsOf(one.report));
    expect([0, 4], one.collect.stderr).toContain(one.collect.code);
    expect([0, 4], four.collect.stderr).toContain(four.collect.code);
    // Open model, 40/s and 20/s for 3 s: the same arrivals, split four ways or not.
    expect(requestsOf(four.report)).toEqual(requestsOf(one.report));
    expect(requestsOf(one.report)).toEqual({ 'list items': 120, 'create item': 60 });
    const p50 = (r: RunReport) => r.scenarios.find((s) => s.name === 'list items')?.latency_ms?.p50 ?? 0;
    expect(p50(one.report)).toBeGreaterThanOrEqual(8);
    for (const r of [two.report, four.report]) expect(Math.abs(p50(r) - p50(one.report))).toBeLessThan(0.25 * p50(one.report));
    // Thresholds judged once, on the merged result (not per segment): one row each.
    expect(four.report.scenarios.find((s) => s.name === 'list items')?.thresholds.map((t) => t.expression)).toEqual(['p(99)<500', 'empty_page: count==0', 'errors: rate<0.01', 'checks: rate>0.99']);
    expect(four.report.scenarios[0]?.segment).toBe('0:1');
    // The barrier: every worker started at one common time.
    const starts = new Set<number>();
    for (const f of (await readdir(four.results)).filter((n) => n.startsWith('segment-'))) starts.add((JSON.parse(await readFile(path.join(four.results, f), 'utf8')) as { startAt: number }).startAt);
    expect(starts.size).toBe(1);
    expect(server.total()).toBe(3 * (120 + 60));
  });

  it('a worker that never arrived, or failed, fails the run and is named', async () => {
    await using server = await startItemsServer();
    // Only worker 0 of 2 starts: it gives up at the barrier, worker 1 left nothing.
    const results = await mkdtemp(path.join(os.tmpdir(), 'crucible-job-missing-'));
    const w0 = await crucible(['worker', 'examples/http-api.ts', '--results', results, '--base-url', server.url, '--barrier-timeout', '2'], { JOB_COMPLETION_INDEX: '0', JOB_COMPLETIONS: '2' });
    expect(w0.code).toBe(2);
    expect(w0.stderr).toContain('start barrier: 1 of 2 workers arrived');
    const collect = await crucible(['collect', results, '--completions', '2', '--out', path.join(results, 'reports')]);
    expect(collect.code).toBe(2);
    expect(collect.stderr).toContain('worker 1 of 2 left no result');
    expect(collect.stderr).toMatch(/worker 0 of 2 \([^)]+\) failed: .*start barrier/);
    expect(server.total()).toBe(0);
    // Outside a Job (no JOB_COMPLETION_INDEX) a worker refuses to start, naming the variables.
    const bare = await crucible(['worker', 'examples/http-api.ts', '--results', results]);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain('JOB_COMPLETION_INDEX and JOB_COMPLETIONS must be set');
  });
});
