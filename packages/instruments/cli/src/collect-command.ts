import path from 'node:path';
import { InstrumentError, wholeArg } from '@crucible/instrument-kit';
import { mergeResults, type RunResult } from '@crucible/load-engine';
import { buildReport, crashReport, EXIT, exitCodeFor, renderConsole, writeReports, type CommandIo } from '@crucible/reporting';
import { resultsTarget, sinkOf, type ResultsTarget } from './results-sink.js';

/** `crucible collect`'s settings. */
export interface CollectSettings {
  /** Where the workers left their segments: the shared directory, or the job on the metrics gateway. */
  readonly results: ResultsTarget;
  /** How many workers the Job ran (every one must have left its segment). */
  readonly completions: number;
  readonly outDir: string;
  /** The report's name: `<outDir>/<name>.{json,md,xml,html}`. */
  readonly name: string;
}

/**
 * `crucible collect`: the merge step of a distributed run. Reads the workers' segments from
 * the results sink (the shared directory, or the job on the metrics gateway), merges them
 * exactly (counts add, HDR histograms merge), judges the thresholds once, on the merged result, and writes the report forms. A worker that
 * failed, or left nothing, fails the run and is named (the report is a crash report, exit 2).
 */
export async function collectCommand(s: CollectSettings, io: CommandIo): Promise<number> {
  const sink = sinkOf(s.results);
  const { files, missing } = await sink.read(s.completions);
  const failed = files.filter((f) => f.error !== undefined || !f.result);
  const meta = { suite: `crucible collect ${s.name}`, project: '.', target: s.name, config: { completions: s.completions, results: sink.where } };
  let report;
  if (missing.length > 0 || failed.length > 0) {
    const why = [
      ...missing.map((i) => `worker ${i} of ${s.completions} left no result in ${sink.where}`),
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
export function collectSettings(
  values: { readonly completions?: string; readonly out?: string; readonly name?: string; readonly 'results-url'?: string },
  positionals: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): CollectSettings {
  const [dir, ...more] = positionals;
  const url = values['results-url'] ?? (dir ? undefined : env['CRUCIBLE_RESULTS_URL'] || undefined);
  if (more.length > 0 || (!dir && !url)) throw new InstrumentError('bad_argument', 'one results directory, or the job on the gateway: crucible collect <results-dir> | --results-url URL (or CRUCIBLE_RESULTS_URL) --completions N');
  const raw = values.completions ?? env['JOB_COMPLETIONS'];
  if (raw === undefined) throw new InstrumentError('bad_argument', '--completions N (or JOB_COMPLETIONS) is required: how many workers must have left a segment');
  return {
    results: resultsTarget(dir, url, env, '<results-dir>'),
    completions: wholeArg('--completions', raw, 1, 1024),
    outDir: path.resolve(values.out ?? env['CRUCIBLE_REPORTS_DIR'] ?? 'reports'),
    name: values.name ?? 'distributed',
  };
}
