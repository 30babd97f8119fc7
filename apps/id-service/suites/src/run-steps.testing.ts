// Test support: run some of a suite's own steps through the suite kit's lifecycle, on the
// test run's PostgreSQL, with extra app environment (a failpoint), and read the report back.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { RunReport, Verdict } from '@crucible/contracts';
import { runSuite, type SuiteDefinition, type SuiteStep } from '@crucible/suite-kit';
import type { SutOptions } from '@crucible/testbed';
import { testServer } from '@crucible/testbed/testing';

/**
 * Runs `steps` of `suite` (its system, setup and teardown; no run-wide `finish`) with `env`
 * added to every app's environment, and resolves to the run's report. The report files go
 * to a temporary directory, so a test never overwrites a suite run's reports.
 *
 * @example
 * const report = await runSteps(idStressSuite, [burstOf(200, 0)], { CRUCIBLE_FAILPOINTS: 'ids.allocate.read-then-write=0.05' });
 */
export async function runSteps<Ctx>(suite: SuiteDefinition<Ctx>, steps: readonly SuiteStep<Ctx>[], env: Record<string, string> = {}): Promise<RunReport> {
  const dir = await mkdtemp(path.join(tmpdir(), 'crucible-steps-'));
  const previous = process.env['CRUCIBLE_REPORTS_DIR'];
  process.env['CRUCIBLE_REPORTS_DIR'] = dir;
  try {
    const sut: SutOptions = typeof suite.sut === 'function' ? suite.sut({ profile: 'quick', live: false }) : suite.sut;
    const { finish: _finish, baseline: _baseline, ...rest } = suite;
    await runSuite({ ...rest, sut: { ...sut, server: testServer(), env: { ...sut.env, ...env } }, steps }, { argv: [], env: {}, out: null });
    return JSON.parse(await readFile(path.join(dir, suite.project, `${suite.target}.json`), 'utf8')) as RunReport;
  } finally {
    // runSuite sets the exit code for a suite process; a test process decides its own.
    process.exitCode = undefined;
    if (previous === undefined) delete process.env['CRUCIBLE_REPORTS_DIR'];
    else process.env['CRUCIBLE_REPORTS_DIR'] = previous;
    await rm(dir, { recursive: true, force: true });
  }
}

/** Every verdict of the report's scenarios named `checker`. */
export function verdictsOf(report: RunReport, checker: string): Verdict[] {
  return report.scenarios.flatMap((s) => s.verdicts.filter((v) => v.checker === checker));
}
