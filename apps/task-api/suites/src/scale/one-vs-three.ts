// One replica against three at the same rate, both behind nginx, with the CPU each used.
import { cpus } from 'node:os';
import { combineDegradations, compareDegradation } from '@crucible/checkers';
import type { Evidence } from '@crucible/contracts';
import { constantArrivalRate, scenario, type ScenarioResult } from '@crucible/load-engine';
import { interleavedPairs, type SuiteStep } from '@crucible/suite-kit';
import { counterDeltas, replicaCounters, startNginx } from '@crucible/testbed';
import { steadyP99 } from '../stress/degradation.js';
import type { ScaleContext } from './context.js';

/** How far 3 replicas may fall behind 1 at the same rate, in p99 and in throughput. */
export const scalingBound = 0.05;

/** How the step measures; the defaults are the suite's. */
export interface OneVsThreePlan {
  /** `GET /tasks/next` per second, the same on both sides (default 100: one replica sustains it on 2 shared cores). */
  readonly rate?: number;
  /** Interleaved pairs of runs (default 4 quick, 8 full). */
  readonly pairs?: number;
  /** Measured length of each run (default 3 s quick, 10 s full). */
  readonly duration?: string;
  /** Unmeasured warm-up before each run (default 500 ms). */
  readonly warmup?: string;
  /** How many more times a pair whose load generator was starved is measured (default 1). */
  readonly retries?: number;
}

type Side = 'one' | 'three';

/** A relative change in the bad direction, as the statement prints it. */
const pct = (change: number) => `${Math.abs(change * 100).toFixed(1)} % ${change > 0 ? 'worse' : 'better'}`;

/** CPU seconds per 1,000 requests, from the replicas' own `process_cpu_seconds_total` and request counts. */
const cpuPer1000 = (cpu: number, requests: number) => (requests ? Math.round((cpu / requests) * 1000 * 1000) / 1000 : NaN);

/**
 * `GET /tasks/next` (on a project of its own with 20 pending tasks) at the same rate
 * through an nginx in front of the first replica
 * alone and through the suite's nginx in front of all three, in interleaved pairs (1 then 3,
 * then 3 then 1, …). `replica-scaling` judges, with `compareDegradation` (noise floor from
 * the 1-replica runs' spread, capped at 2.5 %), the p99 (median second) and the throughput
 * of 3 replicas against 1: each within 5 %. Each run's row carries the replicas' CPU seconds
 * per 1,000 requests (`cpu_s_per_1000_requests`); the last row states what the machine allows.
 */
export function oneVsThree(plan: OneVsThreePlan = {}): SuiteStep<ScaleContext> {
  const rate = plan.rate ?? 100;
  return {
    name: `1 vs 3 replicas at ${rate}/s`,
    async run(ctx, kit) {
      const full = kit.args.profile === 'full';
      const pairs = plan.pairs ?? (full ? 8 : 4);
      const duration = plan.duration ?? (full ? '10s' : '3s');
      const retries = plan.retries ?? 1;
      const first = ctx.replicaUrls[0] as string;
      const project = `scaling-${Date.now().toString(36)}`;
      const auth = {
        authorization: `Bearer ${(await kit.sut.createProject(project)).api_key}`,
      };
      for (let i = 0; i < 20; i++) {
        const res = await fetch(`${first}/tasks`, {
          method: 'POST',
          headers: { ...auth, 'content-type': 'application/json' },
          body: JSON.stringify({
            task_id: `${project}-${i}`,
            title: `pending ${i}`,
            priority: i % 5,
          }),
        });
        if (res.status !== 201) throw new Error(`seeding ${project}: POST /tasks answered ${res.status} ${await res.text()}`);
      }
      // The same hop on both sides: only the number of replicas behind it differs.
      await using single = await startNginx({ upstreams: [first] });
      const urls: Record<Side, { lb: string; replicas: readonly string[] }> = {
        one: { lb: single.url, replicas: [first] },
        three: { lb: ctx.balancedUrl, replicas: ctx.replicaUrls },
      };
      const all: ScenarioResult[] = [];
      const cpu: Record<Side, { cpu: number; requests: number }> = {
        one: { cpu: 0, requests: 0 },
        three: { cpu: 0, requests: 0 },
      };
      const measure = async (side: Side, i: number, attempt: number) => {
        const before = await replicaCounters(urls[side].replicas);
        const result = await kit.runOne(
          scenario({
            name: `${side === 'one' ? '1 replica' : '3 replicas'} behind nginx: GET /tasks/next at ${rate}/s, pair ${i + 1}${attempt ? ` (attempt ${attempt + 1})` : ''}`,
            executor: constantArrivalRate({
              rate,
              duration,
              preAllocatedVUs: 20,
              maxVUs: 200,
            }),
            warmup: plan.warmup ?? '500ms',
            baseUrl: urls[side].lb,
            tags: {
              endpoint: 'GET /tasks/next',
              replicas: side === 'one' ? '1' : '3',
              pair: String(i + 1),
            },
            request: (it) =>
              it.http.request({
                path: '/tasks/next',
                headers: auth,
                discardBody: true,
              }),
            thresholds: ['rate<0.01'],
          }),
        );
        const used = counterDeltas(before, await replicaCounters(urls[side].replicas));
        const cpuS = used.reduce((a, d) => a + d.cpuSeconds, 0);
        const requests = used.reduce((a, d) => a + d.requests, 0);
        cpu[side].cpu += cpuS;
        cpu[side].requests += requests;
        result.metrics['cpu_s_per_1000_requests'] = cpuPer1000(cpuS, requests);
        result.metrics['replica_cpu_share_pct'] = Math.round((cpuS / result.durationS / cpus().length) * 1000) / 10;
        all.push(result);
        return result;
      };
      const { runs, leaveOut: starved } = await interleavedPairs(['one', 'three'] as const, pairs, retries, measure, kit.log);
      const figures = (f: (r: ScenarioResult) => number) => [runs.one.map(f), runs.three.map(f)] as const;
      const options = {
        bound: scalingBound,
        noiseFloorCap: 0.025,
        leaveOut: starved,
      };
      const p99 = compareDegradation(...figures(steadyP99), {
        ...options,
        metric: 'p99 of GET /tasks/next per second (ms, median second), 1 vs 3 replicas',
      });
      const throughput = compareDegradation(...figures((r) => r.successes / r.durationS), {
        ...options,
        metric: 'throughput (answers/s), 1 vs 3 replicas',
        direction: 'higher-is-better',
      });
      const verdict = combineDegradations('replica-scaling', {
        p99,
        throughput,
      });
      const last = all[all.length - 1] as ScenarioResult;
      const one = cpuPer1000(cpu.one.cpu, cpu.one.requests);
      const three = cpuPer1000(cpu.three.cpu, cpu.three.requests);
      Object.assign(last.metrics, {
        p99_one_replica_ms: p99.baseline.median,
        p99_three_replicas_ms: p99.candidate.median,
        rps_one_replica: Math.round(throughput.baseline.median * 10) / 10,
        rps_three_replicas: Math.round(throughput.candidate.median * 10) / 10,
        cpu_s_per_1000_one_replica: one,
        cpu_s_per_1000_three_replicas: three,
      });
      last.verdicts.push(verdict);
      const statement: Evidence = {
        title: 'What this machine allows (1 vs 3 replicas)',
        kind: 'text',
        content:
          `This machine has ${cpus().length} CPU cores, shared by the load generator, nginx, PostgreSQL, the ID service and every replica. ` +
          `Three replicas here add processes, not cores: they compete for the same CPU as one does. What it can measure is the cost of spreading ${rate} requests/s over 3 replicas ` +
          `instead of 1 (the bound: ${scalingBound * 100} % in p99 and throughput; this run: p99 ${p99.baseline.median} ms with 1, ${p99.candidate.median} ms with 3, ${pct(p99.change)}; ` +
          `throughput ${throughput.baseline.median.toFixed(1)} against ${throughput.candidate.median.toFixed(1)} answers/s, ${pct(throughput.change)}) and what each request costs in CPU ` +
          `(${one} CPU-s per 1,000 requests with 1 replica, ${three} with 3). It cannot show that 3 replicas serve 3 times the rate: that needs a core per replica.`,
      };
      last.evidence.push(statement);
      kit.log(`${verdict.status}: ${verdict.summary}`);
      return all;
    },
  };
}
