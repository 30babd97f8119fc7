// The project-count curve's and the user ladder's verdicts, each shown failing on a real
// system carrying the defect it exists to catch, and passing on the clean one: real task-api
// replicas (and the ID service) on a real PostgreSQL behind the real nginx
// (tools/install-nginx.sh). Every case runs the suite's own step, sized to seconds.
import type { ScenarioReport, Verdict } from '@crucible/contracts';
import { createDb, createPool } from '@crucible/db';
import { pgWaitFigures, startPgWaitProbe, type SuiteStep } from '@crucible/suite-kit';
import { failedChecks, openStepRunner, type StepRunner } from '@crucible/suite-kit/testing';
import { startNginx, startSut, type RunningApp, type Sut } from '@crucible/testbed';
import { testServer } from '@crucible/testbed/testing';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScaleContext } from './scale/context.js';
import { projectCurve } from './scale/project-curve.js';
import { userLadder } from './scale/user-ladder.js';

let sut: Sut;
let steps: StepRunner;
beforeAll(async () => {
  sut = await startSut({ server: testServer(), apps: ['task-api'], env: { LOG_LEVEL: 'silent' } });
  steps = openStepRunner(sut);
}, 120_000);
afterAll(async () => {
  await steps?.close();
  await sut?.stop();
});

/** A context whose one replica is `replica` (the curve's 1-replica side puts an nginx of its own in front of it). */
const contextOn = (replica: RunningApp, balancedUrl = replica.url): ScaleContext => ({ balancedUrl, replicaUrls: [replica.url], projects: [], keys: {} });

async function run(step: SuiteStep<ScaleContext>, ctx: ScaleContext): Promise<{ rows: ScenarioReport[]; v: (checker: string) => Verdict[] }> {
  const rows = await steps.run(step, ctx);
  return { rows, v: (checker) => rows.flatMap((r) => r.verdicts.filter((x) => x.checker === checker)) };
}

/** A replica of its own with `env`, stopped after `body`. */
async function withReplica<T>(env: Record<string, string>, body: (replica: RunningApp) => Promise<T>): Promise<T> {
  const replica = await sut.startReplica('task-api', { LOG_LEVEL: 'silent', ...env });
  try {
    return await body(replica);
  } finally {
    await replica.stop(1000);
  }
}

describe('pg_stat_activity probe', () => {
  it('counts a backend waiting on a row lock while another transaction holds it, and none once it is released', async () => {
    const db = createDb(createPool({ connectionString: sut.databaseUrl, max: 3 }));
    try {
      await sql`create table if not exists lock_probe (id int primary key, n int)`.execute(db);
      await sql`insert into lock_probe values (1, 0) on conflict do nothing`.execute(db);
      const probe = startPgWaitProbe(db, 50);
      let blocked: Promise<unknown> | undefined;
      await db.transaction().execute(async (trx) => {
        await sql`select * from lock_probe where id = 1 for update`.execute(trx);
        blocked = sql`update lock_probe set n = n + 1 where id = 1`.execute(db);
        await new Promise((r) => setTimeout(r, 500));
      });
      await blocked;
      await new Promise((r) => setTimeout(r, 300));
      const samples = await probe.stop();
      const figures = pgWaitFigures(samples);
      expect(figures.pg_lock_waiting_max).toBe(1);
      expect(samples.at(-1)?.value.lock).toBe(0);
      expect(() => pgWaitFigures([])).toThrow(/no pg_stat_activity sample/);
    } finally {
      await db.destroy();
    }
  });
});

describe('project-count curve', () => {
  // 1 and 20 projects behind an nginx in front of one replica, 3 interleaved rounds of 3 s at 40/s (a starved round measured up to twice more).
  // Three seconds, not two: the median of a run's three seconds' p99 is one second's, so a stall in one second moves no run.
  const curve = (rounds = 3) => projectCurve({ rate: 40, counts: [1, 20], sides: ['one'], rounds, duration: '3s', warmup: '300ms', retries: 2 });

  it('on the clean replica: every point correct (isolation, ids, claims), p99 growth not failed, the figures reported', async () => {
    const { rows, v } = await withReplica({}, (r) => run(curve(), contextOn(r)));
    for (const checker of ['api-isolation', 'exactly-once-claims', 'task-id-reconciliation']) {
      expect(v(checker).map((x) => x.status), checker).toEqual(['pass', 'pass']);
    }
    const p99 = v('project-curve-p99')[0];
    // A percentile bound on a loaded 2-core machine may land indeterminate; failed it must not be.
    expect(p99?.status, p99?.summary).not.toBe('fail');
    const point20 = rows.filter((r) => r.metrics['point_p99_ms'] !== undefined).at(-1) as ScenarioReport;
    expect(point20.metrics['requests_per_project_min']).toBeGreaterThan(0);
    // Each project's cold first create (its id block fetched) was taken before the rounds and is reported apart.
    expect(point20.metrics['primed_first_create_max_ms']).toBeGreaterThan(0);
    expect(point20.metrics['min_project_share_of_fair']).toBeGreaterThan(0.3);
    // Sampled, not assumed: the replica's pooled connections are seen in pg_stat_activity, and at 40/s nobody waits for one.
    expect(point20.metrics['pg_samples']).toBeGreaterThan(5);
    expect(point20.metrics['pg_backends_max']).toBeGreaterThan(0);
    expect(point20.metrics['pool_waiting_max']).toBe(0);
  }, 180_000);

  it('fails project-curve-p99 naming the p99 when GET /tasks/next costs time per active project (tasks.next.per-project-cost)', async () => {
    // Four rounds: a round whose generator stays starved on the busy shared machine is left out, and three must remain.
    const { v } = await withReplica({ CRUCIBLE_FAILPOINTS: 'tasks.next.per-project-cost=1' }, (r) => run(curve(4), contextOn(r)));
    const p99 = v('project-curve-p99')[0];
    expect(p99?.status, p99?.summary).toBe('fail');
    expect(p99?.summary).toMatch(/^one_replica fail: p99 of the mix per second \(ms, median second\), 1 vs 20 projects, 1 replica: .* past the 10\.0% bound/);
  }, 180_000);

  it('fails api-isolation at both points when GET /tasks lists without the project filter (tasks.list.unscoped)', async () => {
    const { v } = await withReplica({ CRUCIBLE_FAILPOINTS: 'tasks.list.unscoped=1' }, (r) => run(curve(1), contextOn(r)));
    const isolation = v('api-isolation');
    expect(isolation.map((x) => x.status)).toEqual(['fail', 'fail']);
    expect(isolation[1]?.summary).toMatch(/^\d+ rows of another project in \d+ answers/);
    expect(isolation[1]?.counts['leaked_items']).toBeGreaterThan(0);
    // The defect is in listing only: claims and ids still hold.
    expect(v('exactly-once-claims').map((x) => x.status)).toEqual(['pass', 'pass']);
  }, 180_000);
});

describe('user ladder', () => {
  // 30 users thinking 100–300 ms for 5 s: ~150 requests/s on one replica.
  const ladder = userLadder({ rungs: [30], duration: '5s', thinkMs: [100, 300], projects: 3 });

  async function ladderOn(env: Record<string, string>) {
    return withReplica(env, async (r) => {
      await using lb = await startNginx({ upstreams: [r.url] });
      return await run(ladder, contextOn(r, lb.url));
    });
  }

  it('on the clean replica: errors under 1 %, answers within 500 ms, CPU share and RSS of both services reported', async () => {
    const { rows, v } = await ladderOn({});
    const row = rows[0] as ScenarioReport;
    expect(row.thresholds.find((t) => t.expression === 'rate<0.01')?.passed, `${failedChecks(rows).join('\n')} ${JSON.stringify(row.errors)}`).toBe(true);
    expect(row.metrics['answers']).toBeGreaterThan(200);
    expect(v('user-ladder-p95')[0]?.status).not.toBe('fail');
    for (const s of ['task_api', 'id_service']) {
      expect(row.metrics[`${s}_cpu_pct`], s).toBeGreaterThan(0);
      expect(row.metrics[`${s}_rss_mb`], s).toBeGreaterThan(20);
      expect(row.thresholds.find((t) => t.expression === `${s}_rss_mb: value<2048`)?.passed).toBe(true);
    }
  }, 120_000);

  // The CPU and RSS budgets a 5 s rung of 30 users on one replica can be seen to pass clean and
  // to exceed with the planted defects (the suite's own are 70 % of the machine and 2 GB). Seen
  // at load 3: clean 8.5 % and 159 MB over 753 answers; spun 43.9 % (one core is 50 %); a leak
  // of 1 MiB per answer passes 300 MB after ~150 answers.
  const budgets = { cpuSharePct: 20, rssMb: 300 } as const;
  const budgeted = userLadder({ rungs: [30], duration: '5s', thinkMs: [100, 300], projects: 3, budgets });
  const status = (row: ScenarioReport, expression: string) => row.thresholds.find((t) => t.expression === expression);

  async function budgetedOn(env: Record<string, string>) {
    return withReplica(env, async (r) => {
      await using lb = await startNginx({ upstreams: [r.url] });
      return await run(budgeted, contextOn(r, lb.url));
    });
  }

  it('on the clean replica the tight CPU and RSS budgets pass; a 20 ms spin per request (tasks.cpu.spin) fails task_api_cpu_pct, a 1 MiB leak per request (tasks.memory.leak) fails task_api_rss_mb', async () => {
    const clean = (await budgetedOn({})).rows[0] as ScenarioReport;
    const cpu = `task_api_cpu_pct: value<${budgets.cpuSharePct}`;
    const rss = `task_api_rss_mb: value<${budgets.rssMb}`;
    const figures = (row: ScenarioReport) => `CPU ${row.metrics['task_api_cpu_pct']} %, RSS ${row.metrics['task_api_rss_mb']} MB, ${row.metrics['answers']} answers`;
    expect(status(clean, cpu)?.passed, figures(clean)).toBe(true);
    expect(status(clean, rss)?.passed, figures(clean)).toBe(true);

    const spun = (await budgetedOn({ CRUCIBLE_FAILPOINTS: 'tasks.cpu.spin=1' })).rows[0] as ScenarioReport;
    expect(status(spun, cpu)?.passed, figures(spun)).toBe(false);
    expect(status(spun, rss)?.passed, figures(spun)).toBe(true);
    expect(spun.metrics['task_api_cpu_pct']).toBeGreaterThan(clean.metrics['task_api_cpu_pct'] ?? Infinity);

    const leaky = (await budgetedOn({ CRUCIBLE_FAILPOINTS: 'tasks.memory.leak=1' })).rows[0] as ScenarioReport;
    expect(status(leaky, rss)?.passed, figures(leaky)).toBe(false);
    // Only the task API leaks: the ID service's RSS stays within its budget.
    expect(status(leaky, `id_service_rss_mb: value<${budgets.rssMb}`)?.passed, figures(leaky)).toBe(true);
  }, 180_000);

  it('fails user-ladder-p95 naming the p95 when one request in five is held 600 ms (tasks.answer.slow)', async () => {
    // A starved generator makes a miss indeterminate; measure again, up to 3 times, for a verdict.
    let verdict: Verdict | undefined;
    for (let attempt = 0; attempt < 3 && verdict?.status !== 'fail'; attempt++) verdict = (await ladderOn({ CRUCIBLE_FAILPOINTS: 'tasks.answer.slow=0.2' })).v('user-ladder-p95')[0];
    expect(verdict?.status, verdict?.summary).toBe('fail');
    expect(verdict?.summary).toMatch(/answer p95 \d+(\.\d+)? ms .*must be under 500 ms/);
    expect(Number(verdict?.counts['answer_p95_ms'])).toBeGreaterThanOrEqual(600);
  }, 240_000);

  it('fails the error threshold when the replica has a one-connection pool with a 1 ms acquire timeout (503 pool_exhausted)', async () => {
    const { rows } = await ladderOn({ DB_POOL_MAX: '1', DB_ACQUIRE_TIMEOUT_MS: '1' });
    const failures = failedChecks(rows);
    expect(failures.some((f) => /: rate<0\.01 \(/.test(f)), failures.join('\n')).toBe(true);
    expect((rows[0] as ScenarioReport).errors['HTTP 503']).toBeGreaterThan(0);
  }, 120_000);
});
