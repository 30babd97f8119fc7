// The id-service resilience suite: `npx nx run @crucible/id-service-suites:resilience`.
// Runs the id-service on the embedded PostgreSQL behind a real toxiproxy-server and puts
// load on it while the database link misbehaves. Each fault is reported in three phases
// (before / during / after) with its recovery time; the run fails if an ID is handed out
// twice, an acknowledged range is lost, a request hangs, or recovery is slow. Writes
// reports/<project>/resilience.{json,md,xml,html}.
import { bandwidth, down, latency, limitData, phasesOf, resetPeer, slicer, spanOf, timeout, withFaults, type FaultStep, type StepRecord, type TimelineRun } from '@crucible/chaos';
import { checkIds, idEvidenceFromDb, reconcileIds, type IdOperation } from '@crucible/checkers';
import type { ScenarioReport } from '@crucible/contracts';
import { constantArrivalRate, constantVUs, run, scenario, type ExecutorConfig } from '@crucible/load-engine';
import { exitWith, expectVerdict } from '@crucible/reporting';

import { reserveWithRetries } from './resilience.support.js';
import { callsIn, healthStatus, hungCalls, poolDrained, uncleanFailures, type HttpCall, percentileOf, phaseReports, recoveryMs, startProbe, runResilienceSuite, startupFaultsScenario, type ResilienceContext } from '@crucible/suite-kit';

const suite = 'id-service resilience';
const log = (line: string) => console.log(`[id-service resilience] ${line}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// Short client-side limits so a silent link turns into a fast 503, not a long wait.
const env = { LOG_LEVEL: 'warn', DB_POOL_MAX: '10', DB_ACQUIRE_TIMEOUT_MS: '1000', DB_STATEMENT_TIMEOUT_MS: '2000', DB_QUERY_TIMEOUT_MS: '2500' };

type Ctx = ResilienceContext;

async function project(ctx: Ctx, id: string): Promise<string> {
  const { api_key } = await ctx.sut.createProject(id);
  // One call first, so measured calls do not include the key's first verification.
  await fetch(`${ctx.url}/ids/registry`, { headers: { authorization: `Bearer ${api_key}` } }).then((r) => r.arrayBuffer());
  return api_key;
}

interface LoadResult {
  calls: HttpCall[];
  history: IdOperation[];
  timeline: TimelineRun;
  dropped: number;
}

/**
 * Keyed reservations driven by the load engine while `steps` act on the database link.
 * `retry: false` sends each reservation once; `retry: true` retries with the same
 * Idempotency-Key until it succeeds (up to 10 s).
 */
async function reservationsUnderFaults(
  ctx: Ctx,
  o: { name: string; projectId: string; executor: ExecutorConfig; steps: FaultStep[]; retry: boolean; count?: (i: number) => number; type?: (i: number) => string },
): Promise<LoadResult> {
  const apiKey = await project(ctx, o.projectId);
  const calls: HttpCall[] = [];
  const history: IdOperation[] = [];
  const s = scenario({
    name: o.name,
    executor: o.executor,
    gracefulStop: '12s',
    request: async (it) => {
      const op = await reserveWithRetries(it.http, {
        apiKey,
        projectId: o.projectId,
        type: o.type?.(it.iteration) ?? 'US',
        count: o.count?.(it.iteration) ?? 1 + (it.iteration % 3),
        idempotent: true,
        attempts: calls,
        process: it.vu,
        deadlineMs: o.retry ? 10_000 : 0,
      });
      history.push(op);
      return op;
    },
    isSuccess: (op) => op.outcome === 'ok',
  });
  const { result, timeline } = await withFaults(o.steps, (signal) => run([s], { baseUrl: ctx.url, signal }));
  return { calls, history, timeline, dropped: result.scenarios[0]?.dropped ?? 0 };
}

async function reconcile(ctx: Ctx, history: IdOperation[], projectId: string) {
  const { registry, reservations } = await idEvidenceFromDb(ctx.db, [projectId]);
  return reconcileIds(history, registry, reservations);
}

const stepOf = (timeline: TimelineRun, i = 0): StepRecord => {
  const step = timeline.steps[i];
  if (!step?.appliedAt || !step.removedAt) throw new Error(`fault step ${i} did not run: ${step?.error ?? 'missing'}`);
  return step;
};
const hung = hungCalls;
const unclean = uncleanFailures;
const round = (x: number | null) => (x === null ? -1 : Math.round(x));

/** 1. Latency 100±20 ms on the database link during load: no errors, the shift visible. */
async function dbLatency(ctx: Ctx): Promise<ScenarioReport[]> {
  const r = await reservationsUnderFaults(ctx, {
    name: 'latency',
    projectId: 'res-latency',
    executor: constantArrivalRate({ rate: 12, duration: '14s', preAllocatedVUs: 20, maxVUs: 120 }),
    steps: [{ at: 4000, for: 6000, proxy: ctx.link, fault: latency(100, 20) }],
    retry: false,
    // A sequence's row stays locked until COMMIT, a round trip later: with 100 ms per round
    // trip one sequence takes ~7 reservations/s, so the load spreads over four types.
    type: (i) => ['US', 'BG', 'TK', 'EP'][i % 4]!,
  });
  const step = stepOf(r.timeline);
  const [before, during] = phasesOf(step, r.timeline);
  const p50Before = percentileOf(callsIn(r.calls, before!), 50) ?? 0;
  const p50During = percentileOf(callsIn(r.calls, during!), 50) ?? 0;
  const rec = await reconcile(ctx, r.history, 'res-latency');
  return phaseReports(r.calls, {
    name: 'database latency 100±20 ms during load',
    executor: 'constant-arrival-rate 12/s over 4 types, keyed POST /ids/reserve',
    step,
    run: r.timeline,
    targetRps: 12,
    // Latency bounds are loose (a shared, loaded 2-core machine); errors and the shift are the test.
    before: { thresholds: ['errors: rate<0.02'] },
    during: {
      // Every request makes ~4 round trips to the database: the shift must show.
      thresholds: ['errors: rate<0.02', 'latency_shift_p50_ms: value>=80', 'p(99)<5000'],
      metrics: { latency_shift_p50_ms: Math.round(p50During - p50Before), p50_before_ms: Math.round(p50Before), p50_during_ms: Math.round(p50During) },
    },
    after: {
      thresholds: ['errors: rate<0.02', 'dropped_iterations: value==0'],
      metrics: { dropped_iterations: r.dropped },
      verdicts: [rec.verdict, checkIds(r.history)],
    },
  });
}

/** 2. The database down for 5 s during load: fast 503s with Retry-After, /health within 5 s, serving within 10 s. */
async function dbDown(ctx: Ctx): Promise<ScenarioReport[]> {
  const health = startProbe(() => healthStatus(ctx.url), 100);
  let r: LoadResult;
  try {
    r = await reservationsUnderFaults(ctx, {
      name: 'down',
      projectId: 'res-down',
      executor: constantArrivalRate({ rate: 30, duration: '16s', preAllocatedVUs: 30, maxVUs: 200 }),
      steps: [{ at: 4000, for: 5000, proxy: ctx.link, fault: down() }],
      retry: false,
    });
  } finally {
    await health.stop();
  }
  const step = stepOf(r.timeline);
  const removedAt = step.removedAt as number;
  const appliedAt = step.appliedAt as number;
  const during = callsIn(r.calls, phasesOf(step, r.timeline)[1]!);
  const refusals = during.filter((c) => c.status === 503);
  const detected = health.firstAfter(appliedAt, (s) => s === 503);
  const healthy = health.firstAfter(removedAt, (s) => s === 200);
  const recovery = recoveryMs(r.calls, removedAt);
  const rec = await reconcile(ctx, r.history, 'res-down');
  log(`down 5 s: /health 503 after ${round(detected ? detected.at - appliedAt : null)} ms, serving again ${round(recovery)} ms after the link returned`);
  return phaseReports(r.calls, {
    name: 'database down 5 s during load',
    executor: 'constant-arrival-rate 30/s, keyed POST /ids/reserve',
    step,
    run: r.timeline,
    targetRps: 30,
    before: { thresholds: ['errors: rate<0.02'] },
    during: {
      thresholds: [
        'health_detect_ms: value<5000',
        'refusal_p99_ms: value<1000',
        'refusals_without_retry_after: value==0',
        'hung_requests: value==0',
        'unclean_failures: value==0',
      ],
      metrics: {
        health_detect_ms: round(detected ? detected.at - appliedAt : null),
        refusals_503: refusals.length,
        refusal_p99_ms: round(percentileOf(refusals, 99)),
        refusals_without_retry_after: refusals.filter((c) => !c.retryAfter).length,
        hung_requests: hung(during),
        unclean_failures: unclean(during),
      },
    },
    after: {
      thresholds: ['recovery_ms: value<10000', 'health_recovery_ms: value<10000', 'recovery_ms: value>=0', 'hung_requests: value==0'],
      metrics: { recovery_ms: round(recovery), health_recovery_ms: round(healthy ? healthy.at - removedAt : null), hung_requests: hung(r.calls) },
      verdicts: [rec.verdict],
    },
  });
}

/** 3. reset_peer, then a silent link, during concurrent reservations retried with the same Idempotency-Key. */
async function resetAndTimeout(ctx: Ctx): Promise<ScenarioReport[]> {
  const r = await reservationsUnderFaults(ctx, {
    name: 'reset-timeout',
    projectId: 'res-retry',
    executor: constantVUs({ vus: 8, duration: '14s' }),
    steps: [
      { at: 2000, for: 3000, proxy: ctx.link, fault: resetPeer() },
      { at: 7000, for: 2500, proxy: ctx.link, fault: timeout(0) },
    ],
    retry: true,
  });
  stepOf(r.timeline, 0);
  stepOf(r.timeline, 1);
  const span = spanOf(r.timeline, 'reset_peer 3 s, then silent 2.5 s');
  const rec = await reconcile(ctx, r.history, 'res-retry');
  const ops = r.history.length;
  const retriedOps = ops > 0 ? r.calls.length - ops : 0;
  return phaseReports(r.calls, {
    name: 'reset_peer and timeout during concurrent reservations, idempotent retries',
    executor: 'constant-vus 8, keyed POST /ids/reserve retried with the same key',
    step: span,
    run: r.timeline,
    before: { thresholds: ['errors: rate<0.02'] },
    during: {
      thresholds: ['failed_attempts: value>0', 'unclean_failures: value==0'],
      metrics: { failed_attempts: r.calls.filter((c) => !c.ok && c.start >= (span.appliedAt ?? 0)).length, unclean_failures: unclean(r.calls) },
    },
    after: {
      thresholds: ['errors: rate<0.02', 'recovery_ms: value<10000', 'recovery_ms: value>=0'],
      metrics: {
        recovery_ms: round(recoveryMs(r.calls, span.removedAt ?? 0)),
        logical_reservations: ops,
        attempts: r.calls.length,
        retries: retriedOps,
        replayed_answers: r.calls.filter((c) => c.replayed).length,
        ops_indeterminate: r.history.filter((o) => o.outcome === 'indeterminate').length,
      },
      verdicts: [rec.verdict, checkIds(r.history)],
    },
  });
}

/** 4. Slow queries and more concurrency than the pool: fast 503 pool_exhausted, no crash, pool idle afterwards. */
async function poolExhaustion(ctx: Ctx): Promise<ScenarioReport[]> {
  const r = await reservationsUnderFaults(ctx, {
    name: 'pool',
    projectId: 'res-pool',
    executor: constantArrivalRate({ rate: 40, duration: '10s', preAllocatedVUs: 40, maxVUs: 300 }),
    // 300 ms per round trip: a keyed reservation holds its connection ~1.2 s; 40/s needs ~50 of 10.
    steps: [{ at: 2000, for: 5000, proxy: ctx.link, fault: latency(300) }],
    retry: false,
    type: (i) => ['US', 'BG', 'TK', 'EP'][i % 4]!,
  });
  const step = stepOf(r.timeline);
  const during = callsIn(r.calls, phasesOf(step, r.timeline)[1]!);
  const exhausted = during.filter((c) => c.code === 'pool_exhausted');
  // The pool must drain: nothing in use, nobody waiting.
  const { pool, ms: drainedMs } = await poolDrained(ctx.url);
  const alive = ctx.sut.apps['id-service']?.every((a) => isAlive(a.pid)) ?? false;
  const rec = await reconcile(ctx, r.history, 'res-pool');
  return phaseReports(r.calls, {
    name: 'pool exhaustion: slow queries, more concurrency than the pool',
    executor: 'constant-arrival-rate 40/s over 4 types, keyed POST /ids/reserve, DB_POOL_MAX 10, DB_ACQUIRE_TIMEOUT_MS 1000',
    step,
    run: r.timeline,
    targetRps: 40,
    before: { thresholds: ['errors: rate<0.05'] },
    during: {
      // 503 after the 1 s acquire timeout; the p99 bound leaves room for a CPU-starved event loop.
      thresholds: ['pool_exhausted: value>0', 'pool_exhausted_p50_ms: value<1500', 'pool_exhausted_p99_ms: value<3000', 'hung_requests: value==0', 'unclean_failures: value==0'],
      metrics: {
        pool_exhausted: exhausted.length,
        pool_exhausted_p50_ms: round(percentileOf(exhausted, 50)),
        pool_exhausted_p99_ms: round(percentileOf(exhausted, 99)),
        pool_exhausted_without_retry_after: exhausted.filter((c) => !c.retryAfter).length,
        hung_requests: hung(during),
        unclean_failures: unclean(during),
      },
    },
    after: {
      thresholds: ['pool_in_use: value==0', 'pool_waiting: value==0', 'crashed: value==0', 'acquire_timeouts: value>0', 'pool_drained_ms: value<10000'],
      metrics: {
        pool_in_use: pool.total - pool.idle,
        pool_waiting: pool.waiting,
        pool_drained_ms: drainedMs,
        acquire_timeouts: pool.acquire_timeouts ?? 0,
        pool_peak_in_use: pool.peak_in_use ?? 0,
        crashed: alive ? 0 : 1,
      },
      evidence: [{ title: 'pool after the fault (GET /health)', kind: 'json', content: pool }],
      verdicts: [rec.verdict],
    },
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** 5. bandwidth, slicer and limit_data on the database link: answers correct or clean failures, nothing half-written. */
async function degradedLink(ctx: Ctx): Promise<ScenarioReport[]> {
  const r = await reservationsUnderFaults(ctx, {
    name: 'degraded',
    projectId: 'res-degraded',
    executor: constantArrivalRate({ rate: 12, duration: '15s', preAllocatedVUs: 20, maxVUs: 150 }),
    steps: [
      { at: 1500, for: 3000, proxy: ctx.link, fault: bandwidth(8) },
      { at: 5500, for: 3000, proxy: ctx.link, fault: slicer(16, 8, 500) },
      { at: 9500, for: 3000, proxy: ctx.link, fault: limitData(3000) },
    ],
    retry: false,
    count: (i) => 1 + (i % 5),
  });
  const rec = await reconcile(ctx, r.history, 'res-degraded');
  // A 2xx answer must carry exactly the range asked for, rendered right.
  const wrong = r.calls.filter((c) => {
    if (!c.ok) return false;
    const b = c.body as { ids?: string[]; first?: number; last?: number };
    return !b.ids || b.first === undefined || b.last === undefined || b.ids.length !== b.last - b.first + 1 || b.ids[0] !== `US-${String(b.first).padStart(3, '0')}`;
  });
  const executor = 'constant-arrival-rate 12/s, keyed POST /ids/reserve';
  const [before, , after] = phaseReports(r.calls, {
    name: 'bandwidth, slicer, limit_data on the database link',
    executor,
    step: spanOf(r.timeline),
    run: r.timeline,
    before: { thresholds: ['errors: rate<0.02'] },
    after: {
      thresholds: ['errors: rate<0.02'],
      verdicts: [
        rec.verdict,
        checkIds(r.history),
        expectVerdict('answers-correct', wrong.length === 0, `${wrong.length} 2xx answers with a malformed range`, { wrong_answers: wrong.length }, wrong.slice(0, 5)),
      ],
    },
  });
  const perFault = r.timeline.steps.map((step) => {
    if (!step.appliedAt || !step.removedAt) throw new Error(`fault step did not run: ${step.description}: ${step.error ?? ''}`);
    const mine = callsIn(r.calls, phasesOf(step, r.timeline)[1]!);
    const what = step.description.replace(/^at [\d.]+ s add /, '').replace(/ on [^ ]+ for .*$/, '');
    return phaseReports(r.calls, {
      name: `database link: ${what}`,
      executor,
      step,
      run: r.timeline,
      during: {
        thresholds: ['unclean_failures: value==0', 'hung_requests: value==0', 'wrong_answers: value==0'],
        metrics: { unclean_failures: unclean(mine), hung_requests: hung(mine), wrong_answers: wrong.filter((c) => mine.includes(c)).length },
      },
    })[1]!;
  });
  return [before!, ...perFault, after!];
}

/** 6. Failure isolation: the task API crashes (and comes back); the id-service keeps serving. */
async function isolation(ctx: Ctx): Promise<ScenarioReport[]> {
  const apiKey = await project(ctx, 'res-isolation');
  const calls: HttpCall[] = [];
  const history: IdOperation[] = [];
  const taskApi = ctx.sut.apps['task-api']?.[0];
  if (!taskApi) throw new Error('task-api is not running');
  const startedAt = performance.timeOrigin + performance.now();
  const step: StepRecord = { name: 'task-api down', description: 'at 3 s kill task-api for 4 s', proxy: 'task-api', fault: down() };
  const s = scenario({
    name: 'isolation',
    executor: constantArrivalRate({ rate: 20, duration: '16s', preAllocatedVUs: 20, maxVUs: 100 }),
    request: async (it) => {
      const op = await reserveWithRetries(it.http, { apiKey, projectId: 'res-isolation', type: 'US', count: 1, idempotent: true, attempts: calls, deadlineMs: 0 });
      history.push(op);
      return op;
    },
    isSuccess: (op) => op.outcome === 'ok',
  });
  const crash = (async () => {
    await sleep(3000);
    await taskApi.kill();
    step.appliedAt = performance.timeOrigin + performance.now();
    await sleep(4000);
    await ctx.sut.startReplica('task-api');
    step.removedAt = performance.timeOrigin + performance.now();
  })();
  await run([s], { baseUrl: ctx.url });
  await crash;
  const timeline: TimelineRun = { startedAt, endedAt: performance.timeOrigin + performance.now(), steps: [step] };
  const rec = await reconcile(ctx, history, 'res-isolation');
  // Killing and restarting the other app costs the shared 2 cores a few seconds of CPU.
  const thresholds = ['errors: rate<0.01', 'p(95)<1500'];
  return phaseReports(calls, {
    name: 'failure isolation: task-api down, id-service serving',
    executor: 'constant-arrival-rate 20/s, keyed POST /ids/reserve',
    step,
    run: timeline,
    targetRps: 20,
    before: { thresholds },
    during: { thresholds },
    after: { thresholds, verdicts: [rec.verdict] },
  });
}

/** 7. Start-up faults (the testbed's tests cover them in depth; here the same checks land in the report). */
exitWith(
  runResilienceSuite({
    app: 'id-service',
    apps: ['id-service', 'task-api'],
    suite,
    project: '@crucible/id-service-suites',
    env,
    log,
    steps: [
      ['database latency', dbLatency],
      ['database down', dbDown],
      ['reset_peer + timeout with idempotent retries', resetAndTimeout],
      ['pool exhaustion', poolExhaustion],
      ['bandwidth / slicer / limit_data', degradedLink],
      ['failure isolation', isolation],
      ['start-up faults', (ctx) => startupFaultsScenario('id-service', ctx.sut)],
    ],
  }),
);

