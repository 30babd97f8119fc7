// The id-service stress suite: `npx nx run @crucible/id-service-suites:stress [--profile=full]`.
// Brings the id-service up on the embedded PostgreSQL and proves, with counts, that IDs never
// collide and that each project's sequences are its own. Writes
// reports/<project>/stress.{json,md,xml,html}; exits non-zero when an invariant fails.
import { randomUUID } from 'node:crypto';
import { checkApiLeakage, checkIds, classifyOutcome, idEvidenceFromDb, reconcileIds, type ApiObservation, type IdOperation } from '@crucible/checkers';
import { idRegistryResponseSchema, type RunReport, type ScenarioReport } from '@crucible/contracts';
import { createDb, createPool, type Database } from '@crucible/db';
import { EXIT, exitWith, expectVerdict, finishRun, parseSuiteArgs, runMetadata, scenarioReport } from '@crucible/reporting';
import { explainEvidence, poolEvidence, startSut, type Sut } from '@crucible/testbed';
import type { Kysely } from 'kysely';
import type { Pool } from 'undici';
import { burst, run, scenario, type ScenarioResult } from '@crucible/load-engine';
import { httpPool, timedCall, type CallRecord } from './stress.support.js';

const args = parseSuiteArgs(process.argv.slice(2));
const suite = 'id-service stress';
const acquireTimeoutMs = 10_000;
const log = (line: string) => console.log(`[id-service stress] ${line}`);

interface Ctx {
  sut: Sut;
  http: Pool;
  db: Kysely<Database>;
  keys: Map<string, Promise<string>>;
}

async function project(ctx: Ctx, id: string): Promise<string> {
  // Concurrent first calls share one creation.
  let key = ctx.keys.get(id);
  if (!key) {
    key = ctx.sut.createProject(id).then(async ({ api_key }) => {
      // One call first, so the measured calls do not include the key's first verification.
      await timedCall(ctx.http, '/ids/registry', { headers: { authorization: `Bearer ${api_key}` } });
      return api_key;
    });
    ctx.keys.set(id, key);
  }
  return key;
}

interface Reservation {
  call: CallRecord;
  op: IdOperation;
  observation: ApiObservation;
}

/** One keyed reservation (`POST /ids/reserve`, or `GET /ids/next` when `count` is omitted), recorded for the checkers. */
async function reserve(ctx: Ctx, projectId: string, type: string, count?: number, process?: number): Promise<Reservation> {
  const key = await project(ctx, projectId);
  const idempotencyKey = randomUUID();
  const headers = { authorization: `Bearer ${key}`, 'idempotency-key': idempotencyKey };
  const call =
    count === undefined
      ? await timedCall(ctx.http, `/ids/next?type=${type}`, { headers })
      : await timedCall(ctx.http, '/ids/reserve', { method: 'POST', headers, body: { type, count } });
  const outcome = classifyOutcome(call);
  const body = call.body as { first?: number; last?: number; number?: number; project_id?: string } | undefined;
  const first = count === undefined ? body?.number : body?.first;
  const last = count === undefined ? body?.number : body?.last;
  const op: IdOperation = {
    process: process ?? 0,
    project_id: projectId,
    type,
    count: count ?? 1,
    outcome,
    idempotency_key: idempotencyKey,
    ...(outcome === 'ok' && first !== undefined && last !== undefined ? { first, last } : {}),
    ...(outcome !== 'ok' ? { error: call.code ?? String(call.status) } : {}),
  };
  // /ids/next answers carry no project: the range itself is checked per project by checkIds.
  const observation: ApiObservation = {
    asking_project: projectId,
    endpoint: count === undefined ? 'GET /ids/next' : 'POST /ids/reserve',
    status: call.status ?? 0,
    items: count !== undefined && outcome === 'ok' ? [{ project_id: body?.project_id }] : [],
  };
  return { call, op, observation };
}

async function registryOf(ctx: Ctx, projectId: string): Promise<Record<string, number>> {
  const key = await project(ctx, projectId);
  const res = await timedCall(ctx.http, '/ids/registry', { headers: { authorization: `Bearer ${key}` } });
  const body = idRegistryResponseSchema.parse(res.body);
  return Object.fromEntries(body.sequences.map((s) => [s.type, s.last_assigned_id]));
}

async function reconcileVerdict(ctx: Ctx, history: IdOperation[], projects: string[]) {
  const { registry, reservations } = await idEvidenceFromDb(ctx.db, projects);
  return reconcileIds(history, registry, reservations).verdict;
}

/**
 * Runs `n` calls released together behind the load engine's barrier (a burst) and returns
 * the engine's result with every call's record, in call order.
 */
async function burstOf(
  ctx: Ctx,
  name: string,
  n: number,
  call: (i: number) => Promise<Reservation>,
  thresholds: string[],
  tags: Record<string, string> = {},
): Promise<{ result: ScenarioResult; reservations: Reservation[] }> {
  const ran = await run(
    scenario<Reservation>({ name, executor: burst({ requests: n }), request: (it) => call(it.iteration), isSuccess: (r) => r.op.outcome === 'ok', thresholds, tags }),
    { baseUrl: ctx.sut.url('id-service') },
  );
  const result = ran.scenarios[0] as ScenarioResult;
  const reservations = [...result.outcomes].sort((a, b) => a.index - b.index).flatMap((o) => (o.value ? [o.value as Reservation] : []));
  return { result, reservations };
}

/** 50 concurrent reservations of 6 → 300 unique IDs, registry 300. */
async function fiftyBySix(ctx: Ctx): Promise<ScenarioReport> {
  await project(ctx, 'alpha');
  const { result, reservations } = await burstOf(ctx, '50 concurrent reservations of 6', 50, (i) => reserve(ctx, 'alpha', 'US', 6, i), [
    'errors: rate==0',
    'unique_ids: value==300',
    'registry: value==300',
  ]);
  const history = reservations.map((r) => r.op);
  const registry = await registryOf(ctx, 'alpha');
  const ids = new Set(reservations.flatMap((r) => ((r.call.body as { ids?: string[] } | undefined)?.ids ?? [])));
  result.metrics['unique_ids'] = ids.size;
  result.metrics['registry'] = registry['US'] ?? 0;
  result.verdicts.push(checkIds(history), await reconcileVerdict(ctx, history, ['alpha']), checkApiLeakage(reservations.map((r) => r.observation)));
  return scenarioReport(result);
}

/** 5 projects × 10 reservations, all at once → five independent sequences 1..30. */
async function independentSequences(ctx: Ctx): Promise<ScenarioReport> {
  const projects = ['p1', 'p2', 'p3', 'p4', 'p5'];
  for (const p of projects) await project(ctx, p);
  const { result, reservations } = await burstOf(
    ctx,
    '5 projects × 10 reservations: independent sequences',
    50,
    (i) => reserve(ctx, projects[i % 5] as string, 'US', 3, i),
    ['errors: rate==0', 'projects_at_30: value==5'],
  );
  const history = reservations.map((r) => r.op);
  const registries = await Promise.all(projects.map((p) => registryOf(ctx, p)));
  result.metrics['projects_at_30'] = registries.filter((r) => r['US'] === 30).length;
  result.verdicts.push(checkIds(history), await reconcileVerdict(ctx, history, projects), checkApiLeakage(reservations.map((r) => r.observation)));
  return scenarioReport(result);
}

/** alpha's registry at 10 and beta's at 20 → their next IDs, asked at once, are US-011 and US-021. */
async function nextAfterRegistry(ctx: Ctx): Promise<ScenarioReport> {
  await Promise.all([project(ctx, 'seq-alpha'), project(ctx, 'seq-beta')]);
  const seed = await Promise.all([reserve(ctx, 'seq-alpha', 'US', 10), reserve(ctx, 'seq-beta', 'US', 20)]);
  const { result, reservations } = await burstOf(ctx, 'alpha at 10, beta at 20 → US-011, US-021', 2, (i) => reserve(ctx, i === 0 ? 'seq-alpha' : 'seq-beta', 'US'), [
    'errors: rate==0',
  ]);
  const [a, b] = reservations;
  const got = { alpha: (a?.call.body as { id?: string } | undefined)?.id, beta: (b?.call.body as { id?: string } | undefined)?.id };
  const passed = got.alpha === 'US-011' && got.beta === 'US-021';
  result.verdicts.push(
    expectVerdict('next-id-per-project', passed, `alpha's next ID ${got.alpha ?? 'none'} (want US-011), beta's ${got.beta ?? 'none'} (want US-021)`, {
      alpha_next: a?.op.first ?? 0,
      beta_next: b?.op.first ?? 0,
    }),
    checkIds([...seed, ...reservations].map((r) => r.op)),
  );
  return scenarioReport(result);
}

/**
 * `size` concurrent reservations on one sequence, `GET /ids/next` and `POST /ids/reserve`
 * (count 2) interleaved: zero collisions, and nothing lost.
 */
async function burstScenario(ctx: Ctx, size: number, round: number): Promise<ScenarioReport> {
  const projectId = `burst-${size}`;
  const type = `B${round}`;
  await project(ctx, projectId);
  const { result, reservations } = await burstOf(
    ctx,
    `burst of ${size} concurrent reservations${round > 0 ? ` (round ${round + 1})` : ''}`,
    size,
    (i) => reserve(ctx, projectId, type, i % 2 ? 2 : undefined, i),
    ['errors: rate==0', 'duplicate_ids: value==0'],
    { concurrency: String(size) },
  );
  const history = reservations.map((r) => r.op);
  const ids = checkIds(history);
  result.metrics['duplicate_ids'] = ids.counts['duplicate_ids'] ?? 0;
  result.verdicts.push(ids, await reconcileVerdict(ctx, history, [projectId]));
  return scenarioReport(result);
}

async function main(): Promise<number> {
  const startedAt = new Date();
  const scenarios: ScenarioReport[] = [];
  let crash: string | undefined;
  log(`profile ${args.profile}: starting the id-service on the embedded PostgreSQL`);
  // Every scenario here is a burst that lasts about a second: nothing to watch live.
  if (args.live) log('--live: the id-service scenarios are sub-second bursts; nothing is streamed (the task-api suite streams its rate scenarios)');
  let sut: Sut | undefined;
  let ctx: Ctx | undefined;
  try {
    // A 500-call burst queues on one sequence's row lock behind a pool of 10: give a queued
    // request 10 s (not the default 1 s) before the fast 503, so the burst measures the allocator.
    sut = await startSut({ apps: ['id-service'], env: { LOG_LEVEL: 'warn', DB_ACQUIRE_TIMEOUT_MS: String(acquireTimeoutMs) } });
    const pool = createPool({ connectionString: sut.databaseUrl, max: 4 });
    ctx = { sut, http: httpPool(sut.url('id-service'), 600), db: createDb(pool), keys: new Map() };
    const step = async (what: Promise<ScenarioReport>) => {
      const s = await what;
      log(`${s.passed ? 'PASS' : 'FAIL'} ${s.name}: ${s.requests} calls, p99 ${s.latency_ms?.p99 ?? '-'} ms`);
      scenarios.push(s);
    };
    await step(fiftyBySix(ctx));
    await step(independentSequences(ctx));
    await step(nextAfterRegistry(ctx));
    const rounds = args.profile === 'full' ? 3 : 1;
    for (const size of [100, 200, 500]) for (let r = 0; r < rounds; r++) await step(burstScenario(ctx, size, r));
    const pools = await poolEvidence(sut.apps['id-service']?.map((a) => a.url) ?? []);
    const last = scenarios[scenarios.length - 1];
    if (last) {
      last.evidence.push(pools.evidence, ...(await explainEvidence(sut.url('id-service'), sut.adminToken, 'alpha')));
      last.metrics['pool_peak_in_use'] = pools.peak;
      last.metrics['pool_acquire_timeouts'] = pools.acquireTimeouts;
    }
    log(`pool peak ${pools.peak}/${pools.max}, acquire timeouts ${pools.acquireTimeouts}`);
  } catch (err) {
    crash = err instanceof Error ? (err.stack ?? err.message) : String(err);
    log(`crashed: ${crash}`);
  } finally {
    await ctx?.http.close();
    await ctx?.db.destroy();
    await sut?.stop();
  }
  const report: RunReport = {
    schema_version: 1,
    run: runMetadata({ suite, target: 'stress', profile: args.profile, startedAt, finishedAt: new Date(), config: { profile: args.profile, DB_ACQUIRE_TIMEOUT_MS: acquireTimeoutMs } }),
    scenarios,
    passed: !crash && scenarios.every((s) => s.passed),
    ...(crash ? { crash } : {}),
  };
  const code = await finishRun(report, { project: process.env['NX_TASK_TARGET_PROJECT'] ?? '@crucible/id-service-suites', target: 'stress' });
  return crash ? EXIT.crash : code;
}

exitWith(main());
