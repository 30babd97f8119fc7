import { existsSync } from 'node:fs';
import { workspaceRoot } from '@crucible/instrument-kit';
import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { runReportSchema, type RunReport } from '@crucible/contracts';
import { compareWithBaseline, loadBaseline, withComparison } from './baseline.js';
import { EXIT, exitCodeFor } from './exit-codes.js';
import { runMetadata, type RunMetadataInput } from './metadata.js';
import { renderConsole } from './render/console.js';
import { renderHtml } from './render/html.js';
import { renderJson } from './render/json.js';
import { renderJunit } from './render/junit.js';
import { renderMarkdown } from './render/markdown.js';

/** Where reports go: `$CRUCIBLE_REPORTS_DIR`, else `<workspace root>/reports`. */
export function reportsDir(): string {
  return process.env['CRUCIBLE_REPORTS_DIR'] ?? path.join(workspaceRoot(), 'reports');
}

/** Options of {@link writeReports}. */
export interface WriteReportsOptions {
  /** Base directory (default {@link reportsDir}). */
  readonly dir?: string;
  /** Sub-directory; default the report's `run.project`, else its suite. */
  readonly project?: string;
  /** File stem; default the report's `run.target`, else `report`. */
  readonly target?: string;
  /** Append the Markdown to `$GITHUB_STEP_SUMMARY` when it is set (default true). */
  readonly stepSummary?: boolean;
}

/** Paths of the written report forms. */
export interface WrittenReports {
  readonly json: string;
  readonly markdown: string;
  readonly junit: string;
  readonly html: string;
}

/**
 * Writes `<dir>/<project>/<target>.{json,md,xml,html}` and appends the Markdown to
 * `$GITHUB_STEP_SUMMARY` when set.
 *
 * @example
 * const paths = await writeReports(report); // reports/@crucible/id-service-suites/stress.json …
 */
export async function writeReports(report: RunReport, options: WriteReportsOptions = {}): Promise<WrittenReports> {
  const valid = runReportSchema.parse(report);
  const project = options.project ?? valid.run.project ?? valid.run.suite;
  const target = options.target ?? valid.run.target ?? 'report';
  const dir = path.join(options.dir ?? reportsDir(), project);
  await mkdir(dir, { recursive: true });
  const base = path.join(dir, target);
  const paths: WrittenReports = { json: `${base}.json`, markdown: `${base}.md`, junit: `${base}.xml`, html: `${base}.html` };
  const markdown = renderMarkdown(valid);
  await Promise.all([
    writeFile(paths.json, renderJson(valid)),
    writeFile(paths.markdown, markdown),
    writeFile(paths.junit, renderJunit(valid)),
    writeFile(paths.html, renderHtml(valid)),
  ]);
  const summary = process.env['GITHUB_STEP_SUMMARY'];
  if (summary && options.stepSummary !== false) await appendFile(summary, markdown + '\n');
  return paths;
}

/** Options of {@link finishRun}. */
export interface FinishRunOptions extends WriteReportsOptions {
  /** Where the console summary goes (default `process.stdout`); `null` for none. */
  readonly out?: NodeJS.WritableStream | null;
  /** ANSI colours in the summary (default: when `out` is a TTY). */
  readonly color?: boolean;
  /**
   * A baseline file (see `report baseline save`): when it exists the run is compared with it,
   * the comparison is attached to every report form and a regression exits 3.
   */
  readonly baseline?: string;
}

/**
 * The end of every suite: writes all report forms, prints the console summary, sets
 * `process.exitCode` (see `EXIT`) and returns it.
 *
 * @example
 * const report = buildReport(result, { suite: 'id-service stress' });
 * await finishRun(report); // exit code 1 if a threshold or verdict failed
 */
export async function finishRun(input: RunReport, options: FinishRunOptions = {}): Promise<number> {
  let report = input;
  let baselineNote: string | undefined;
  if (options.baseline) {
    if (existsSync(options.baseline)) report = withComparison(report, compareWithBaseline(await loadBaseline(options.baseline), [report]));
    else baselineNote = `no baseline at ${options.baseline} (save one with: report baseline save <run.json…> --out ${options.baseline})`;
  }
  const paths = await writeReports(report, options);
  const out = options.out === undefined ? process.stdout : options.out;
  if (out) {
    const color = options.color ?? Boolean((out as { isTTY?: boolean }).isTTY);
    out.write(renderConsole(report, { color }));
    out.write(`reports: ${paths.json} (+ .md .xml .html)\n`);
    if (baselineNote) out.write(`${baselineNote}\n`);
  }
  const code = exitCodeFor(report);
  process.exitCode = code;
  return code;
}

/** A report for a run that crashed before it could measure: no scenarios, `crash` set, exit code 2. */
export function crashReport(meta: RunMetadataInput, error: unknown): RunReport {
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return { schema_version: 1, run: runMetadata(meta), scenarios: [], passed: false, crash: message };
}

/**
 * Wraps a suite's body: its report goes through {@link finishRun}; if it throws, a crash report
 * is written instead and the exit code is 2 — so CI can tell a crash from a failed threshold.
 *
 * @example
 * await runSuite({ suite: 'id-service stress' }, async () => {
 *   await using sut = await startSut({ apps: ['id-service'] });
 *   const result = await run([reserve], { baseUrl: sut.url('id-service') });
 *   return buildReport(result, { suite: 'id-service stress' });
 * }, { baseline: 'baselines/stress.json' });
 */
export async function runSuite(meta: RunMetadataInput, body: () => Promise<RunReport>, options: FinishRunOptions = {}): Promise<number> {
  const startedAt = new Date();
  let report: RunReport;
  try {
    report = await body();
  } catch (error) {
    report = crashReport({ ...meta, startedAt }, error);
    const out = options.out === undefined ? process.stderr : options.out;
    out?.write(`${meta.suite} crashed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  }
  const code = await finishRun(report, options);
  return report.crash ? EXIT.crash : code;
}
