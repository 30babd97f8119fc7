// `crucible stress --target sut.json` against a system started here as `npm run sut` would
// (the testbed's startSut, its summary() written to sut.json), the suites' own steps sized by
// --step: the same verdicts as the embedded run, the SQL ones inconclusive without database
// access (exit 4), and a planted defect in the deployed app failing the run, named.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runReportSchema, type RunReport } from '@crucible/contracts';
import { startSut, type Sut } from '@crucible/testbed';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const BIN = path.join(ROOT, 'node_modules/.bin/crucible');
const ID_STEPS = ['--step', '50 concurrent', '--step', '5 projects'];

interface Exit {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** `crucible …` as a real process, without DATABASE_URL unless given (the target's file decides). */
function crucible(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Exit> {
  const { DATABASE_URL: _ignored, NX_TASK_TARGET_PROJECT: _project, ...base } = process.env;
  return new Promise((resolve) => {
    execFile(BIN, args, { cwd: ROOT, env: { ...base, FORCE_COLOR: '0', ...env }, maxBuffer: 64 << 20 }, (error, stdout, stderr) =>
      resolve({ code: error ? Number((error as { code?: number }).code ?? 2) : 0, stdout, stderr }),
    );
  });
}

async function reportOf(dir: string, project: string): Promise<RunReport> {
  return runReportSchema.parse(JSON.parse(await readFile(path.join(dir, project, 'stress.json'), 'utf8')));
}

/** Every verdict of a report as `scenario · checker → status`. */
function verdicts(report: RunReport): string[] {
  return report.scenarios.flatMap((s) => s.verdicts.map((v) => `${s.name} · ${v.checker} → ${v.status}`)).sort();
}

/**
 * A passing run exits 0, or 4 only when the report is inconclusive (the shared machine starved
 * the load generator and a timing threshold could not be judged; a starved burst judged on
 * correctness alone still exits 0).
 */
function expectPassed(exit: Exit, report: RunReport): void {
  expect(report.status, exit.stdout + exit.stderr).not.toBe('fail');
  expect(exit.code, exit.stdout + exit.stderr).toBe(report.status === 'inconclusive' ? 4 : 0);
  expect(report.scenarios.every((s) => s.verdicts.every((v) => v.status === 'pass'))).toBe(true);
}

async function targetFile(dir: string, name: string, sut: Sut, withDatabase: boolean): Promise<string> {
  const { database_url: _db, ...rest } = sut.summary();
  const file = path.join(dir, name);
  await writeFile(file, `${JSON.stringify(withDatabase ? sut.summary() : rest)}\n`);
  return file;
}

describe('crucible stress: command line', () => {
  it('--help names the flags and DATABASE_URL; a typo, an unknown app and a missing target exit 2 naming them', async () => {
    const help = await crucible(['stress', '--help']);
    expect(help.code).toBe(0);
    for (const word of ['--target', '--only', '--out', '--step', '--profile', 'DATABASE_URL']) expect(help.stdout).toContain(word);
    const typo = await crucible(['stress', '--targte', 'x.json']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('--targte');
    expect(typo.stderr).toContain('--target');
    const app = await crucible(['stress', '--only', 'task-apj']);
    expect(app.code).toBe(2);
    expect(app.stderr).toContain('"task-apj"');
    expect(app.stderr).toContain('id-service');
    const missing = await crucible(['stress', '--target', path.join(os.tmpdir(), 'no-such-sut.json')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no-such-sut.json');
  });
});

describe('crucible stress --target against a deployed system', () => {
  let dir: string;
  let first: Sut;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'crucible-stress-'));
    first = await startSut({ apps: ['id-service'], env: { LOG_LEVEL: 'warn' } });
  }, 120_000);
  afterAll(async () => {
    await first?.stop();
  });

  it('gives the embedded run\'s id-service verdicts, and without DATABASE_URL names the SQL ones inconclusive (exit 4)', async () => {
    const embedded = await crucible(['stress', '--only', 'id-service', ...ID_STEPS, '--out', path.join(dir, 'embedded')]);
    const embeddedReport = await reportOf(path.join(dir, 'embedded'), '@crucible/id-service-suites');
    expectPassed(embedded, embeddedReport);

    const withDb = await crucible(['stress', '--target', await targetFile(dir, 'sut.json', first, true), ...ID_STEPS, '--out', path.join(dir, 'target')]);
    const targetReport = await reportOf(path.join(dir, 'target'), '@crucible/id-service-suites');
    expectPassed(withDb, targetReport);
    expect(verdicts(targetReport)).toEqual(verdicts(embeddedReport));
    expect(verdicts(targetReport)).toContain('50 concurrent reservations of 6 · id-reconciliation → pass');
    expect(targetReport.run.config['sql_evidence']).toBe('database_url');

    // A fresh deployment (the suites create their own projects), its file without database_url.
    await using second = await startSut({ apps: ['id-service'], server: first.server, env: { LOG_LEVEL: 'warn' } });
    const noDb = await crucible(['stress', '--target', await targetFile(dir, 'sut-no-db.json', second, false), ...ID_STEPS, '--out', path.join(dir, 'no-db')]);
    const noDbReport = await reportOf(path.join(dir, 'no-db'), '@crucible/id-service-suites');
    expect(noDb.code, noDb.stdout + noDb.stderr).toBe(4);
    const sqlOnly = new Set(['id-reconciliation', 'api-isolation']);
    const expected = verdicts(embeddedReport).map((v) => (sqlOnly.has(v.split(' · ')[1]?.split(' → ')[0] ?? '') ? v.replace('→ pass', '→ indeterminate') : v));
    expect(verdicts(noDbReport)).toEqual(expected);
    expect(noDb.stdout).toContain('inconclusive: no database access: 50 concurrent reservations of 6 · id-reconciliation');
    expect(noDb.stdout).toContain('inconclusive: no database access: 5 projects × 10 reservations: independent sequences · api-isolation');
    expect(noDbReport.run.config['sql_evidence']).toBe('none');
  }, 300_000);

  it('fails the task-api isolation step naming the leak when the deployed app lists unscoped; passes on the clean one seeded over HTTP', async () => {
    // The clean deployment without database access: seeded through POST /tasks, the API verdict decided, the SQL one not.
    await using clean = await startSut({ apps: ['task-api'], server: first.server, env: { LOG_LEVEL: 'warn' } });
    const ok = await crucible(['stress', '--target', await targetFile(dir, 'clean.json', clean, false), '--only', 'task-api', '--step', 'isolation across the projects', '--out', path.join(dir, 'clean')]);
    const okReport = await reportOf(path.join(dir, 'clean'), '@crucible/task-api-suites');
    expect(ok.code, ok.stdout + ok.stderr).toBe(4);
    expect(verdicts(okReport)).toEqual(['5 projects querying concurrently: isolation · api-isolation → pass', '5 projects querying concurrently: isolation · sql-isolation:tasks → indeterminate']);
    expect(ok.stdout).toContain('through POST /tasks');

    await using broken = await startSut({ apps: ['task-api'], server: first.server, env: { LOG_LEVEL: 'warn', CRUCIBLE_FAILPOINTS: 'tasks.list.unscoped=1' } });
    const bad = await crucible(['stress', '--target', await targetFile(dir, 'broken.json', broken, true), '--only', 'task-api', '--step', 'isolation across the projects', '--out', path.join(dir, 'broken')]);
    const badReport = await reportOf(path.join(dir, 'broken'), '@crucible/task-api-suites');
    expect(bad.code, bad.stdout + bad.stderr).toBe(1);
    const [isolation] = badReport.scenarios;
    expect(isolation?.verdicts.find((v) => v.checker === 'api-isolation')?.status).toBe('fail');
    expect(isolation?.thresholds.find((t) => t.expression === 'leaked_items: count==0')?.passed).toBe(false);
    expect(bad.stdout).toMatch(/FAIL isolation across the projects/);
  }, 300_000);
});
