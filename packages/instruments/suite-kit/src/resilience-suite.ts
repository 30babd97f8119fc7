import net from 'node:net';
import type { ChaosProxy } from '@crucible/chaos';
import type { RunReport, ScenarioReport } from '@crucible/contracts';
import { createDb, createPool, type Database } from '@crucible/db';
import { EXIT, expectVerdict, finishRun, runMetadata } from '@crucible/reporting';
import type { Kysely } from 'kysely';
import { discoverApps, freePort, startApp, startSut, type Sut } from '@crucible/testbed';
import { checksScenario } from './calls.js';

/** What every fault step of a resilience suite is given. */
export interface ResilienceContext {
  readonly sut: Sut;
  /** Base URL of the app under test. */
  readonly url: string;
  /** Direct (unproxied) connection to the SUT database, for SQL evidence. */
  readonly db: Kysely<Database>;
  /** The Toxiproxy proxy between the app under test and PostgreSQL. */
  readonly link: ChaosProxy;
}

/** One named fault step; it may report one scenario or several (before / during / after). */
export type ResilienceStep = [name: string, run: (ctx: ResilienceContext) => Promise<ScenarioReport | ScenarioReport[]>];

export interface ResilienceSuiteOptions {
  /** The app under test; every app in `apps` runs, each behind its own proxy. */
  app: string;
  apps: string[];
  suite: string;
  /** Nx project the report belongs to (default `NX_TASK_TARGET_PROJECT`). */
  project: string;
  env: Record<string, string>;
  steps: ResilienceStep[];
  log: (line: string) => void;
}

/**
 * Runs a resilience suite: the apps behind Toxiproxy on a fresh database, each fault step in
 * turn (every proxy reset after each, even when a step fails), one report in every form.
 * Resolves to the exit code: a crash keeps the scenarios reported so far.
 */
export async function runResilienceSuite(o: ResilienceSuiteOptions): Promise<number> {
  const startedAt = new Date();
  const scenarios: ScenarioReport[] = [];
  let crash: string | undefined;
  let sut: Sut | undefined;
  let db: Kysely<Database> | undefined;
  const t0 = performance.now();
  try {
    o.log(`starting ${o.apps.join(' and ')} behind toxiproxy on the embedded PostgreSQL`);
    sut = await startSut({ apps: o.apps, chaos: true, env: o.env });
    const chaos = sut.chaos;
    if (!chaos) throw new Error('chaos was not started');
    db = createDb(createPool({ connectionString: sut.databaseUrl, max: 2 }));
    const ctx: ResilienceContext = { sut, url: sut.url(o.app), db, link: chaos.proxy(o.app) };
    for (const [name, fn] of o.steps) {
      const t = performance.now();
      try {
        const out = [await fn(ctx)].flat();
        scenarios.push(...out);
        const failed = out.filter((s) => !s.passed).map((s) => s.name);
        o.log(`${failed.length ? 'FAIL' : 'PASS'} ${name} (${((performance.now() - t) / 1000).toFixed(1)} s)${failed.length ? `: ${failed.join('; ')}` : ''}`);
      } finally {
        await chaos.reset();
      }
    }
  } catch (err) {
    crash = err instanceof Error ? (err.stack ?? err.message) : String(err);
    o.log(`crashed: ${crash}`);
  } finally {
    await db?.destroy();
    await sut?.stop();
  }
  o.log(`done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const report: RunReport = {
    schema_version: 1,
    run: runMetadata({ suite: o.suite, target: 'resilience', startedAt, finishedAt: new Date(), config: { ...o.env, toxiproxy: '2.12.0' } }),
    scenarios,
    passed: !crash && scenarios.every((s) => s.passed),
    ...(crash ? { crash } : {}),
  };
  const code = await finishRun(report, { project: process.env['NX_TASK_TARGET_PROJECT'] ?? o.project, target: 'resilience' });
  return crash ? EXIT.crash : code;
}

/**
 * Start-up faults of `app` as a report row: with its port taken, and with its database
 * unreachable, the app must exit 1 with a message naming the problem within 10 s.
 */
export async function startupFaultsScenario(app: string, sut: Sut): Promise<ScenarioReport> {
  const manifest = discoverApps().find((a) => a.name === app);
  if (!manifest) throw new Error(`${app} not found`);
  const startedAt = new Date();
  const t0 = performance.now();
  const blocker = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => blocker.once('listening', r));
  const port = (blocker.address() as net.AddressInfo).port;
  const attempt = async (envExtra: Record<string, string>) => {
    const t = performance.now();
    const err = await startApp(manifest, { env: { CRUCIBLE_ADMIN_TOKEN: sut.adminToken, DATABASE_URL: sut.databaseUrl, ...envExtra }, timeoutMs: 15_000 }).then(
      async (running) => {
        await running.stop();
        return undefined;
      },
      (e: unknown) => e as Error,
    );
    return { ms: performance.now() - t, message: err?.message ?? 'started' };
  };
  let portTaken: { ms: number; message: string };
  try {
    portTaken = await attempt({ PORT: String(port) });
  } finally {
    blocker.close();
  }
  const deadPort = await freePort();
  const unreachable = await attempt({ DATABASE_URL: `postgres://postgres:x@127.0.0.1:${deadPort}/crucible`, DB_STARTUP_TIMEOUT_MS: '1000' });
  return checksScenario('start-up faults: port taken, database unreachable', {
    verdicts: [
      expectVerdict(
        'startup-port-taken',
        /exited \(code 1\)/.test(portTaken.message) && portTaken.message.includes(`PORT ${port}`) && portTaken.ms < 10_000,
        `port taken: ${portTaken.message.slice(0, 200)}`,
        { exit_ms: Math.round(portTaken.ms) },
      ),
      expectVerdict(
        'startup-database-unreachable',
        /exited \(code 1\)/.test(unreachable.message) && unreachable.message.includes('database unreachable at DATABASE_URL') && unreachable.ms < 10_000,
        `database unreachable: ${unreachable.message.slice(0, 200)}`,
        { exit_ms: Math.round(unreachable.ms) },
      ),
    ],
    startedAt,
    durationS: (performance.now() - t0) / 1000,
    metrics: { port_taken_exit_ms: Math.round(portTaken.ms), db_unreachable_exit_ms: Math.round(unreachable.ms) },
    thresholds: ['port_taken_exit_ms: value<10000', 'db_unreachable_exit_ms: value<10000'],
  });
}
