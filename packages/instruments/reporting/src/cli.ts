/**
 * Crucible reporting CLI.
 *
 *   report merge [--dir reports] [--out reports] [--only <target>]
 *                                                         combine every run report (or only `<target>.json` ones,
 *                                                         e.g. `--only stress`) → combined.{json,md,xml,html}
 *                                                         (an invalid report is skipped, named, and exits 2)
 *   report baseline save <run.json…> --out <file> [--id <id>]   save repeated runs as a baseline
 *   report compare --baseline <file> <run.json…> [--write]      compare runs with a baseline (exit 3 on regression)
 *
 * Exit codes: 0 ok · 1 threshold/verdict failed · 2 crash or bad input · 3 regression ·
 * 4 inconclusive (nothing failed, but a load generator was starved: latency/throughput unjudged).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { compareWithBaseline, createBaseline, loadBaseline, saveBaseline, withComparison } from './baseline.js';
import { combineReports, scanRunReports } from './combine.js';
import { EXIT, exitCodeFor } from './exit-codes.js';
import { renderConsole } from './render/console.js';
import { parseRunReport } from './render/json.js';
import { reportsDir, writeReports } from './write-reports.js';

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'merge': {
      const { values } = parseArgs({ args: rest, options: { dir: { type: 'string' }, out: { type: 'string' }, only: { type: 'string' } } });
      const dir = path.resolve(values.dir ?? reportsDir());
      const scanned = await scanRunReports(dir);
      // `--only stress` keeps this run's stress reports out of company with older bench or resilience ones.
      const wanted = (file: string) => !values.only || path.basename(file, '.json') === values.only;
      const found = scanned.reports.filter((f) => wanted(f.file));
      const invalid = scanned.invalid.filter((f) => wanted(f.file));
      for (const bad of invalid) console.error(`not a valid run report (skipped): ${bad.file}: ${bad.error}`);
      if (found.length === 0) {
        console.error(`no run reports under ${dir}`);
        return EXIT.crash;
      }
      const combined = combineReports(found.map((f) => f.report));
      // Each suite already appended its own Markdown to $GITHUB_STEP_SUMMARY; do not repeat it.
      const written = await writeReports(combined, { dir: path.resolve(values.out ?? dir), project: '.', target: 'combined', stepSummary: false });
      process.stdout.write(renderConsole(combined, { color: Boolean(process.stdout.isTTY) }));
      console.log(`merged ${found.length} run report(s): ${found.map((f) => path.relative(dir, f.file)).join(', ')}`);
      console.log(`combined report: ${written.json} (+ .md .xml .html)`);
      // A report that does not validate means a suite is broken: as bad as a crash.
      return invalid.length > 0 ? EXIT.crash : exitCodeFor(found.map((f) => f.report));
    }
    case 'baseline': {
      const [sub, ...files] = rest;
      const { values, positionals } = parseArgs({ args: files, allowPositionals: true, options: { out: { type: 'string' }, id: { type: 'string' } } });
      if (sub !== 'save' || !values.out || positionals.length === 0) {
        console.error('usage: report baseline save <run.json…> --out <baseline.json> [--id <id>]');
        return EXIT.crash;
      }
      const runs = await Promise.all(positionals.map(async (f) => parseRunReport(await readFile(f, 'utf8'))));
      const baseline = createBaseline(runs, values.id);
      await saveBaseline(baseline, values.out);
      console.log(`baseline ${baseline.id} (${runs.length} run(s)) saved to ${values.out}`);
      return EXIT.ok;
    }
    case 'compare': {
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { baseline: { type: 'string' }, write: { type: 'boolean' } } });
      if (!values.baseline || positionals.length === 0) {
        console.error('usage: report compare --baseline <baseline.json> <run.json…> [--write]');
        return EXIT.crash;
      }
      const baseline = await loadBaseline(values.baseline);
      const runs = await Promise.all(positionals.map(async (f) => parseRunReport(await readFile(f, 'utf8'))));
      const comparison = compareWithBaseline(baseline, runs);
      const last = runs[runs.length - 1];
      const lastFile = positionals[positionals.length - 1];
      if (!last || !lastFile) return EXIT.crash;
      const report = withComparison(last, comparison);
      if (values.write) {
        await writeReports(report, { dir: path.dirname(path.dirname(path.resolve(lastFile))), project: path.basename(path.dirname(path.resolve(lastFile))), target: path.basename(lastFile, '.json') });
      }
      process.stdout.write(renderConsole(report, { color: Boolean(process.stdout.isTTY) }));
      for (const f of comparison.figures.filter((x) => x.regressed)) console.log(`regressed: ${f.scenario} ${f.figure} ${f.baseline} → ${f.current} (±${f.tolerance})`);
      return exitCodeFor(report);
    }
    default:
      console.error('usage: report merge | report baseline save | report compare  (see packages/instruments/reporting/README.md)');
      return EXIT.crash;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exitCode = EXIT.crash;
  },
);
