import { existsSync } from 'node:fs';
import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { runReportSchema, type RunReport } from '@crucible/contracts';
import { exitCodeFor } from './exit-codes.js';
import { renderConsole } from './render/console.js';
import { renderHtml } from './render/html.js';
import { renderJson } from './render/json.js';
import { renderJunit } from './render/junit.js';
import { renderMarkdown } from './render/markdown.js';

/** The workspace root (the nearest directory up from `from` holding `nx.json`), or `from`. */
export function workspaceRoot(from = process.cwd()): string {
  let dir = path.resolve(from);
  for (;;) {
    if (existsSync(path.join(dir, 'nx.json'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return path.resolve(from);
    dir = parent;
  }
}

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
}

/**
 * The end of every suite: writes all report forms, prints the console summary, sets
 * `process.exitCode` (see `EXIT`) and returns it.
 *
 * @example
 * const report = buildReport(result, { suite: 'id-service stress' });
 * await finishRun(report); // exit code 1 if a threshold or verdict failed
 */
export async function finishRun(report: RunReport, options: FinishRunOptions = {}): Promise<number> {
  const paths = await writeReports(report, options);
  const out = options.out === undefined ? process.stdout : options.out;
  if (out) {
    const color = options.color ?? Boolean((out as { isTTY?: boolean }).isTTY);
    out.write(renderConsole(report, { color }));
    out.write(`reports: ${paths.json} (+ .md .xml .html)\n`);
  }
  const code = exitCodeFor(report);
  process.exitCode = code;
  return code;
}
