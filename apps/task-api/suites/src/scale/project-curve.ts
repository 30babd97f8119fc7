// The project-count curve: 1 → 5 → 20 → 50 projects at the same total rate, with 1 replica
// and with 3 behind nginx; what more projects cost in p99, throughput and fairness, what the
// database waits on meanwhile, and whether every point stays correct.
import { combineDegradations, compareDegradation } from '@crucible/checkers';
import type { Evidence } from '@crucible/contracts';
import { InstrumentError, median } from '@crucible/instrument-kit';
import { burst, constantArrivalRate, scenario, toMs, type ScenarioResult } from '@crucible/load-engine';
import { pgWaitFigures, poolOf, startPgWaitProbe, startProbe, type SuiteKit, type SuiteStep } from '@crucible/suite-kit';
import { startNginx } from '@crucible/testbed';
import { steadyP99 } from '../stress/degradation.js';
import type { ScaleContext } from './context.js';
import { claimShare, curveMixLabel, curveOperation, fairness, groupVerdicts, primeOperation, seedPending, type CurveGroup } from './project-curve.load.js';

/** How far p99 may grow from 1 to 20 projects at the same total rate. */
export const projectGrowthBound = 0.1;

/** How the curve measures; the defaults are the suite's. */
export interface ProjectCurvePlan {
  /**
   * Operations per second of every run, whatever the number of projects (default 100: one replica
   * serves the mix at it with most of a core to spare on 2 shared cores, and each second's p99 is
   * read from 100 answers).
   */
  readonly rate?: number;
  /** Points of the curve (default 1, 5, 20, 50); 1 and 20 are judged, so both must be in. */
  readonly counts?: readonly number[];
  /** Which deployments run the curve (default both: 1 replica, then 3 behind nginx). */
  readonly sides?: readonly ('one' | 'three')[];
  /** Interleaved rounds (each point once per round, the order reversed every other round; default 4 quick, 6 full). */
  readonly rounds?: number;
  /** Measured length of each run (default 3 s quick, 10 s full). */
  readonly duration?: string;
  /** Unmeasured warm-up before each run (default 500 ms). */
  readonly warmup?: string;
  /** How many more times a round whose load generator was starved is measured (default 1). */
  readonly retries?: number;
}

const sideLabel = { one: '1 replica', three: '3 replicas' } as const;

/**
 * For each side and each round, every point of the curve at `rate` operations/s of the mix
 * ({@link curveMixLabel}) spread evenly over that many fresh projects (seeded alike with
 * pending tasks), measured while a probe samples `pg_stat_activity` (backends active, waiting
 * on `Lock` and `LWLock`) and the replicas' pools (`/health`: connections in use, requests
 * waiting). Each run's row carries its p99 (median second), throughput and those waits; the
 * last run of each point carries the point's per-project fairness and its correctness verdicts
 * (`api-isolation`, `exactly-once-claims`, `task-id-reconciliation` over every answer of its
 * projects). `project-curve-p99` judges, per side, the p99 (median second) of 1 against 20
 * projects with `compareDegradation` over the interleaved rounds: ≤ 10 % growth, noise floor
 * from the 1-project runs (capped at 2.5 %); a round whose generator stayed starved is left
 * out, naming why. The 50-project growth is reported, not judged.
 *
 * Before the rounds every project is primed on every replica of its side: one create (a
 * project's first create on a replica waits for its block of ids from the ID service) and
 * one read (its key verified once). The curve judges what serving more projects costs, not
 * that cold start, which would otherwise land in nearly every second of the 20-project runs
 * (at 40/s a project creates about once per run) and in none of the 1-project runs; the
 * cold first creates are reported on their own (`primed_first_create_*_ms`).
 */
export function projectCurve(plan: ProjectCurvePlan = {}): SuiteStep<ScaleContext> {
  const rate = plan.rate ?? 100;
  const counts = plan.counts ?? [1, 5, 20, 50];
  const sides = plan.sides ?? ['one', 'three'];
  if (!counts.includes(1) || !counts.includes(20)) throw new InstrumentError('bad_argument', `the project curve judges 1 against 20 projects: counts ${counts.join(', ')} lack one of them`);
  return {
    name: `project-count curve: ${counts.join(' → ')} projects at ${rate}/s, ${sides.map((s) => sideLabel[s]).join(' and ')}`,
    // Rounds are re-measured inside the step; a second whole run would seed every project again.
    rerunWhenStarved: false,
    async run(ctx, kit) {
      const full = kit.args.profile === 'full';
      const rounds = plan.rounds ?? (full ? 6 : 4);
      const duration = plan.duration ?? (full ? '10s' : '3s');
      const warmup = plan.warmup ?? '500ms';
      const retries = plan.retries ?? 1;
      // Every project seeded alike, with enough pending tasks for the 1-project point's claims (every attempt, warm-ups included).
      const perRunS = (toMs(duration) + toMs(warmup)) / 1000;
      const pending = Math.ceil(rounds * (1 + retries) * perRunS * rate * claimShare * 1.3) + 20;
      const groups = await createGroups(kit, sides, counts, pending);
      const all: ScenarioResult[] = [];
      const judged: Record<string, ReturnType<typeof compareDegradation>> = {};
      for (const side of sides) {
        await using single = side === 'one' ? await startNginx({ upstreams: [ctx.replicaUrls[0] as string] }) : undefined;
        const url = single?.url ?? ctx.balancedUrl;
        const replicas = side === 'one' ? ctx.replicaUrls.slice(0, 1) : ctx.replicaUrls;
        const mine = groups.filter((g) => g.side === side);
        for (const g of mine) await prime(kit, g, replicas);
        const leaveOut: (string | undefined)[] = [];
        for (let round = 0; round < rounds; round++) {
          const order = round % 2 ? [...mine].reverse() : mine;
          for (let attempt = 0; attempt <= retries; attempt++) {
            const runs: ScenarioResult[] = [];
            for (const g of order) runs.push(await measure(kit, g, { url, replicas, rate, duration, warmup, label: `round ${round + 1}${attempt ? ` (attempt ${attempt + 1})` : ''}` }));
            all.push(...runs);
            const starved = runs.flatMap((r) => (r.generator?.starved ? [`load generator starved in "${r.name}" (${r.generator.reason ?? ''})`] : []));
            if (starved.length === 0 || attempt === retries) {
              order.forEach((g, i) => g.judged.push(runs[i] as ScenarioResult));
              leaveOut.push(starved.length ? starved.join('; ') : undefined);
              break;
            }
            kit.log(`project curve, ${sideLabel[side]}, round ${round + 1}: ${starved.join('; ')}: measuring it again`);
          }
        }
        const at = (n: number) => mine.find((g) => g.count === n) as CurveGroup;
        judged[side === 'one' ? 'one_replica' : 'three_replicas'] = compareDegradation(at(1).judged.map(steadyP99), at(20).judged.map(steadyP99), {
          metric: `p99 of the mix per second (ms, median second), 1 vs 20 projects, ${sideLabel[side]}`,
          bound: projectGrowthBound,
          noiseFloorCap: 0.025,
          leaveOut,
        });
      }
      const lines: string[] = [];
      for (const g of groups) {
        const last = g.runs[g.runs.length - 1] as ScenarioResult;
        const p99s = g.judged.map(steadyP99).sort((a, b) => a - b);
        const p99 = p99s[Math.floor(p99s.length / 2)] ?? NaN;
        const rps = g.judged.map((r) => r.successes / r.durationS).sort((a, b) => a - b)[Math.floor(g.judged.length / 2)] ?? NaN;
        const base = groups.find((x) => x.side === g.side && x.count === 1)?.judged.map(steadyP99).sort((a, b) => a - b);
        const baseP99 = base?.[Math.floor(base.length / 2)] ?? NaN;
        const fair = fairness(g);
        Object.assign(last.metrics, { ...g.primed, point_p99_ms: p99, point_throughput_rps: Math.round(rps * 10) / 10, p99_growth_from_1_project_pct: Math.round((p99 / baseP99 - 1) * 1000) / 10, ...fair });
        last.verdicts.push(...(await groupVerdicts(kit.db, g, pending)));
        lines.push(
          `${sideLabel[g.side]}, ${g.count} projects: p99 ${p99} ms (median of ${g.judged.length} runs' median-second p99; ${last.metrics['p99_growth_from_1_project_pct']} % from 1 project), ${Math.round(rps * 10) / 10} answers/s; ` +
            `first create per project and replica (primed, its id block fetched) p50 ${g.primed['primed_first_create_p50_ms']} ms, max ${g.primed['primed_first_create_max_ms']} ms; ` +
            `slowest project p99 ${fair['slowest_project_p99_ms']} ms with ${fair['slowest_project_share_of_fair']} of its fair share (least share ${fair['min_project_share_of_fair']}); ` +
            `Lock waiters max ${last.metrics['pg_lock_waiting_max']}, LWLock max ${last.metrics['pg_lwlock_waiting_max']}, pool waiting max ${last.metrics['pool_waiting_max']} (last run)`,
        );
      }
      const verdict = combineDegradations('project-curve-p99', judged);
      const tail = all[all.length - 1] as ScenarioResult;
      tail.verdicts.push(verdict);
      const curve: Evidence = { title: `Project-count curve at ${rate}/s (${curveMixLabel})`, kind: 'text', content: lines.join('\n') };
      tail.evidence.push(curve);
      kit.log(`${verdict.status}: ${verdict.summary}`);
      return all;
    },
  };
}

/** Fresh projects for every point of every side (disjoint, so each point's verdicts are its own), seeded alike. */
async function createGroups(kit: SuiteKit, sides: readonly ('one' | 'three')[], counts: readonly number[], pending: number): Promise<CurveGroup[]> {
  const tag = Date.now().toString(36);
  const groups: CurveGroup[] = [];
  for (const side of sides) {
    for (const count of counts) {
      const projects = Array.from({ length: count }, (_, j) => `curve-${tag}-${side}${count}-${j}`);
      const keys: Record<string, string> = {};
      for (let j = 0; j < projects.length; j += 8) {
        await Promise.all(projects.slice(j, j + 8).map(async (p) => (keys[p] = (await kit.sut.createProject(p)).api_key)));
      }
      groups.push({ side, count, projects, keys, runs: [], judged: [], observations: [], claims: [], creates: [], primed: {} });
    }
  }
  await seedPending(kit.db, groups.flatMap((g) => g.projects), pending);
  return groups;
}

/**
 * Each project of `g` primed on each of `replicas` (directly, not through nginx: id blocks and
 * verified keys live in each replica's process), all projects of a replica at once; the
 * creates are the group's (reconciled with the rest), their latencies go to `g.primed`.
 */
async function prime(kit: SuiteKit, g: CurveGroup, replicas: readonly string[]): Promise<void> {
  const ms: number[] = [];
  for (const url of replicas) {
    const result = await kit.runOne(
      scenario({
        name: `project curve, ${sideLabel[g.side]}: ${g.count} projects primed on ${url}`,
        executor: burst({ requests: g.count }),
        baseUrl: url,
        request: (it) => primeOperation(g, it),
      }),
    );
    for (const o of result.outcomes) if (typeof o.value === 'number') ms.push(o.value);
    if (result.successes < g.count) throw new InstrumentError('sut_request_failed', `priming ${g.count} projects on ${url}: ${g.count - result.successes} failed (${JSON.stringify(result.errors)})`);
  }
  const r1 = (x: number) => Math.round(x * 10) / 10;
  Object.assign(g.primed, { primed_first_create_p50_ms: r1(median(ms)), primed_first_create_max_ms: r1(Math.max(...ms)) });
}

interface RunShape {
  readonly url: string;
  readonly replicas: readonly string[];
  readonly rate: number;
  readonly duration: string;
  readonly warmup: string;
  readonly label: string;
}

/** One run of one point, with the database's and the pools' waits sampled while it goes. */
async function measure(kit: SuiteKit, g: CurveGroup, s: RunShape): Promise<ScenarioResult> {
  const waits = startPgWaitProbe(kit.db, 100);
  const pools = startProbe(() => Promise.all(s.replicas.map((u) => poolOf(u))), 250);
  let result: ScenarioResult;
  try {
    result = await kit.runOne(
      scenario({
        name: `project curve, ${sideLabel[g.side]}: ${g.count} projects at ${s.rate}/s, ${s.label}`,
        executor: constantArrivalRate({ rate: s.rate, duration: s.duration, preAllocatedVUs: 20, maxVUs: 200 }),
        warmup: s.warmup,
        baseUrl: s.url,
        breakdownBy: 'project',
        tags: { projects: String(g.count), replicas: g.side === 'one' ? '1' : '3' },
        thresholds: ['rate<0.01'],
        request: (it) => curveOperation(g, it),
        isSuccess: (r) => r.ok,
      }),
    );
  } finally {
    await pools.stop();
    await waits.stop();
  }
  const pool = pools.samples.flatMap((x) => x.value);
  Object.assign(result.metrics, {
    p99_median_second_ms: steadyP99(result),
    throughput_rps: Math.round((result.successes / result.durationS) * 10) / 10,
    ...pgWaitFigures(waits.samples),
    ...(pool.length ? { pool_waiting_max: Math.max(...pool.map((p) => p.waiting)), pool_in_use_max: Math.max(...pool.map((p) => p.total - p.idle)) } : {}),
  });
  g.runs.push(result);
  return result;
}
