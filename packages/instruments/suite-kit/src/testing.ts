/**
 * @crucible/suite-kit/testing — runs one step of a suite, as the suite runs it, against a
 * system a test started (`openStepRunner`), or some of a suite's steps through its whole
 * lifecycle on a system of their own (`runSuiteSteps`): the planted-defect tests run a step,
 * resized to seconds, on an app carrying a failpoint and show its verdict failing.
 *
 * @example
 * await using steps = openStepRunner(sut);
 * const rows = await steps.run(databaseDownStep(workload, { rate: 30, durationS: 6, downAtMs: 1500, downForMs: 3000 }), ctx);
 * failedChecks(rows); // ['database down 3 s during load · during: health_detect_ms: value<5000 (…)']
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { RunReport, ScenarioReport, Verdict } from '@crucible/contracts';
import { createDb, createPool, type Database } from '@crucible/db';
import { openSession, type ScenarioResult } from '@crucible/load-engine';
import { scenarioReport } from '@crucible/reporting';
import type { Sut, SutOptions } from '@crucible/testbed';
import { testServer } from '@crucible/testbed/testing';
import type { Kysely } from 'kysely';
import { parseSuiteArgs } from './args.js';
import type { ResilienceContext } from './resilience/workload.js';
import { runSuite, type StepOutput, type SuiteDefinition, type SuiteKit, type SuiteStep } from './suite.js';

/** Runs suite steps on a test's system; `close()` (or `await using`) releases its connections. */
export interface StepRunner extends AsyncDisposable {
  /** A direct connection to the system's database (as `SuiteKit.db`). */
  readonly db: Kysely<Database>;
  /** Every line the steps logged. */
  readonly log: readonly string[];
  /** Runs `step` once on `ctx` and resolves to its report rows, thresholds and verdicts evaluated. */
  run<Ctx>(step: SuiteStep<Ctx>, ctx: Ctx): Promise<ScenarioReport[]>;
  /**
   * The context a resilience step needs for `app` of a system started with `chaos: true`:
   * `url` defaults to the app's first replica (pass another replica's, e.g. one started
   * with a failpoint armed); the link is the app's database proxy either way.
   */
  resilienceContext(app: string, url?: string): ResilienceContext;
  /**
   * Runs a resilience `step` on `app`: on its first replica when `failpoints` is undefined (the
   * clean system), else on one more replica started with `CRUCIBLE_FAILPOINTS=failpoints`,
   * stopped afterwards (`graceMs` to close, then SIGKILL: a planted defect may keep it from
   * draining).
   */
  onReplica(app: string, failpoints: string | undefined, step: SuiteStep<ResilienceContext>, graceMs?: number): Promise<ScenarioReport[]>;
  close(): Promise<void>;
}

/** Opens a {@link StepRunner} on `sut`: no sinks, the quick profile, log lines kept. */
export function openStepRunner(sut: Sut): StepRunner {
  const db = createDb(createPool({ connectionString: sut.databaseUrl, max: 4 }));
  const session = openSession({ runId: `step-${Date.now().toString(36)}`, sinks: [] });
  const log: string[] = [];
  // The kit `runSuite` hands its steps, on a session of the test's own.
  const kit: SuiteKit = {
    args: parseSuiteArgs([], {}),
    sut,
    db,
    sql: db,
    sinks: [],
    log: (line) => log.push(line),
    events: session.events,
    run: async (scenarios, options = {}) => (await session.run(scenarios, options)).scenarios,
    runOne: async (scenario, options) => (await session.run(scenario, options)).scenarios[0] as ScenarioResult,
  };
  const reportsOf = (out: StepOutput) => ([out].flat() as (ScenarioReport | ScenarioResult)[]).map((o) => ('durationS' in o ? scenarioReport(o) : o));
  let closed: Promise<void> | undefined;
  const close = () =>
    (closed ??= (async () => {
      await session.close();
      await db.destroy();
    })());
  const resilienceContext = (app: string, url?: string): ResilienceContext => {
    const chaos = sut.chaos;
    if (!chaos) throw new Error('the system was started without chaos: true');
    return { sut, db, url: url ?? sut.url(app), link: chaos.proxy(app) };
  };
  const run = async <Ctx>(step: SuiteStep<Ctx>, ctx: Ctx) => reportsOf(await step.run(ctx, kit));
  return {
    db,
    log,
    run,
    resilienceContext,
    async onReplica(app, failpoints, step, graceMs = 1000) {
      if (failpoints === undefined) return run(step, resilienceContext(app));
      const replica = await sut.startReplica(app, { CRUCIBLE_FAILPOINTS: failpoints });
      try {
        return await run(step, resilienceContext(app, replica.url));
      } finally {
        await replica.stop(graceMs);
      }
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

/**
 * Every failed threshold and verdict of `rows`, one line each: `<row>: <threshold> (<message>)`
 * or `<row>: <checker>: <summary>`. Empty when everything passed.
 */
export function failedChecks(rows: readonly ScenarioReport[]): string[] {
  return rows.flatMap((r) => [
    ...r.thresholds.filter((t) => !t.passed).map((t) => `${r.name}: ${t.expression} (${t.message ?? `actual ${String(t.actual)}`})`),
    ...r.verdicts.filter((v) => v.status === 'fail').map((v) => `${r.name}: ${v.checker}: ${v.summary}`),
  ]);
}

/**
 * Like {@link failedChecks}, without the latency bounds (`p(99)<…`, `…_p50_ms`, `…_p99_ms`,
 * `avg`/`med`/`max` on latency): a planted-defect test asserts what its defect breaks and that
 * nothing *else* broke, and a percentile bound on a loaded 2-core CI machine says more about
 * the machine than about the defect. Detection and recovery times stay in.
 */
export function correctnessFailures(rows: readonly ScenarioReport[]): string[] {
  const latencyBound = /: (?:[\w.-]+: )?(?:p\(|avg|med|max|min)|_p\d+_ms: /;
  return failedChecks(rows).filter((f) => !latencyBound.test(f));
}

/**
 * Runs `steps` of `suite` (its system, setup and teardown; no run-wide `finish`) with `env`
 * added to every app's environment, and resolves to the run's report. The report files go
 * to a temporary directory, so a test never overwrites a suite run's reports.
 *
 * @example
 * const report = await runSuiteSteps(idStressSuite, [burstOf(200, 0)], { CRUCIBLE_FAILPOINTS: 'ids.allocate.read-then-write=0.05' });
 */
export async function runSuiteSteps<Ctx>(suite: SuiteDefinition<Ctx>, steps: readonly SuiteStep<Ctx>[], env: Record<string, string> = {}): Promise<RunReport> {
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
export function reportVerdicts(report: RunReport, checker: string): Verdict[] {
  return report.scenarios.flatMap((s) => s.verdicts.filter((v) => v.checker === checker));
}
