import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { baselineSchema, runReportSchema, type Baseline, type RunReport } from '@crucible/contracts';
import { InstrumentError } from '@crucible/instrument-kit';
import { compareWithBaseline, createBaseline, withComparison } from './baseline.js';
import { combineReports, type FoundReport } from './combine.js';
import { EXIT, exitCodeFor } from './exit-codes.js';
import { renderConsole } from './render/console.js';
import { writeReports } from './write-reports.js';

/**
 * The bodies of the report commands that both command lines run — `report merge|compare`
 * (this package's cli.ts) and `crucible merge|compare` (`@crucible/cli`) — so the two never
 * drift. They print through `io` (library code never uses `console`) and return the exit code.
 */

/** Where a report command prints: the summary and file list to `out`, problems to `err`. */
export interface CommandIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  /** ANSI colours in the console summary. */
  readonly color: boolean;
}

/** The process's own stdout/stderr, coloured when stdout is a TTY. */
export function processIo(): CommandIo {
  return { out: (t) => void process.stdout.write(t), err: (t) => void process.stderr.write(t), color: Boolean(process.stdout.isTTY) };
}

/** Reads and validates run report files; a missing or invalid one throws (`report_invalid`) naming it. */
export async function readRunReports(files: readonly string[]): Promise<FoundReport[]> {
  return Promise.all(
    files.map(async (file) => {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (e) {
        throw new InstrumentError('report_invalid', `cannot read ${file}: ${(e as Error).message}`);
      }
      let data: unknown;
      try {
        data = JSON.parse(text);
      } catch (e) {
        throw new InstrumentError('report_invalid', `${file} is not JSON: ${(e as Error).message}`);
      }
      const parsed = runReportSchema.safeParse(data);
      if (!parsed.success) throw new InstrumentError('report_invalid', `${file} is not a valid run report: ${parsed.error.message}`);
      return { file, report: parsed.data };
    }),
  );
}

/**
 * A baseline from a file that is either a saved baseline (`report baseline save`) or a plain
 * run report (one run: its figures are the baseline).
 */
export async function baselineFrom(file: string): Promise<Baseline> {
  let data: unknown;
  try {
    data = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new InstrumentError('report_invalid', `cannot read ${file} as JSON: ${(e as Error).message}`);
  }
  const saved = baselineSchema.safeParse(data);
  if (saved.success) return saved.data;
  const [run] = await readRunReports([file]);
  return createBaseline([(run as FoundReport).report]);
}

/** Options of {@link mergeRunReports}. */
export interface MergeOptions {
  /** Where `combined.{json,md,xml,html}` go. */
  readonly outDir: string;
  /** File names in the printed list are relative to it (default: the current directory). */
  readonly relativeTo?: string;
  /** Files that claimed to be run reports but did not validate: named, skipped, exit 2. */
  readonly invalid?: ReadonlyArray<{ readonly file: string; readonly error: string }>;
}

/**
 * Combines run reports (e.g. the segments of one run, or every suite of CI) into
 * `<outDir>/combined.*`, prints the summary and returns the exit code: that of the worst run,
 * or 2 when a report was invalid or none was found (a broken suite is as bad as a crash).
 *
 * @example
 * const code = await mergeRunReports(await readRunReports(['a.json', 'b.json']), { outDir: 'reports' }, processIo());
 */
export async function mergeRunReports(found: readonly FoundReport[], options: MergeOptions, io: CommandIo): Promise<number> {
  const invalid = options.invalid ?? [];
  for (const bad of invalid) io.err(`not a valid run report (skipped): ${bad.file}: ${bad.error}\n`);
  if (found.length === 0) {
    io.err('no run reports to merge\n');
    return EXIT.crash;
  }
  const combined = combineReports(found.map((f) => f.report));
  // Each suite already appended its own Markdown to $GITHUB_STEP_SUMMARY; do not repeat it.
  const written = await writeReports(combined, { dir: options.outDir, project: '.', target: 'combined', stepSummary: false });
  const rel = (f: string) => path.relative(options.relativeTo ?? process.cwd(), f) || f;
  io.out(renderConsole(combined, { color: io.color }));
  io.out(`merged ${found.length} run report(s): ${found.map((f) => rel(f.file)).join(', ')}\n`);
  io.out(`combined report: ${written.json} (+ .md .xml .html)\n`);
  return invalid.length > 0 ? EXIT.crash : exitCodeFor(found.map((f) => f.report));
}

/**
 * Compares runs with a baseline (noise-aware: see `compareWithBaseline`), prints the last
 * run's report with the comparison and every regressed figure, optionally writes the
 * comparison into the last run's report files, and returns the exit code (3 on a regression,
 * unless the run itself failed or was inconclusive).
 */
export async function compareRunReports(baseline: Baseline, runs: readonly FoundReport[], options: { readonly write?: boolean }, io: CommandIo): Promise<number> {
  const last = runs[runs.length - 1];
  if (!last) throw new InstrumentError('bad_argument', 'at least one run report is required');
  const comparison = compareWithBaseline(baseline, runs.map((r) => r.report));
  const report: RunReport = withComparison(last.report, comparison);
  if (options.write) {
    const file = path.resolve(last.file);
    await writeReports(report, { dir: path.dirname(path.dirname(file)), project: path.basename(path.dirname(file)), target: path.basename(file, '.json') });
  }
  io.out(renderConsole(report, { color: io.color }));
  for (const f of comparison.figures.filter((x) => x.regressed)) io.out(`regressed: ${f.scenario} ${f.figure} ${f.baseline} → ${f.current} (±${f.tolerance})\n`);
  for (const u of comparison.unjudged) io.out(`not compared: ${u.scenario} ${u.figure}: ${u.why}\n`);
  if (comparison.figures.length === 0) io.out(`nothing to compare: no scenario of the run is in baseline ${baseline.id}\n`);
  return exitCodeFor(report);
}
