import type { RunReport, ScenarioReport } from '@crucible/contracts';
import { createDb, createPool, type Database } from '@crucible/db';
import { consoleSink, openSession, type EngineEvents, type RunSession, type Scenario, type ScenarioResult, type SessionRunOptions, type Sink } from '@crucible/load-engine';
import { EXIT, finishRun, runMetadata, scenarioReport, scenarioStatus, starvedText, worstStatus } from '@crucible/reporting';
import { startSut, type Sut, type SutOptions } from '@crucible/testbed';
import type { Kysely } from 'kysely';
import { parseSuiteArgs, suiteUsage, wantsHelp, type SuiteArgs } from './args.js';
import { exitWith } from './exit.js';
import { openLive } from './live.js';
import { STARVED_RERUNS, starvedToRerun } from './rerun.js';
import { absentDatabase, connectTarget, noDatabaseReport, selectSteps } from './target.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyScenario = Scenario<any, any>;

/** The Nx targets a suite can serve. */
export type SuiteTarget = 'stress' | 'resilience' | 'scale' | 'soak';

/** What a step may return: engine results (reported with their thresholds) or finished reports. */
export type StepOutput = ScenarioReport | ScenarioResult | readonly (ScenarioReport | ScenarioResult)[];

/** What the kit hands a suite once the system is up. */
export interface SuiteKit {
  readonly args: SuiteArgs;
  readonly sut: Sut;
  /**
   * A direct (never proxied) connection to the system's database, for seeding and SQL evidence.
   * Against a deployed target without database access, any use of it throws `no_database`
   * (the step then reports `inconclusive: no database access`); test {@link SuiteKit.sql} first
   * to keep a step's other verdicts.
   */
  readonly db: Kysely<Database>;
  /** The same connection, or `undefined` without database access (`--target` without `DATABASE_URL`). */
  readonly sql: Kysely<Database> | undefined;
  /** The sinks every load run of this suite reports to: the console, and the gateway with `--live`. */
  readonly sinks: readonly Sink[];
  /**
   * Every run's events (the suite's one run session): subscribe to watch a run as it goes,
   * e.g. its per-second `tick`s; unsubscribe when the step is done.
   */
  readonly events: EngineEvents;
  /**
   * Runs scenarios through the load engine on the suite's run session (its sinks stay open
   * across runs, so `--live` streams the whole suite as one run); `baseUrl` defaults to the
   * first app the suite started. Resolves to one result per scenario.
   */
  run(scenarios: AnyScenario | readonly AnyScenario[], options?: SessionRunOptions): Promise<ScenarioResult[]>;
  /** {@link SuiteKit.run} of one scenario, resolving to its result. */
  runOne(scenario: AnyScenario, options?: SessionRunOptions): Promise<ScenarioResult>;
  /** One line on stdout, prefixed with the suite's name. */
  log(line: string): void;
}

/** One named step of a suite: a scenario, a fault, a set of checks. */
export interface SuiteStep<Ctx> {
  readonly name: string;
  run(ctx: Ctx, kit: SuiteKit): Promise<StepOutput>;
  /**
   * Whether to run the step once more when a scenario it returned had a starved load
   * generator and so an inconclusive latency or throughput threshold. Default: only when
   * that scenario is an engine result (`kit.run`); `true` also re-runs for a
   * finished `ScenarioReport` carrying `generator.starved`; `false` never (a step whose side
   * effects a second run would confuse, e.g. evidence read from everything its project holds).
   */
  readonly rerunWhenStarved?: boolean;
}

/** A whole suite: what to bring up, the context its steps share, and the steps. */
export interface SuiteDefinition<Ctx> {
  /** e.g. `task-api stress`: the report's suite and the log prefix. */
  readonly name: string;
  readonly target: SuiteTarget;
  /** Nx project the report belongs to when `NX_TASK_TARGET_PROJECT` is unset. */
  readonly project: string;
  /** The system under test (the kit adds the metrics gateway for `--live`). */
  readonly sut: SutOptions | ((args: SuiteArgs) => SutOptions);
  /** Builds what the steps share (projects, keys, clients) once the system is up. */
  readonly setup: (kit: SuiteKit) => Ctx | Promise<Ctx>;
  readonly steps: readonly SuiteStep<Ctx>[] | ((args: SuiteArgs) => readonly SuiteStep<Ctx>[]);
  /** Runs after every step, even one that threw (e.g. reset every fault). */
  readonly afterStep?: (ctx: Ctx, kit: SuiteKit) => Promise<void>;
  /** Run-wide evidence once every step has run (e.g. pool peaks, EXPLAIN plans). */
  readonly finish?: (ctx: Ctx, reports: ScenarioReport[], kit: SuiteKit) => Promise<void>;
  /** Releases what `setup` made (the kit stops the system and its own connections). */
  readonly teardown?: (ctx: Ctx) => Promise<void>;
  /** The run's configuration, as the report states it. */
  readonly config?: Record<string, unknown> | ((args: SuiteArgs) => Record<string, unknown>);
  /** A baseline file to compare the run with (a regression exits 3). */
  readonly baseline?: string;
  /**
   * Whether `--live` streams this suite to the metrics gateway (default true). `false` for a
   * suite whose load does not run through the load engine (the gateway's own WebSocket
   * stress): `--live` is then accepted, the log says nothing is streamed, and no gateway is
   * added to the system.
   */
  readonly live?: boolean;
  /**
   * The environment variables this suite reads besides the kit's own, name → what it does
   * (e.g. `CRUCIBLE_GATEWAY_RATE`); `--help` lists them with the kit's.
   */
  readonly variables?: Readonly<Record<string, string>>;
}

/** Where {@link runSuite} reads its inputs from (tests pass their own). */
export interface RunSuiteOptions {
  readonly argv?: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  /** Console summary destination (default stdout); `null` for none. */
  readonly out?: NodeJS.WritableStream | null;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** Why a scenario is inconclusive: its starved generator, or the verdicts it could not decide (e.g. without SQL). */
function undecided(s: ScenarioReport): string {
  if (s.generator?.starved) return starvedText(s.generator);
  const verdicts = s.verdicts.filter((v) => v.status === 'indeterminate').map((v) => v.checker);
  return verdicts.length ? `undecided: ${verdicts.join(', ')}` : 'inconclusive';
}

/** @internal The kit handed to a suite's steps, on one run session (`runSuite`, and `@crucible/suite-kit/testing`). */
export function suiteKit(o: Pick<SuiteKit, 'args' | 'sut' | 'db' | 'sinks' | 'log'> & Partial<Pick<SuiteKit, 'sql'>> & { session: RunSession }): SuiteKit {
  const { session, ...rest } = o;
  return {
    sql: o.db,
    ...rest,
    events: session.events,
    async run(scenarios, runOptions = {}) {
      return (await session.run(scenarios, runOptions)).scenarios;
    },
    async runOne(scenario, runOptions) {
      return (await session.run(scenario, runOptions)).scenarios[0] as ScenarioResult;
    },
  };
}

/** @internal A step's output as report rows (engine results get their thresholds evaluated). */
export function reportsOf(output: StepOutput): ScenarioReport[] {
  return ([output].flat() as (ScenarioReport | ScenarioResult)[]).map((o) => ('durationS' in o ? scenarioReport(o) : o));
}

/**
 * The one lifecycle of every suite: parse the arguments strictly, bring the system up, run
 * each step in order (logging PASS/FAIL with its duration), assemble one report, write every
 * report form, tear everything down, and resolve to the exit code (0 pass, 1 a threshold or
 * verdict failed, 2 crash, 3 regression, 4 inconclusive: a starved load generator). A step
 * whose load generator was starved runs once more ({@link STARVED_RERUNS}, logged `RERUN`);
 * its second result stands. A step that throws ends the run as a crash, with every scenario
 * reported so far kept in the report.
 *
 * @example
 * suiteMain({
 *   name: 'id-service stress', target: 'stress', project: '@crucible/id-service-suites',
 *   sut: { apps: ['id-service'] },
 *   setup: (kit) => ({ url: kit.sut.url('id-service') }),
 *   steps: [{ name: 'burst of 100', run: (ctx, kit) => kit.run(burstOf100(ctx)) }],
 * });
 */
export async function runSuite<Ctx>(def: SuiteDefinition<Ctx>, options: RunSuiteOptions = {}): Promise<number> {
  const env = options.env ?? process.env;
  const argv = options.argv ?? process.argv.slice(2);
  // Help starts nothing: no PostgreSQL, no apps, no report.
  if (wantsHelp(argv)) {
    (options.out === undefined ? process.stdout : options.out)?.write(suiteUsage(def.name, def.variables));
    return EXIT.ok;
  }
  const args = parseSuiteArgs(argv, env);
  // Resolved before anything starts: a suite reads its own variables here (a malformed one
  // throws a bad_argument, which ends the process with its message and exit 2, as a bad flag does).
  const sutOptions = typeof def.sut === 'function' ? def.sut(args) : def.sut;
  const steps = selectSteps(typeof def.steps === 'function' ? def.steps(args) : def.steps, args.steps);
  const config = typeof def.config === 'function' ? def.config(args) : (def.config ?? {});
  const log = (line: string) => console.log(`[${def.name}] ${line}`);
  const startedAt = new Date();
  const t0 = performance.now();
  const reports: ScenarioReport[] = [];
  let crash: string | undefined;
  let sut: Sut | undefined;
  let db: Kysely<Database> | undefined;
  let sqlFrom: string | undefined;
  let session: RunSession | undefined;
  let ctx: Ctx | undefined;
  let setupDone = false;
  try {
    const gatewayFromEnv = env['CRUCIBLE_GATEWAY_URL'];
    const apps = [...(sutOptions.apps ?? [])];
    const streams = args.live && def.live !== false;
    if (args.live && !streams) log('--live: this suite does not run its load through the load engine; nothing is streamed');
    if (args.target) {
      // A deployed system: nothing is started or stopped, and SQL only with a database URL.
      const target = connectTarget(args.target, apps, env);
      sut = target.sut;
      db = target.sql;
      sqlFrom = target.sqlFrom;
      log(`profile ${args.profile}: against the deployed ${apps.join(', ')} of ${args.target}; SQL evidence ${db ? `from ${sqlFrom}` : 'none (no DATABASE_URL): SQL verdicts are inconclusive'}`);
    } else {
      if (streams && !gatewayFromEnv && !apps.includes('metrics-gateway')) apps.push('metrics-gateway');
      log(`profile ${args.profile}: starting ${apps.join(', ')} on ${env['DATABASE_URL'] ? 'DATABASE_URL' : 'the embedded PostgreSQL'}`);
      sut = await startSut({ ...sutOptions, apps });
      db = createDb(createPool({ connectionString: sut.databaseUrl, max: 4 }));
    }
    const sinks: Sink[] = [consoleSink()];
    const runId = `${def.name.replace(/\W+/g, '-')}-${Date.now().toString(36)}`;
    if (streams) {
      const live = await openLive({
        gatewayUrl: gatewayFromEnv ?? sut.url('metrics-gateway'),
        token: env['CRUCIBLE_GATEWAY_TOKEN'] ?? (gatewayFromEnv ? (env['CRUCIBLE_ADMIN_TOKEN'] ?? '') : sut.adminToken),
        runId,
      });
      sinks.push(live.sink);
      log(`live dashboard: ${live.dashboardUrl}`);
    }
    const defaultUrl = apps[0] && apps[0] !== 'metrics-gateway' ? sut.url(apps[0]) : undefined;
    const runs = openSession({ runId, sinks, ...(defaultUrl ? { baseUrl: defaultUrl } : {}) });
    session = runs;
    const kit = suiteKit({ args, sut, db: db ?? absentDatabase(), sql: db, sinks, log, session: runs });
    ctx = await def.setup(kit);
    setupDone = true;
    const attempt = async (step: SuiteStep<Ctx>): Promise<StepOutput> => {
      try {
        return await step.run(ctx as Ctx, kit);
      } finally {
        await def.afterStep?.(ctx as Ctx, kit);
      }
    };
    for (const step of steps) {
      const t = performance.now();
      const stepStart = new Date();
      // A step that reached for SQL the target does not give stands as inconclusive, named.
      const guarded = (s: SuiteStep<Ctx>) => attempt(s).catch((err: unknown) => noDatabaseReport(s.name, err, stepStart) ?? Promise.reject(err));
      let output = await guarded(step);
      // A starved generator measured itself, not the system: look once more, then let it stand.
      // Not against a target without SQL: a second run cannot read the state the first one left
      // (a sequence already advanced), so its correctness verdicts would judge a false baseline.
      const reruns = args.target && !db ? 0 : STARVED_RERUNS;
      for (let rerun = 0; rerun < reruns; rerun++) {
        const starved = starvedToRerun(output, step.rerunWhenStarved);
        if (starved.length === 0) break;
        log(`RERUN ${step.name} (${rerun + 1} of ${reruns}): load generator starved in ${starved.join('; ')}`);
        output = await guarded(step);
      }
      const mine = reportsOf(output);
      reports.push(...mine);
      const failed = mine.filter((s) => scenarioStatus(s) === 'fail').map((s) => s.name);
      const inconclusive = mine.filter((s) => scenarioStatus(s) === 'inconclusive').map((s) => `${s.name} (${undecided(s)})`);
      const which = [...failed, ...inconclusive];
      log(`${failed.length ? 'FAIL' : inconclusive.length ? 'INCONCLUSIVE' : 'PASS'} ${step.name} (${seconds(performance.now() - t)})${which.length ? `: ${which.join('; ')}` : ''}`);
    }
    await def.finish?.(ctx, reports, kit);
  } catch (err) {
    crash = err instanceof Error ? (err.stack ?? err.message) : String(err);
    log(`crashed: ${crash}`);
  } finally {
    if (setupDone) await def.teardown?.(ctx as Ctx).catch((e: unknown) => log(`teardown failed: ${String(e)}`));
    await session?.close().catch((e: unknown) => log(`closing the sinks failed: ${String(e)}`));
    await db?.destroy().catch(() => undefined);
    // A deployed target's stop() leaves it running: it is not ours.
    await sut?.stop();
  }
  log(`done in ${seconds(performance.now() - t0)}`);
  const project = env['NX_TASK_TARGET_PROJECT'] ?? def.project;
  const report: RunReport = {
    schema_version: 1,
    run: runMetadata({ suite: def.name, project, target: def.target, profile: args.profile, startedAt, finishedAt: new Date(), config: { profile: args.profile, ...(args.target ? { target: args.target, sql_evidence: sqlFrom ?? 'none' } : {}), ...(args.steps ? { steps: steps.map((s) => s.name) } : {}), ...config } }),
    scenarios: reports,
    passed: !crash && reports.every((s) => scenarioStatus(s) === 'pass'),
    status: crash ? 'fail' : worstStatus(reports.map(scenarioStatus)),
    ...(crash ? { crash } : {}),
  };
  const code = await finishRun(report, { project, target: def.target, ...(def.baseline ? { baseline: def.baseline } : {}), ...(options.out === undefined ? {} : { out: options.out }) });
  return crash ? EXIT.crash : code;
}

/** A suite file's last line: runs the suite and exits the process with its code. */
export function suiteMain<Ctx>(def: SuiteDefinition<Ctx>): void {
  exitWith(runSuite(def));
}
