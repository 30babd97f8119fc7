// The metrics gateway as the second results sink of a distributed run: N = 2 `crucible worker`
// processes (JOB_COMPLETION_INDEX 0 and 1, as Indexed Job pods) meet at the barrier and leave
// their segments on a real gateway process, `crucible collect --results-url` merges them; the
// same run through the shared-volume sink gives the same totals. A worker that failed, or left
// nothing, is named; a wrong or missing token stops the worker, naming it.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runReportSchema, type RunReport } from '@crucible/contracts';
import { discoverApps, startApp, type RunningApp } from '@crucible/testbed';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startItemsServer } from '../tests/items-server.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const BIN = path.join(ROOT, 'node_modules/.bin/crucible');
const token = 'results-sink-test-token-0123456789';

interface Exit {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function crucible(args: string[], env: Record<string, string> = {}): Promise<Exit> {
  return new Promise((resolve) => {
    execFile(BIN, args, { cwd: ROOT, env: { ...process.env, FORCE_COLOR: '0', ...env } }, (error, stdout, stderr) =>
      resolve({ code: error ? Number((error as { code?: number }).code ?? 2) : 0, stdout, stderr }),
    );
  });
}

/** 2 workers into `sink` (['--results', dir] or ['--results-url', url]), then collect from it. */
async function twoWorkers(sink: string[], collectFrom: string[], baseUrl: string, out: string): Promise<{ workers: Exit[]; collect: Exit; report: RunReport }> {
  const env = { CRUCIBLE_RESULTS_TOKEN: token, JOB_COMPLETIONS: '2' };
  const workers = await Promise.all(
    [0, 1].map((i) => crucible(['worker', 'examples/http-api.ts', ...sink, '--base-url', baseUrl, '--env', 'RATE=40', '--env', 'DURATION=3s'], { ...env, JOB_COMPLETION_INDEX: String(i) })),
  );
  const collect = await crucible(['collect', ...collectFrom, '--completions', '2', '--out', out], { CRUCIBLE_RESULTS_TOKEN: token });
  const report = runReportSchema.parse(JSON.parse(await readFile(path.join(out, 'distributed.json'), 'utf8')));
  return { workers, collect, report };
}

const requestsOf = (r: RunReport) => Object.fromEntries(r.scenarios.map((s) => [s.name, s.requests]));
const p50 = (r: RunReport) => r.scenarios.find((s) => s.name === 'list items')?.latency_ms?.p50 ?? 0;

describe('distributed run with the metrics gateway as the results sink', { timeout: 240_000 }, () => {
  let gateway: RunningApp;
  beforeAll(async () => {
    const manifest = discoverApps().find((m) => m.name === 'metrics-gateway');
    if (!manifest) throw new Error('apps/metrics-gateway not found');
    gateway = await startApp(manifest, { env: { CRUCIBLE_ADMIN_TOKEN: `admin-${token}`, GATEWAY_PUBLISH_TOKEN: token, LOG_LEVEL: 'warn' } });
  }, 60_000);
  afterAll(() => gateway?.stop());

  it('2 workers through the gateway give the totals of 2 workers through the shared volume, started together', async () => {
    await using server = await startItemsServer({ delayMs: 8 });
    const tmp = await mkdtemp(path.join(os.tmpdir(), 'crucible-sinks-'));
    const job = `${gateway.url}/jobs/sinks-${process.pid}`;
    const viaGateway = await twoWorkers(['--results-url', job], ['--results-url', job], server.url, path.join(tmp, 'gateway'));
    const viaVolume = await twoWorkers(['--results', path.join(tmp, 'volume')], [path.join(tmp, 'volume')], server.url, path.join(tmp, 'volume-reports'));
    for (const w of [...viaGateway.workers, ...viaVolume.workers]) expect(w.code, w.stderr).toBe(0);
    expect(viaGateway.workers[0]?.stderr).toContain(`result in ${job}`);
    expect([0, 4], viaGateway.collect.stderr).toContain(viaGateway.collect.code);
    expect(viaGateway.collect.stdout).toContain('merged 2 of 2 segment(s)');
    expect(requestsOf(viaGateway.report)).toEqual({ 'list items': 120, 'create item': 60 });
    expect(requestsOf(viaGateway.report)).toEqual(requestsOf(viaVolume.report));
    expect(Math.abs(p50(viaGateway.report) - p50(viaVolume.report))).toBeLessThan(0.25 * p50(viaVolume.report));
    expect(server.total()).toBe(2 * (120 + 60));
    // The barrier on the gateway: both segments share one start.
    const held = (await (await fetch(job, { headers: { authorization: `Bearer ${token}` } })).json()) as { ready: unknown[]; segments: { startAt: number }[] };
    expect(held.ready).toHaveLength(2);
    expect(new Set(held.segments.map((s) => s.startAt)).size).toBe(1);
  });

  it('a worker that failed, or left nothing, is named by collect', async () => {
    await using server = await startItemsServer();
    const tmp = await mkdtemp(path.join(os.tmpdir(), 'crucible-sinks-fail-'));
    const job = `${gateway.url}/jobs/failed-${process.pid}`;
    const env = { CRUCIBLE_RESULTS_TOKEN: token, JOB_COMPLETIONS: '3' };
    // Worker 1's scenario file does not exist: it fails before the barrier and says so; worker 0
    // gives up at the barrier (2 of 3 never came); worker 2 never starts.
    const [w0, w1] = await Promise.all([
      crucible(['worker', 'examples/http-api.ts', '--results-url', job, '--base-url', server.url, '--barrier-timeout', '3'], { ...env, JOB_COMPLETION_INDEX: '0' }),
      crucible(['worker', 'examples/no-such-file.ts', '--results-url', job, '--base-url', server.url], { ...env, JOB_COMPLETION_INDEX: '1' }),
    ]);
    expect(w0.code).toBe(2);
    expect(w1.code).toBe(2);
    const collect = await crucible(['collect', '--results-url', job, '--completions', '3', '--out', tmp], { CRUCIBLE_RESULTS_TOKEN: token });
    expect(collect.code).toBe(2);
    expect(collect.stderr).toMatch(/worker 0 of 3 \([^)]+\) failed: .*start barrier: 1 of 3 workers arrived/);
    expect(collect.stderr).toMatch(/worker 1 of 3 \([^)]+\) failed: .*no-such-file/);
    expect(collect.stderr).toContain(`worker 2 of 3 left no result in ${job}`);
    expect(server.total()).toBe(0);
  });

  it('a wrong or missing token, or a URL that is not a job, stops the worker naming it', async () => {
    const job = `${gateway.url}/jobs/token-${process.pid}`;
    const env = { JOB_COMPLETIONS: '1', JOB_COMPLETION_INDEX: '0' };
    const wrong = await crucible(['worker', 'examples/http-api.ts', '--results-url', job], { ...env, CRUCIBLE_RESULTS_TOKEN: 'wrong-token-0123456789' });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/PUT .*\/ready\/0 answered 401/);
    const missing = await crucible(['worker', 'examples/http-api.ts', '--results-url', job], { ...env, CRUCIBLE_RESULTS_TOKEN: '' });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('CRUCIBLE_RESULTS_TOKEN must be set with --results-url');
    const notJob = await crucible(['worker', 'examples/http-api.ts', '--results-url', gateway.url], { ...env, CRUCIBLE_RESULTS_TOKEN: token });
    expect(notJob.code).toBe(2);
    expect(notJob.stderr).toContain('must be http(s)://<gateway>/jobs/<name>');
    const both = await crucible(['collect', '/tmp/x', '--results-url', job, '--completions', '1'], { CRUCIBLE_RESULTS_TOKEN: token });
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('not both');
  });
});
