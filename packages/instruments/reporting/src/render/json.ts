import { runReportSchema, type RunReport } from '@crucible/contracts';

/** The report as pretty JSON, validated against the contract first (a bad report is a bug, not a file). */
export function renderJson(report: RunReport): string {
  return JSON.stringify(runReportSchema.parse(report), null, 2) + '\n';
}

/** Parses and validates a JSON run report. */
export function parseRunReport(text: string): RunReport {
  return runReportSchema.parse(JSON.parse(text));
}
