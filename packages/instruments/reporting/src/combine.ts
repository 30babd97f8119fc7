import { readdir, readFile } from 'node:fs/promises';
import { InstrumentError } from '@crucible/instrument-kit';
import path from 'node:path';
import { runReportSchema, type RunReport } from '@crucible/contracts';
import { runMetadata } from './metadata.js';
import { runStatus, worstStatus } from './thresholds.js';

/** A report found on disk and where. */
export interface FoundReport {
  readonly file: string;
  readonly report: RunReport;
}

/** Run reports found under a directory, and files that claim to be one but do not validate. */
export interface ScanResult {
  readonly reports: FoundReport[];
  readonly invalid: Array<{ readonly file: string; readonly error: string }>;
}

/**
 * Every run report under `dir` (recursively; `combined.json` and `baselines/` excluded). JSON
 * files that are not run reports are ignored; a file that claims to be one (`schema_version`
 * and `scenarios`) but does not validate is listed in `invalid`, naming the problem.
 */
export async function scanRunReports(dir: string): Promise<ScanResult> {
  const reports: FoundReport[] = [];
  const invalid: Array<{ file: string; error: string }> = [];
  async function walk(d: string): Promise<void> {
    let entries;
    try {
      entries = await readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) {
        if (e.name !== 'baselines' && e.name !== 'node_modules') await walk(full);
      } else if (e.name.endsWith('.json') && !(d === dir && e.name === 'combined.json')) {
        let data: unknown;
        try {
          data = JSON.parse(await readFile(full, 'utf8'));
        } catch {
          continue;
        }
        if (typeof data !== 'object' || data === null || !('schema_version' in data) || !('scenarios' in data)) continue;
        const parsed = runReportSchema.safeParse(data);
        if (parsed.success) reports.push({ file: full, report: parsed.data });
        else invalid.push({ file: full, error: parsed.error.message });
      }
    }
  }
  await walk(dir);
  return { reports, invalid };
}

/** Like {@link scanRunReports}, but throws (naming the file) on an invalid report. */
export async function findRunReports(dir: string): Promise<FoundReport[]> {
  const { reports, invalid } = await scanRunReports(dir);
  const first = invalid[0];
  if (first) throw new InstrumentError('report_invalid', `${first.file} is not a valid run report: ${first.error}`);
  return reports;
}

/**
 * One report from many: every scenario keeps its numbers and gets `source` =
 * `project/target`; the combined run passes only if every run passed, and its status is the
 * worst of theirs (a failure beats an inconclusive run).
 */
export function combineReports(reports: readonly RunReport[], suite = 'combined'): RunReport {
  const starts = reports.map((r) => r.run.started_at).sort();
  const ends = reports.map((r) => r.run.finished_at).sort();
  const status = worstStatus(reports.map(runStatus));
  const crashes = reports.filter((r) => r.crash).map((r) => `${r.run.project ?? r.run.suite}/${r.run.target ?? ''}: ${r.crash}`);
  return {
    schema_version: 1,
    run: {
      ...runMetadata({
        suite,
        target: 'combined',
        ...(starts[0] ? { startedAt: starts[0] } : {}),
        ...(ends.length ? { finishedAt: ends[ends.length - 1] as string } : {}),
        config: { runs: reports.map((r) => ({ id: r.run.id, suite: r.run.suite, project: r.run.project, target: r.run.target, passed: r.passed, status: runStatus(r) })) },
      }),
      project: 'combined',
    },
    scenarios: reports.flatMap((r) =>
      r.scenarios.map((s) => ({ ...s, source: s.source ?? `${r.run.project ?? r.run.suite}/${r.run.target ?? 'report'}` })),
    ),
    passed: reports.every((r) => r.passed) && crashes.length === 0,
    status,
    ...(crashes.length ? { crash: crashes.join('; ') } : {}),
  };
}
