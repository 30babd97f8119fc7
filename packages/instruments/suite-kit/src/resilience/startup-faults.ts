import net from 'node:net';
import type { ScenarioReport } from '@crucible/contracts';
import { expectVerdict } from '@crucible/checkers';
import { discoverApps, freePort, startApp, type Sut } from '@crucible/testbed';
import { checksScenario } from '../calls.js';
import type { SuiteStep } from '../suite.js';
import type { ResilienceContext } from './workload.js';

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
  // The apps it needs, where the system runs them: each attempt fails for its own fault only.
  const needs = Object.fromEntries(Object.entries(manifest.needs).map(([variable, dep]) => [variable, sut.url(dep)]));
  const attempt = async (envExtra: Record<string, string>) => {
    const t = performance.now();
    const env = { CRUCIBLE_ADMIN_TOKEN: sut.adminToken, DATABASE_URL: sut.databaseUrl, ...needs, ...envExtra };
    const err = await startApp(manifest, { env, timeoutMs: 15_000 }).then(
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

/** 7. Start-up faults as a step (the testbed's tests cover them in depth; here the same checks land in the report). */
export function startupFaultsStep(app: string): SuiteStep<ResilienceContext> {
  return { name: 'start-up faults', run: (ctx) => startupFaultsScenario(app, ctx.sut) };
}
