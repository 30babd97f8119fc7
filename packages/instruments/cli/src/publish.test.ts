import { execFile } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gatewayHealthSchema, runReportSchema } from '@crucible/contracts';
import { startSut } from '@crucible/testbed';
import { describe, expect, it } from 'vitest';
import { startItemsServer } from '../tests/items-server.js';
import { historyMessages } from './publish-history.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const BIN = path.join(ROOT, 'node_modules/.bin/crucible');
const app = 'metrics-gateway';

/** `crucible …` as a real process with `env` on top of this one's (no history variables inherited). */
function crucible(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const base: NodeJS.ProcessEnv = { ...process.env, FORCE_COLOR: '0' };
  delete base['CRUCIBLE_HISTORY_URL'];
  delete base['CRUCIBLE_HISTORY_KEY'];
  delete base['CRUCIBLE_GATEWAY_TOKEN'];
  return new Promise((resolve) => {
    execFile(BIN, args, { cwd: ROOT, env: { ...base, ...env } }, (error, stdout, stderr) => resolve({ code: error ? Number((error as { code?: number }).code ?? 2) : 0, stdout, stderr }));
  });
}

describe('crucible run --publish (a real gateway process on a real PostgreSQL)', { timeout: 240_000 }, () => {
  it('sends the finished run into the project’s history, and refuses a bad URL, a missing or wrong key before any request', async () => {
    await using sut = await startSut({ apps: [app], env: { LOG_LEVEL: 'warn' } });
    await using server = await startItemsServer();
    const { api_key: key } = await sut.createProject(`cli-publish-${Math.random().toString(36).slice(2, 8)}`, app);
    const gateway = sut.url(app);
    const out = await mkdtemp(path.join(os.tmpdir(), 'crucible-publish-'));
    const run = ['run', 'examples/http-api.ts', '--base-url', server.url, '--env', 'DURATION=2s', '--out', out];

    const r = await crucible([...run, '--publish', gateway], { CRUCIBLE_HISTORY_KEY: key, CRUCIBLE_MACHINE_CLASS: 'cli-test-2cpu', CRUCIBLE_BRANCH: 'main' });
    expect([0, 4], r.stderr).toContain(r.code);
    const report = runReportSchema.parse(JSON.parse(await readFile(path.join(out, 'http-api.json'), 'utf8')));
    const runId = report.run.id;
    expect(r.stderr).toContain(`history: ${gateway}/history?scenario=`);
    expect(r.stderr).toContain(`run=${encodeURIComponent(runId)}`);

    // Acknowledged means taken; written a moment later (the store's flush).
    let detail: { run: Record<string, unknown>; scenarios: { scenario: string; requests: number; p99_ms: number | null }[]; points: { scenario: string }[] } | undefined;
    for (let i = 0; i < 100 && !detail?.run['outcome']; i++) {
      const res = await fetch(`${gateway}/api/v1/runs/${encodeURIComponent(runId)}`, { headers: { authorization: `Bearer ${key}` } });
      if (res.status === 200) detail = (await res.json()) as typeof detail;
      if (!detail?.run['outcome']) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(detail?.run).toMatchObject({ run_id: runId, machine: 'cli-test-2cpu', branch: 'main', outcome: { pass: 'passed', fail: 'failed', inconclusive: 'inconclusive' }[report.status ?? 'pass'], started_at: new Date(report.run.started_at).toISOString() });
    // The report's own figures, scenario by scenario, and one point a second of each.
    expect(detail?.scenarios.map((s) => [s.scenario, s.requests, s.p99_ms]).sort()).toEqual(report.scenarios.map((s) => [s.name, s.requests, s.latency_ms?.p99 ?? null]).sort());
    expect(detail?.points.length).toBe(report.scenarios.reduce((n, s) => n + s.series.length, 0));
    expect(historyMessages(report).length).toBe(2 + (detail?.points.length ?? 0));

    // Strict: each refused with exit 2 naming what is wrong, and the service never asked.
    const before = server.total();
    for (const [args, env, says] of [
      [[...run, '--publish', 'ftp://example.org'], { CRUCIBLE_HISTORY_KEY: key }, '--publish "ftp://example.org" is not an http(s) URL'],
      [[...run, '--publish', gateway], {}, '--publish needs CRUCIBLE_HISTORY_KEY'],
      [run, { CRUCIBLE_HISTORY_URL: 'not a url', CRUCIBLE_HISTORY_KEY: key }, 'CRUCIBLE_HISTORY_URL "not a url"'],
      [[...run, '--publish'], { CRUCIBLE_HISTORY_KEY: key }, '--publish'],
      [[...run, '--publish', gateway], { CRUCIBLE_HISTORY_KEY: 'ck_wrong' }, 'did not accept the history connection'],
    ] as const) {
      const bad = await crucible([...args], env);
      expect(bad.code, bad.stderr).toBe(2);
      expect(bad.stderr).toContain(says);
    }
    expect(server.total()).toBe(before);

    // A report written earlier, published afterwards (what `npm run stress -- --publish` does per suite).
    const later = await mkdtemp(path.join(os.tmpdir(), 'crucible-publish-later-'));
    const plain = await crucible(['run', 'examples/http-api.ts', '--base-url', server.url, '--env', 'DURATION=1s', '--out', later]);
    expect([0, 4], plain.stderr).toContain(plain.code);
    const file = path.join(later, 'http-api.json');
    const laterId = runReportSchema.parse(JSON.parse(await readFile(file, 'utf8'))).run.id;
    const pub = await crucible(['publish', file, '--to', gateway], { CRUCIBLE_HISTORY_KEY: key });
    expect(pub.code, pub.stderr).toBe(0);
    expect(pub.stderr).toContain(`run=${encodeURIComponent(laterId)}`);
    let stored = 0;
    for (let i = 0; i < 100 && stored !== 200; i++) {
      stored = (await fetch(`${gateway}/api/v1/runs/${encodeURIComponent(laterId)}`, { headers: { authorization: `Bearer ${key}` } })).status;
      if (stored !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(stored).toBe(200);
    const missing = await crucible(['publish', path.join(later, 'nope.json'), '--to', gateway], { CRUCIBLE_HISTORY_KEY: key });
    expect(missing.code).toBe(2);
    expect((await crucible(['publish', file], { CRUCIBLE_HISTORY_KEY: key })).stderr).toContain('publish needs --to <gateway url> or CRUCIBLE_HISTORY_URL');
  });

  it('--live streams the run to the gateway while it goes (a snapshot a second per scenario, then run_end), and a bad URL or token exits 2 before any request', async () => {
    await using sut = await startSut({ apps: [app], env: { LOG_LEVEL: 'warn' } });
    await using server = await startItemsServer();
    const gateway = sut.url(app);
    const ingested = async () => gatewayHealthSchema.parse(await (await fetch(`${gateway}/health`)).json()).messages.ingested;
    const out = await mkdtemp(path.join(os.tmpdir(), 'crucible-live-'));
    const run = ['run', 'examples/http-api.ts', '--base-url', server.url, '--env', 'DURATION=2s', '--out', out];
    const before = await ingested();

    const r = await crucible([...run, '--live', gateway], { CRUCIBLE_GATEWAY_TOKEN: sut.adminToken });
    expect([0, 4], r.stderr).toContain(r.code);
    expect(r.stderr).toContain(`live dashboard: ${gateway}/dashboard/crucible-http-api-`);
    const report = runReportSchema.parse(JSON.parse(await readFile(path.join(out, 'http-api.json'), 'utf8')));
    // Every per-second snapshot of every scenario, and the run_end, went in.
    const seconds = report.scenarios.reduce((n, s) => n + s.series.length, 0);
    expect(await ingested()).toBeGreaterThanOrEqual(before + seconds + 1);

    const sent = server.total();
    for (const [args, env, says] of [
      [[...run, '--live', 'ftp://example.org'], { CRUCIBLE_GATEWAY_TOKEN: sut.adminToken }, '--live "ftp://example.org" is not an http(s) or ws(s) URL'],
      [[...run, '--live', gateway], {}, '--live needs CRUCIBLE_GATEWAY_TOKEN'],
      [[...run, '--live', gateway], { CRUCIBLE_GATEWAY_TOKEN: 'wrong-token-0123456789' }, '--live: the metrics gateway at'],
    ] as const) {
      const bad = await crucible([...args], env);
      expect(bad.code, bad.stderr).toBe(2);
      expect(bad.stderr).toContain(says);
    }
    expect(server.total()).toBe(sent);
  });
});
