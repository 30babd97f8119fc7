import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { InstrumentError, wholeArg } from '@crucible/instrument-kit';
import { mergeResults, type RunResult } from '@crucible/load-engine';
import { buildReport, crashReport, EXIT, exitCodeFor, renderConsole, writeReports, type CommandIo } from '@crucible/reporting';
import { segmentFileName, type SegmentFile } from './segment-worker.js';

/** `crucible collect`'s settings. */
export interface CollectSettings {
  readonly resultsDir: string;
  /** How many workers the Job ran (every one must have left its segment). */
  readonly completions: number;
  readonly outDir: string;
  /** The report's name: `<outDir>/<name>.{json,md,xml,html}`. */
  readonly name: string;
}

/** Every worker's file, in index order; a missing one is named (the worker never finished). */
export async function readSegments(dir: string, completions: number): Promise<{ files: SegmentFile[]; missing: number[] }> {
  const present = new Set(await readdir(dir).catch(() => [] as string[]));
  const files: SegmentFile[] = [];
  const missing: number[] = [];
  for (let i = 0; i < completions; i++) {
    const name = segmentFileName(i, completions);
    if (!present.has(name)) {
      missing.push(i);
      continue;
    }
    files.push(JSON.parse(await readFile(path.join(dir, name), 'utf8')) as SegmentFile);
  }
  return { files, missing };
}

/**
 * `crucible collect`: the merge step of a distributed run. Reads the workers' segment files
 * from the shared results directory, merges them exactly (counts add, HDR histograms merge),
 * judges the thresholds once, on the merged result, and writes the report forms. A worker that
 * failed, or left nothing, fails the run and is named (the report is a crash report, exit 2).
 */
export async function collectCommand(s: CollectSettings, io: CommandIo): Promise<number> {
  const { files, missing } = await readSegments(s.resultsDir, s.completions);
  const failed = files.filter((f) => f.error !== undefined || !f.result);
  const meta = { suite: `crucible collect ${s.name}`, project: '.', target: s.name, config: { completions: s.completions, results: s.resultsDir } };
  let report;
  if (missing.length > 0 || failed.length > 0) {
    const why = [
      ...missing.map((i) => `worker ${i} of ${s.completions} left no result in ${s.resultsDir}`),
      ...failed.map((f) => `worker ${f.index} of ${f.completions} (${f.host}) failed: ${f.error ?? 'no result'}`),
    ].join('; ');
    io.err(`${why}\n`);
    report = crashReport({ ...meta, startedAt: new Date() }, new InstrumentError('segment_failed', why));
  } else {
    const starts = new Set(files.map((f) => f.startAt));
    if (starts.size > 1) io.err(`warning: the workers did not share one start (${[...starts].join(', ')}): their schedules are not anchored together\n`);
    report = buildReport(mergeResults(files.map((f) => f.result as RunResult)), meta);
  }
  const written = await writeReports(report, { dir: s.outDir, project: '.', target: s.name });
  io.out(renderConsole(report, { color: io.color }));
  io.out(`merged ${files.length - failed.length} of ${s.completions} segment(s); reports: ${written.json} (+ .md .xml .html)\n`);
  return report.crash ? EXIT.crash : exitCodeFor(report);
}

/** `crucible collect`'s settings from its command line. */
export function collectSettings(values: { readonly completions?: string; readonly out?: string; readonly name?: string }, positionals: readonly string[], env: NodeJS.ProcessEnv = process.env): CollectSettings {
  const [dir, ...more] = positionals;
  if (!dir || more.length > 0) throw new InstrumentError('bad_argument', 'one results directory: crucible collect <results-dir> --completions N');
  const raw = values.completions ?? env['JOB_COMPLETIONS'];
  if (raw === undefined) throw new InstrumentError('bad_argument', '--completions N (or JOB_COMPLETIONS) is required: how many workers must have left a segment');
  return {
    resultsDir: path.resolve(dir),
    completions: wholeArg('--completions', raw, 1, 1024),
    outDir: path.resolve(values.out ?? env['CRUCIBLE_REPORTS_DIR'] ?? 'reports'),
    name: values.name ?? 'distributed',
  };
}
