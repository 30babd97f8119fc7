/**
 * @crucible/reporting — one report model (from `@crucible/contracts`), built from the load
 * engine's results (`buildReport`, `scenarioReport`, `runEndSummary`), k6-style thresholds,
 * renderers (console, JSON, Markdown, JUnit XML, self-contained HTML), report files, baseline
 * comparison and exit codes.
 *
 * @example
 * import { finishRun } from '@crucible/reporting';
 * const code = await finishRun(report); // writes reports/<project>/<target>.{json,md,xml,html}
 */
export * from './thresholds.js';
export * from './from-run.js';
export * from './metadata.js';
export * from './exit-codes.js';
export * from './write-reports.js';
export * from './combine.js';
export * from './baseline.js';
export * from './report-commands.js';
export { renderConsole, type ConsoleRenderOptions } from './render/console.js';
export { renderJson, parseRunReport } from './render/json.js';
export { renderMarkdown } from './render/markdown.js';
export { renderJunit, xmlEscape } from './render/junit.js';
export { renderHtml } from './render/html.js';
export { failureLines } from './render/format.js';
export { lineChart, barChart, type LineSeries, type ChartOptions } from './render/svg-chart.js';
