// The user ladder: a closed model of 100 → 500 → 1,000 → 2,000 concurrent users on the
// task API through nginx, each on its own keep-alive connection and thinking between actions,
// with every service's CPU share and RSS read from /proc while each rung runs.
import { expectVerdict } from '@crucible/checkers';
import type { Evidence } from '@crucible/contracts';
import { createLatencyHistogram, percentileMs, recordLatencyMs } from '@crucible/instrument-kit';
import { constantVUs, HttpClient, scenario, type HttpResponse, type ScenarioResult } from '@crucible/load-engine';
import { startProbe, type SuiteKit, type SuiteStep } from '@crucible/suite-kit';
import { cpuShareOf, processUsage, type ProcessUsage, type RunningApp } from '@crucible/testbed';
import { codeOf } from '../stress/context.js';
import type { ScaleContext } from './context.js';

/** How the ladder runs; the defaults are the suite's. */
export interface UserLadderPlan {
  /** Concurrent users of each rung (default 100, 500, 1,000, 2,000). */
  readonly rungs?: readonly number[];
  /** Length of each rung (default 20 s quick, 60 s full). */
  readonly duration?: string;
  /**
   * A user's think time between actions, drawn uniformly (default 5–15 s: 2,000 users then ask
   * ~200 requests/s, what 3 replicas, PostgreSQL and the generator share on 2 cores).
   */
  readonly thinkMs?: readonly [number, number];
  /** Projects the users belong to (default 10, created by the step). */
  readonly projects?: number;
  /**
   * The CPU-share and RSS budgets (default {@link ladderGoals}: 70 % of the machine, 2 GB). Only
   * a planted-defect test sets them, to budgets a 5 s rung of 30 users can be seen to exceed
   * (a 20 ms spin per request, a 1 MiB leak per request); the suite always runs the defaults.
   */
  readonly budgets?: { readonly cpuSharePct?: number; readonly rssMb?: number };
}

/** The goals per rung: answers within 500 ms at p95 and under 1 % errors up to 1,000 users, under 5 % errors at 2,000. */
export const ladderGoals = { p95Ms: 500, p95UpToUsers: 1000, errorsUpTo1000: 0.01, errorsAbove: 0.05, cpuSharePct: 70, rssMb: 2048 } as const;

/** The thresholds of a rung of `users`, declared beside the goals they read. */
export function rungThresholds(users: number, budgets: UserLadderPlan['budgets'] = {}): string[] {
  const errors = users <= ladderGoals.p95UpToUsers ? ladderGoals.errorsUpTo1000 : ladderGoals.errorsAbove;
  const cpu = budgets.cpuSharePct ?? ladderGoals.cpuSharePct;
  const rss = budgets.rssMb ?? ladderGoals.rssMb;
  const services = ['task_api', 'id_service'].flatMap((s) => [`${s}_cpu_pct: value<${cpu}`, `${s}_rss_mb: value<${rss}`]);
  return [`rate<${errors}`, ...services];
}

const actions = 'per action: 40 % GET /tasks, 20 % GET /tasks/next, 15 % GET /tasks/:id, 15 % POST /tasks, 10 % POST /tasks/claim';

interface Answer {
  readonly status: number;
  readonly ok: boolean;
}

/**
 * One rung per entry of `rungs`: that many users (`constant-vus`) for `duration` through the
 * suite's nginx, each with its own keep-alive connection; a user's first action waits a random
 * part of the think time (so a rung does not start as a burst), then each action is one
 * request ({@link actions}) followed by a think time. Because the engine's iteration holds the
 * think time, the answer time is measured around the request alone (an HDR histogram per rung:
 * `answer_p50_ms`, `answer_p95_ms`, `answer_p99_ms`); the row's own latency columns are a whole
 * action, think time included. Per rung: `user-ladder-p95` (answer p95 < 500 ms, up to 1,000
 * users; `indeterminate` when the generator was starved), the error rate (< 1 %, < 5 % at
 * 2,000) and each service's CPU share of the machine (`/proc/<pid>/stat` before and after) and
 * peak RSS (`/proc/<pid>/status`, sampled each second) against < 70 % and < 2 GB.
 */
export function userLadder(plan: UserLadderPlan = {}): SuiteStep<ScaleContext> {
  const rungs = plan.rungs ?? [100, 500, 1000, 2000];
  const [thinkMin, thinkMax] = plan.thinkMs ?? [5000, 15000];
  return {
    name: `user ladder: ${rungs.join(' → ')} users, think ${thinkMin / 1000}–${thinkMax / 1000} s`,
    // A starved rung stands as indeterminate: a second ladder would double the step's length.
    rerunWhenStarved: false,
    async run(ctx, kit) {
      const duration = plan.duration ?? (kit.args.profile === 'full' ? '60s' : '20s');
      const tag = Date.now().toString(36);
      const projects = Array.from({ length: plan.projects ?? 10 }, (_, i) => `ladder-${tag}-${i}`);
      const keys = await Promise.all(projects.map(async (p) => (await kit.sut.createProject(p)).api_key));
      await kit.db
        .insertInto('tasks')
        .values(projects.flatMap((p) => Array.from({ length: 300 }, (_, i) => ({ project_id: p, task_id: `${p}-${i}`, title: `ladder task ${i}`, status: 'pending', priority: i % 10 }))))
        .execute();
      const services = servicesOf(kit, ctx);
      const rows: ScenarioResult[] = [];
      let created = 0;
      for (const users of rungs) {
        const answers = createLatencyHistogram();
        const clients: HttpClient[] = [];
        const before = await readAll(services);
        const rss = startProbe(() => Promise.all(Object.values(services).flat().map((a) => processUsage(a.pid))), 1000);
        const think = () => thinkMin + Math.random() * (thinkMax - thinkMin);
        let result: ScenarioResult;
        try {
          result = await kit.runOne(
            scenario({
              name: `user ladder: ${users} users, think ${thinkMin / 1000}–${thinkMax / 1000} s (latency columns: a whole action with its think time; answer_p95_ms: the answer)`,
              executor: constantVUs({ vus: users, duration }),
              baseUrl: ctx.balancedUrl,
              // Past the rung's end a user only finishes thinking: no request is left to wait for.
              gracefulStop: '1s',
              tags: { users: String(users) },
              thresholds: rungThresholds(users, plan.budgets),
              request: async (it): Promise<Answer> => {
                if (it.vars['client'] === undefined) {
                  const client = new HttpClient(ctx.balancedUrl, { connections: 1 });
                  clients.push(client);
                  it.vars['client'] = client;
                  await it.sleep(Math.random() * thinkMax);
                }
                const p = it.vu % projects.length;
                const t0 = performance.now();
                const answer = await act(it.vars['client'] as HttpClient, projects[p] as string, keys[p] as string, it.vu, it.iteration, () => created++);
                recordLatencyMs(answers, performance.now() - t0);
                await it.sleep(think());
                return answer;
              },
              isSuccess: (a) => a.ok,
            }),
          );
        } finally {
          await rss.stop();
          await Promise.all(clients.map((c) => c.destroy().catch(() => undefined)));
        }
        const after = await readAll(services);
        Object.assign(result.metrics, usageMetrics(services, before, after, rss.samples.map((s) => s.value)));
        const p = (q: number) => Math.round(percentileMs(answers, q) * 1000) / 1000;
        Object.assign(result.metrics, { answer_p50_ms: p(50), answer_p95_ms: p(95), answer_p99_ms: p(99), answers: answers.totalCount, answers_per_s: Math.round((answers.totalCount / result.durationS) * 10) / 10 });
        answers.destroy();
        if (users <= ladderGoals.p95UpToUsers) result.verdicts.push(p95Verdict(result, users));
        kit.log(`user ladder, ${users} users: answer p95 ${result.metrics['answer_p95_ms']} ms, ${result.metrics['answers_per_s']} answers/s, ${result.requests - result.successes} of ${result.requests} actions failed, task-api CPU ${result.metrics['task_api_cpu_pct']} %`);
        rows.push(result);
      }
      const last = rows[rows.length - 1] as ScenarioResult;
      last.evidence.push(machineStatement(rows, rungs, thinkMin, thinkMax));
      return rows;
    },
  };
}

/** One user action: a request of the mix, answered within the contract or not. */
async function act(client: HttpClient, project: string, key: string, vu: number, n: number, nextCreate: () => number): Promise<Answer> {
  const headers = { authorization: `Bearer ${key}` };
  // 7 is prime to 20: each user walks the whole mix, each from its own place in it.
  const slot = (n * 7 + vu * 3) % 20;
  let res: HttpResponse;
  if (slot < 8) res = await client.request({ path: '/tasks?limit=20', headers, discardBody: true });
  else if (slot < 12) res = await client.request({ path: '/tasks/next', headers });
  else if (slot < 15) res = await client.request({ path: `/tasks/${project}-${n % 300}`, headers, discardBody: true });
  else if (slot < 18) res = await client.request({ method: 'POST', path: '/tasks', headers, body: { task_id: `${project}-u${nextCreate()}`, title: `user task of ${project}` }, discardBody: true });
  else res = await client.request({ method: 'POST', path: '/tasks/claim', headers, body: { worker: `user-${vu}-${n}` } });
  // An empty queue is a correct answer to next and claim.
  const noTask = res.status === 404 && (slot >= 18 || (slot >= 8 && slot < 12)) && codeOf(res) === 'no_task';
  return { status: res.status, ok: res.status < 400 || noTask };
}

/** The processes of each service: the replicas behind the suite's nginx, and the ID service. */
function servicesOf(kit: SuiteKit, ctx: ScaleContext): Record<'task_api' | 'id_service', RunningApp[]> {
  const replicas = (kit.sut.apps['task-api'] ?? []).filter((a) => ctx.replicaUrls.includes(a.url));
  return { task_api: replicas, id_service: [...(kit.sut.apps['id-service'] ?? [])] };
}

const readAll = async (s: Record<string, RunningApp[]>) => Object.fromEntries(await Promise.all(Object.entries(s).map(async ([k, apps]) => [k, await Promise.all(apps.map((a) => processUsage(a.pid)))] as const)));

/** CPU share of the machine over the rung, and peak RSS of any one process, per service. A service with no process has no figure: its thresholds fail naming it. */
function usageMetrics(services: Record<string, RunningApp[]>, before: Record<string, ProcessUsage[]>, after: Record<string, ProcessUsage[]>, samples: readonly ProcessUsage[][]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, apps] of Object.entries(services)) {
    if (apps.length === 0) continue;
    const pids = new Set(apps.map((a) => a.pid));
    const rss = [...(after[name] ?? []), ...samples.flat().filter((u) => pids.has(u.pid))].map((u) => u.rssBytes);
    out[`${name}_cpu_pct`] = Math.round(cpuShareOf(before[name] ?? [], after[name] ?? []) * 1000) / 10;
    out[`${name}_rss_mb`] = Math.round(Math.max(...rss) / 1024 / 102.4) / 10;
    out[`${name}_processes`] = apps.length;
  }
  return out;
}

function p95Verdict(r: ScenarioResult, users: number) {
  const p95 = r.metrics['answer_p95_ms'] ?? NaN;
  const within = p95 < ladderGoals.p95Ms;
  const starved = r.generator?.starved ? r.generator.reason : undefined;
  const v = expectVerdict(
    'user-ladder-p95',
    within,
    `${users} users: answer p95 ${p95} ms over ${r.metrics['answers']} answers (must be under ${ladderGoals.p95Ms} ms)${starved ? `; load generator starved (${starved})` : ''}`,
    { users, answer_p95_ms: p95, answers: r.metrics['answers'] ?? 0, bound_ms: ladderGoals.p95Ms },
  );
  // A starved generator's own lag is in the answer times: a miss then says nothing about the service.
  return !within && starved ? { ...v, status: 'indeterminate' as const } : v;
}

function machineStatement(rows: readonly ScenarioResult[], rungs: readonly number[], thinkMin: number, thinkMax: number): Evidence {
  const figures = rows.map((r, i) => `${rungs[i]} users: ${r.metrics['answers_per_s']} answers/s, p95 ${r.metrics['answer_p95_ms']} ms, task-api CPU ${r.metrics['task_api_cpu_pct']} % of the machine`).join('; ');
  return {
    title: 'What this machine allows (user ladder)',
    kind: 'text',
    content:
      `Closed model, ${actions}; think ${thinkMin / 1000}–${thinkMax / 1000} s, so each user asks about one request every ${(thinkMin + thinkMax) / 2000} s (N users ≈ N / ${(thinkMin + thinkMax) / 2000} requests/s), each on a keep-alive connection of its own. ` +
      `The load generator, nginx, PostgreSQL, the ID service and every replica share this machine's cores: the ladder shows how many concurrent keep-alive users they hold at that pace (${figures}), not what a dedicated fleet would.`,
  };
}
