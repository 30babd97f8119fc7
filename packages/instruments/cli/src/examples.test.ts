import { execFile } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runReportSchema, type RunReport } from '@crucible/contracts';
import { describe, expect, it } from 'vitest';
import { startIdsServer } from '../tests/ids-server.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const BIN = path.join(ROOT, 'node_modules/.bin/crucible');

function crucible(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(BIN, args, { cwd: ROOT, env: { ...process.env, FORCE_COLOR: '0' } }, (error, stdout, stderr) => resolve({ code: error ? Number((error as { code?: number }).code ?? 2) : 0, stdout, stderr }));
  });
}

const reportIn = async (dir: string, stem: string): Promise<RunReport> => runReportSchema.parse(JSON.parse(await readFile(path.join(dir, `${stem}.json`), 'utf8')));

describe('examples/id-endpoint.ts: the ID checker on a user\u2019s own id endpoint', { timeout: 120_000 }, () => {
  it('passes on a correct endpoint, every id accounted for', async () => {
    await using server = await startIdsServer();
    const out = await mkdtemp(path.join(os.tmpdir(), 'crucible-ids-'));
    const r = await crucible(['run', 'examples/id-endpoint.ts', '--base-url', server.url, '--out', out]);
    const rep = await reportIn(out, 'id-endpoint');
    const v = rep.scenarios[0]?.verdicts.find((x) => x.checker === 'id-uniqueness');
    expect(v?.status, v?.summary).toBe('pass');
    expect(v?.counts['ids_acknowledged']).toBe(400);
    expect(server.issued()).toBe(400);
    // A burst is judged on correctness: exit 0 (4 only if a timing threshold were starved).
    expect([0, 4], r.stderr).toContain(r.code);
  });

  it('fails naming the duplicates on an endpoint that reads, waits, then writes its counter', async () => {
    await using server = await startIdsServer({ racy: true });
    const out = await mkdtemp(path.join(os.tmpdir(), 'crucible-ids-racy-'));
    const r = await crucible(['run', 'examples/id-endpoint.ts', '--base-url', server.url, '--out', out]);
    expect(r.code, r.stderr).toBe(1);
    const v = (await reportIn(out, 'id-endpoint')).scenarios[0]?.verdicts.find((x) => x.checker === 'id-uniqueness');
    expect(v?.status).toBe('fail');
    expect(v?.summary).toMatch(/duplicate/i);
    expect(r.stdout).toMatch(/verdict id-uniqueness failed/);
  });
});
