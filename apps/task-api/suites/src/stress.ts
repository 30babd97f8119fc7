// The task-api stress suite: `npx nx run @crucible/task-api-suites:stress [--profile=full]`.
// Brings two task-api replicas up on the embedded PostgreSQL with realistic data and proves,
// with numbers: latency at 100 RPS, isolation between five projects (API and SQL), the cost
// of five projects against one, exactly-once claims, artifact isolation, the shared cache,
// write throughput with durability, and the capacity. Writes
// reports/<project>/stress.{json,md,xml,html}; exits non-zero when anything fails.
import type { RunReport } from '@crucible/contracts';
import { createDb, createPool } from '@crucible/db';
import { buildReport, consoleSink, type RunResult, type ScenarioResult, type Sink } from '@crucible/load-engine';
import { EXIT, exitWith, finishRun, parseSuiteArgs } from '@crucible/reporting';
import { poolEvidence, startSut, type Sut } from '@crucible/testbed';
import {
  artifactIsolation,
  capacity,
  claimsExactlyOnce,
  degradationOneVsFive,
  explainHotQueries,
  isolationAcrossProjects,
  nextAt100Rps,
  sharedResourceCache,
  writeThroughput,
  type StressContext,
} from './stress.scenarios.js';
import { liveSession, Replicas, seedProjects, seedShape } from './stress.support.js';

const args = parseSuiteArgs(process.argv.slice(2));
const suite = 'task-api stress';
const replicaCount = 2;
const acquireTimeoutMs = 10_000;
/** The write-throughput target of the issue (`CRUCIBLE_WRITE_RATE` to change it); the report states what was sustained. */
const writeRate = Number(process.env['CRUCIBLE_WRITE_RATE'] ?? 1000);
const log = (line: string) => console.log(`[task-api stress] ${line}`);

async function main(): Promise<number> {
  const startedAt = new Date();
  const results: ScenarioResult[] = [];
  let crash: string | undefined;
  let sut: Sut | undefined;
  let live: Awaited<ReturnType<typeof liveSession>> | undefined;
  const runId = `task-api-stress-${Date.now().toString(36)}`;
  let ctx: StressContext | undefined;
  const t0 = performance.now();
  const elapsed = () => `${((performance.now() - t0) / 1000).toFixed(1)} s`;
  try {
    log(`profile ${args.profile}: starting ${replicaCount} task-api replicas on the embedded PostgreSQL`);
    // Bursts of 500 claimers queue behind pools of 10: a queued request waits up to 10 s (not
    // the default 1 s) before the fast 503, so the bursts measure the claim, not the queue.
    const gatewayFromEnv = process.env['CRUCIBLE_GATEWAY_URL'];
    const apps = args.live && !gatewayFromEnv ? ['task-api', 'metrics-gateway'] : ['task-api'];
    sut = await startSut({ apps, replicas: { 'task-api': replicaCount }, env: { LOG_LEVEL: 'warn', DB_ACQUIRE_TIMEOUT_MS: String(acquireTimeoutMs) } });
    const urls = sut.apps['task-api']?.map((a) => a.url) ?? [];
    const db = createDb(createPool({ connectionString: sut.databaseUrl, max: 4 }));
    const projects = ['acme', 'globex', 'initech', 'umbrella', 'hooli'];
    const keys: Record<string, string> = {};
    for (const p of projects) keys[p] = (await sut.createProject(p)).api_key;
    await seedProjects(db, projects);
    log(`seeded ${projects.length} projects × ${seedShape.tasksPerProject} tasks, ${seedShape.registryRowsTotal} registry rows (${elapsed()})`);
    const sinks: Sink[] = [consoleSink()];
    if (args.live) {
      const gatewayUrl = gatewayFromEnv ?? sut.url('metrics-gateway');
      const token = process.env['CRUCIBLE_GATEWAY_TOKEN'] ?? (gatewayFromEnv ? (process.env['CRUCIBLE_ADMIN_TOKEN'] ?? '') : sut.adminToken);
      live = await liveSession(gatewayUrl, token, runId);
      sinks.push(live.sink);
      log(`live dashboard: ${live.dashboardUrl}`);
    }
    const running = sut;
    ctx = {
      replicas: new Replicas(urls, 512),
      db,
      keys,
      projects,
      sinks,
      profile: args.profile,
      createProject: async (id) => (await running.createProject(id)).api_key,
    };
    const step = async (what: Promise<ScenarioResult | ScenarioResult[]>) => {
      const got = await what;
      for (const r of Array.isArray(got) ? got : [got]) {
        results.push(r);
        log(`${r.name}: ${r.requests} requests, ${r.requests - r.successes} errors (${elapsed()})`);
      }
    };
    await step(nextAt100Rps(ctx));
    await step(isolationAcrossProjects(ctx));
    const { results: degradationRuns, degradation } = await degradationOneVsFive(ctx);
    const lastRun = degradationRuns[degradationRuns.length - 1];
    if (lastRun) {
      lastRun.verdicts.push(degradation.verdict);
      lastRun.metrics['p99_change_pct'] = Math.round(degradation.change * 1000) / 10;
    }
    await step(Promise.resolve(degradationRuns));
    log(degradation.verdict.summary);
    for (const [pending, claimers] of [
      [10, 100],
      [20, 200],
      [50, 500],
    ] as const)
      await step(claimsExactlyOnce(ctx, pending, claimers));
    await step(artifactIsolation(ctx));
    await step(sharedResourceCache(ctx));
    await step(writeThroughput(ctx, writeRate));
    await step(capacity(ctx));
    const pools = await poolEvidence(urls);
    const evidence = [pools.evidence, ...(await explainHotQueries(db, urls[0] as string, sut.adminToken, projects[0] as string))];
    const first = results[0];
    if (first) {
      first.evidence.push(...evidence);
      first.metrics['pool_peak_in_use'] = pools.peak;
      first.metrics['pool_max'] = pools.max;
    }
    log(`pool peak ${pools.peak}/${pools.max} per replica, acquire timeouts ${pools.acquireTimeouts} over the whole run (${elapsed()})`);
    await db.destroy();
  } catch (err) {
    crash = err instanceof Error ? (err.stack ?? err.message) : String(err);
    log(`crashed: ${crash}`);
  } finally {
    await live?.end({ runId, startedAt: startedAt.toISOString(), finishedAt: new Date().toISOString(), segment: '0:1', scenarios: results }).catch(() => undefined);
    await ctx?.replicas.close();
    await sut?.stop();
  }
  const runResult: RunResult = { runId, startedAt: startedAt.toISOString(), finishedAt: new Date().toISOString(), segment: '0:1', scenarios: results };
  const project = process.env['NX_TASK_TARGET_PROJECT'] ?? '@crucible/task-api-suites';
  const meta = { suite, project, target: 'stress', profile: args.profile, config: { profile: args.profile, replicas: replicaCount, DB_ACQUIRE_TIMEOUT_MS: acquireTimeoutMs, write_rate: writeRate, ...seedShape } };
  const report: RunReport = crash
    ? { ...buildReport(runResult, meta), passed: false, crash }
    : buildReport(runResult, meta);
  const code = await finishRun(report, { target: 'stress' });
  return crash ? EXIT.crash : code;
}

exitWith(main());
