import type { OutcomeStatus, RunReport, ScenarioReport } from '@crucible/contracts';
import { runStatus, thresholdStatus } from '../thresholds.js';

/** `12.3 ms`, `1.23 s`: a latency for people. */
export function ms(v: number | null | undefined): string {
  if (v === null || v === undefined || Number.isNaN(v)) return '–';
  if (v >= 1000) return `${(v / 1000).toFixed(2)} s`;
  if (v >= 100) return `${v.toFixed(0)} ms`;
  if (v >= 10) return `${v.toFixed(1)} ms`;
  return `${v.toFixed(2)} ms`;
}

/** `1.25 %` */
export function pct(v: number): string {
  return `${(v * 100).toFixed(v > 0 && v < 0.001 ? 3 : 2)} %`;
}

/** A number with at most two decimals. */
export function num(v: number | null | undefined): string {
  if (v === null || v === undefined) return '–';
  return Number.isInteger(v) ? String(v) : v.toFixed(2);
}

/** Every failed threshold and verdict of a run, as one line each (for summaries and exit messages). */
export function failureLines(report: RunReport): string[] {
  const lines: string[] = [];
  if (report.crash) lines.push(`crash: ${report.crash}`);
  for (const s of report.scenarios) {
    const where = scenarioLabel(s);
    for (const t of s.thresholds) if (thresholdStatus(t) === 'fail') lines.push(`${where}: threshold ${t.expression} failed (${t.message ?? `actual ${num(t.actual)}`})`);
    for (const v of s.verdicts) if (v.status === 'fail') lines.push(`${where}: verdict ${v.checker} failed: ${v.summary}`);
  }
  for (const f of report.comparison?.figures ?? []) {
    if (f.regressed) lines.push(`${f.scenario}: ${f.figure} regressed ${num(f.baseline)} → ${num(f.current)} (tolerance ±${num(f.tolerance)})`);
  }
  return lines;
}

/** Every inconclusive threshold of a run (a starved load generator), one line each. */
export function inconclusiveLines(report: RunReport): string[] {
  return [
    ...report.scenarios.flatMap((s) => s.thresholds.filter((t) => thresholdStatus(t) === 'inconclusive').map((t) => `${scenarioLabel(s)}: threshold ${t.expression} ${t.message ?? 'inconclusive'}`)),
    ...(report.comparison?.unjudged ?? []).map((u) => `${u.scenario}: ${u.figure} not compared with the baseline: ${u.why}`),
  ];
}

/** `PASSED`, `FAILED` or `INCONCLUSIVE`: the run's verdict in words. */
export function statusWord(report: RunReport): string {
  return ({ pass: 'PASSED', fail: 'FAILED', inconclusive: 'INCONCLUSIVE' } satisfies Record<OutcomeStatus, string>)[runStatus(report)];
}

/** `source › name` in combined reports, else the name. */
export function scenarioLabel(s: ScenarioReport): string {
  return s.source ? `${s.source} › ${s.name}` : s.name;
}

/** Breakdown rows worth showing (two values or more), busiest first. */
export function breakdownRows(s: ScenarioReport): Array<[string, NonNullable<ScenarioReport['breakdown']>['entries'][string]]> {
  const entries = Object.entries(s.breakdown?.entries ?? {});
  return entries.length < 2 ? [] : entries.sort((a, b) => b[1].requests - a[1].requests);
}
