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
import { failureText, InstrumentError, parseCommandLine, usageText, type CommandSpec, type FlagSpec } from '@crucible/instrument-kit';
import { createBaseline, loadBaseline, saveBaseline } from './baseline.js';
import { scanRunReports } from './combine.js';
import { EXIT } from './exit-codes.js';
import { parseRunReport } from './render/json.js';
import { compareRunReports, mergeRunReports, processIo, readRunReports } from './report-commands.js';
import { reportsDir } from './write-reports.js';

const commands = {
  merge: {
    usage: 'report merge',
    flags: {
      dir: { type: 'string', value: '<dir>', description: 'where the run reports are (default reports/)' },
      out: { type: 'string', value: '<dir>', description: 'where combined.* go (default --dir)' },
      only: { type: 'string', value: '<target>', description: 'only <target>.json reports, e.g. stress' },
    },
  },
  baseline: {
    usage: 'report baseline save --out=<baseline.json>',
    positionals: '<run.json…>',
    flags: {
      out: { type: 'string', value: '<file>', description: 'the baseline file to write (required)' },
      id: { type: 'string', value: '<id>', description: "the baseline's id (default: derived from the runs)" },
    },
  },
  compare: {
    usage: 'report compare --baseline=<baseline.json>',
    positionals: '<run.json…>',
    flags: {
      baseline: { type: 'string', value: '<file>', description: 'the baseline to compare with (required)' },
      write: { type: 'boolean', description: "write the comparison into the last run's report files" },
    },
  },
} satisfies Record<string, CommandSpec<Record<string, FlagSpec>>>;

const overview = `usage: report merge | report baseline save | report compare   (each takes --help; see packages/instruments/reporting/README.md)
Exit codes: 0 ok · 1 threshold/verdict failed · 2 crash or bad input · 3 regression · 4 inconclusive (a starved load generator).
`;

/** Prints a subcommand's help when it was asked for; true when it was. */
function helped(cli: { readonly help: boolean }, spec: CommandSpec<Record<string, FlagSpec>>): boolean {
  if (cli.help) process.stdout.write(usageText(spec));
  return cli.help;
}

/** A required flag or positional that is missing: a usage error listing the command's flags. */
function missing(name: keyof typeof commands, what: string): never {
  const spec: CommandSpec<Record<string, FlagSpec>> = commands[name];
  throw new InstrumentError('bad_argument', `${what} is required\n${usageText(spec)}`);
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'merge': {
      const cli = parseCommandLine(rest, commands.merge);
      if (helped(cli, commands.merge)) return EXIT.ok;
      const { values } = cli;
      const dir = path.resolve(values.dir ?? reportsDir());
      const scanned = await scanRunReports(dir);
      // `--only stress` keeps this run's stress reports out of company with older bench or resilience ones.
      const wanted = (file: string) => !values.only || path.basename(file, '.json') === values.only;
      const found = scanned.reports.filter((f) => wanted(f.file));
      const invalid = scanned.invalid.filter((f) => wanted(f.file));
      if (found.length === 0 && invalid.length === 0) {
        console.error(`no run reports under ${dir}`);
        return EXIT.crash;
      }
      return mergeRunReports(found, { outDir: path.resolve(values.out ?? dir), relativeTo: dir, invalid }, processIo());
    }
    case 'baseline': {
      const [sub, ...files] = rest;
      if (sub === '--help' || sub === '-h') return (process.stdout.write(usageText(commands.baseline)), EXIT.ok);
      if (sub !== 'save') throw new InstrumentError('bad_argument', `unknown baseline command "${sub ?? ''}": only "save"\n${usageText(commands.baseline)}`);
      const cli = parseCommandLine(files, commands.baseline);
      if (helped(cli, commands.baseline)) return EXIT.ok;
      const { values, positionals } = cli;
      if (!values.out) missing('baseline', '--out');
      if (positionals.length === 0) missing('baseline', 'at least one run report');
      const runs = await Promise.all(positionals.map(async (f) => parseRunReport(await readFile(f, 'utf8'))));
      const baseline = createBaseline(runs, values.id);
      await saveBaseline(baseline, values.out);
      console.log(`baseline ${baseline.id} (${runs.length} run(s)) saved to ${values.out}`);
      return EXIT.ok;
    }
    case 'compare': {
      const cli = parseCommandLine(rest, commands.compare);
      if (helped(cli, commands.compare)) return EXIT.ok;
      const { values, positionals } = cli;
      if (!values.baseline) missing('compare', '--baseline');
      if (positionals.length === 0) missing('compare', 'at least one run report');
      const baseline = await loadBaseline(values.baseline);
      return compareRunReports(baseline, await readRunReports(positionals), { write: Boolean(values.write) }, processIo());
    }
    case '--help':
    case '-h':
      process.stdout.write(overview);
      return EXIT.ok;
    default:
      process.stderr.write(`${command === undefined ? 'no command' : `unknown command "${command}"`}\n${overview}`);
      return EXIT.crash;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`${failureText(error)}\n`);
    process.exitCode = EXIT.crash;
  },
);
