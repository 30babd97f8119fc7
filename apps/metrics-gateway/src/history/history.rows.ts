import type { MetricSnapshot, RunEndSummary, RunStart } from '@crucible/contracts';
import type { Database } from '@crucible/db';
import type { Insertable } from 'kysely';

/** A run row as the store upserts it: only the fields a message said (absent = keep what is stored). */
export type RunRow = Insertable<Database['gateway_runs']>;
export type PointRow = Insertable<Database['gateway_points']>;
export type ScenarioRow = Insertable<Database['gateway_run_scenarios']>;

/** The run row a `run_start` (or the first message of an unannounced run) stores. */
export function runRow(projectId: string, runId: string, run: RunStart | undefined): RunRow {
  return {
    project_id: projectId,
    run_id: runId,
    commit: run?.commit ?? null,
    branch: run?.branch ?? null,
    machine: run?.machine ?? null,
    profile: run?.profile ?? null,
    // The gateway's receipt time unless the publisher said when it started: every row of a
    // batch would otherwise share the transaction's now(), and runs could not be ordered.
    started_at: run?.started_at ?? new Date(),
  };
}

/** One per-second point: the figures the trend and error queries read, the histogram, and the snapshot whole. */
export function pointRow(projectId: string, s: MetricSnapshot): Omit<PointRow, 'run_started_at'> {
  return {
    project_id: projectId,
    run_id: s.run_id,
    scenario: s.scenario,
    t: s.t,
    requests: s.requests,
    errors: s.errors,
    rps: s.rps,
    p50_ms: s.latency_ms.p50 ?? null,
    p95_ms: s.latency_ms.p95 ?? null,
    p99_ms: s.latency_ms.p99 ?? null,
    histogram: s.histogram ?? null,
    // The histogram has its own column; kept once.
    snapshot: JSON.stringify({ ...s, histogram: undefined }),
  };
}

const outcomes = { pass: 'passed', fail: 'failed', inconclusive: 'inconclusive' } as const;

/** The outcome a run records (`passed`, `failed`, `inconclusive`): its status when the sender gave one, else `passed`. */
export function outcomeOf(summary: RunEndSummary): string {
  return summary.status ? outcomes[summary.status] : summary.passed ? 'passed' : 'failed';
}

/** One row per scenario of a `run_end` summary, thresholds and verdicts included. */
export function scenarioRows(projectId: string, summary: RunEndSummary): ScenarioRow[] {
  return summary.scenarios.map((sc) => ({
    project_id: projectId,
    run_id: summary.run_id,
    scenario: sc.name,
    requests: sc.requests,
    errors: sc.errors,
    error_rate: sc.error_rate,
    rps: sc.rps,
    p50_ms: sc.latency_ms?.p50 ?? null,
    p95_ms: sc.latency_ms?.p95 ?? null,
    p99_ms: sc.latency_ms?.p99 ?? null,
    passed: sc.passed,
    status: sc.status ?? null,
    thresholds: JSON.stringify(sc.thresholds),
  }));
}
