/**
 * The `crucible` command (bin/crucible.mjs starts this file with tsx).
 *
 *   crucible run <scenarios.ts|.js> [--base-url URL] [--workers N|auto] [--out DIR]
 *                [--threshold 'metric: expr' …] [--env K=V …] [--baseline FILE] [--publish GATEWAY_URL] [--live GATEWAY_URL]
 *   crucible compare <base.json> <new.json…> [--write]
 *   crucible merge <a.json> <b.json> … [--out DIR]
 *   crucible stress [--target sut.json] [--only APP …] [--out DIR] [--profile quick|full] [--step NAME …]
 *   crucible worker <scenarios.ts|.js> --results DIR|--results-url URL [--base-url URL]   (a pod of an Indexed Job)
 *   crucible collect <results-dir>|--results-url URL --completions N [--out DIR] [--name NAME]
 *
 * Exit codes: 0 pass · 1 a threshold or verdict failed · 2 crash or bad argument ·
 * 3 regression against the baseline · 4 inconclusive (a starved load generator).
 */
import path from 'node:path';
import { commandLineOrExit, failureText, InstrumentError, type CommandSpec, type FlagSpec } from '@crucible/instrument-kit';
import { baselineFrom, compareRunReports, EXIT, mergeRunReports, processIo, readRunReports } from '@crucible/reporting';
import { runCommand, runSettings } from './run-command.js';
import { workerCommand, workerSettings } from './segment-worker.js';
import { collectCommand, collectSettings } from './collect-command.js';
import { publishReports, publishTarget } from './publish-history.js';

const EXIT_CODES = 'exit codes: 0 pass · 1 a threshold or verdict failed · 2 crash or bad argument · 3 regression · 4 inconclusive (a starved load generator, or a verdict without its database access)';

const commands = {
  run: {
    usage: 'crucible run',
    positionals: '<scenarios.ts|.js>',
    flags: {
      'base-url': { type: 'string', value: '<url>', description: 'base URL of ctx.http for scenarios that set none (beats the file\'s baseUrl)' },
      workers: { type: 'string', value: '<n|auto>', description: 'spread the run over n processes by execution segments, merged exactly (default 1; auto = one per core)' },
      out: { type: 'string', value: '<dir>', description: 'where <file>.{json,md,xml,html} go (default $CRUCIBLE_REPORTS_DIR, else ./reports)' },
      threshold: { type: 'string', multiple: true, value: "'metric: expr'", description: "a threshold every scenario must meet, e.g. 'p(99)<200' or 'errors: rate<0.01' (repeatable)" },
      env: { type: 'string', multiple: true, value: '<NAME=value>', description: 'set an environment variable before the file is loaded (repeatable)' },
      baseline: { type: 'string', value: '<file>', description: 'compare with a baseline (a saved one, or a run report): a regression exits 3' },
      prometheus: { type: 'string', value: '<[host:]port>', description: 'serve the run\'s counters and latency histogram on http://host:port/metrics for Prometheus to scrape while it goes' },
      otlp: { type: 'string', value: '<url>', description: "send the run's counters and exponential latency histograms, per scenario and per tag, to an OpenTelemetry collector's OTLP/HTTP endpoint (e.g. http://127.0.0.1:4318), every 10 s and at the end; a failed export is reported, not fatal" },
      publish: { type: 'string', value: '<gateway url>', description: "send the finished run to the metrics gateway's run history (/history), with CRUCIBLE_HISTORY_KEY" },
      live: { type: 'string', value: '<gateway url>', description: "stream the run to the metrics gateway while it goes (its live dashboard at /dashboard/<run>), with CRUCIBLE_GATEWAY_TOKEN" },
    },
    env: { CRUCIBLE_REPORTS_DIR: 'default --out', CRUCIBLE_GATEWAY_TOKEN: "with --live: the gateway's publish token (GATEWAY_PUBLISH_TOKEN, else its admin token)", CRUCIBLE_HISTORY_URL: 'default --publish', CRUCIBLE_HISTORY_KEY: 'with --publish: a project API key of the gateway', CRUCIBLE_MACHINE_CLASS: 'with --publish: the machine class runs are compared within (default platform-arch-Ncpu)' },
  },
  compare: {
    usage: 'crucible compare',
    positionals: '<base.json> <new.json…>',
    flags: {
      write: { type: 'boolean', description: "write the comparison into the last run's report files" },
    },
  },
  merge: {
    usage: 'crucible merge',
    positionals: '<a.json> <b.json> …',
    flags: {
      out: { type: 'string', value: '<dir>', description: 'where combined.{json,md,xml,html} go (default: the first report\'s folder)' },
    },
  },
  publish: {
    usage: 'crucible publish',
    positionals: '<report.json…>',
    flags: {
      to: { type: 'string', value: '<gateway url>', description: "the metrics gateway whose run history takes the reports (default CRUCIBLE_HISTORY_URL)" },
    },
    env: { CRUCIBLE_HISTORY_URL: 'default --to', CRUCIBLE_HISTORY_KEY: 'a project API key of the gateway', CRUCIBLE_MACHINE_CLASS: 'the machine class runs are compared within (default platform-arch-Ncpu)', CRUCIBLE_BRANCH: 'the branch the runs are stored under' },
  },
  stress: {
    usage: 'crucible stress',
    flags: {
      target: { type: 'string', value: '<sut.json>', description: 'run against this deployed system (the JSON line `npm run sut` prints) instead of an embedded one' },
      only: { type: 'string', multiple: true, value: '<app>', description: 'only these apps\' stress suites: task-api, id-service, metrics-gateway (repeatable or a,b; default every app the target holds)' },
      out: { type: 'string', value: '<dir>', description: 'where <project>/stress.{json,md,xml,html} go (default $CRUCIBLE_REPORTS_DIR, else ./reports)' },
      profile: { type: 'string', value: '<quick|full>', description: 'the suites\' profile (default CRUCIBLE_PROFILE, else quick)' },
      step: { type: 'string', multiple: true, value: '<name>', description: 'run only the steps whose names contain this (repeatable; an unknown one lists the steps)' },
    },
    env: {
      DATABASE_URL: "with --target: the target's database, for seeding and SQL evidence (beats the file's database_url); without either, SQL verdicts are inconclusive: no database access (exit 4)",
      CRUCIBLE_REPORTS_DIR: 'default --out',
      CRUCIBLE_PROFILE: 'default --profile',
    },
  },
  worker: {
    usage: 'crucible worker',
    positionals: '<scenarios.ts|.js>',
    flags: {
      results: { type: 'string', value: '<dir>', description: 'the directory every worker shares (a volume): the start barrier and the segment results (default $CRUCIBLE_RESULTS_DIR)' },
      'results-url': { type: 'string', value: '<gateway>/jobs/<name>', description: 'instead of --results: a job on the metrics gateway holds the barrier and the segments (token in $CRUCIBLE_RESULTS_TOKEN; default $CRUCIBLE_RESULTS_URL)' },
      'base-url': { type: 'string', value: '<url>', description: "base URL of ctx.http for scenarios that set none (beats the file's baseUrl)" },
      threshold: { type: 'string', multiple: true, value: "'metric: expr'", description: 'a threshold for every scenario (judged once, by crucible collect, on the merged result)' },
      env: { type: 'string', multiple: true, value: '<NAME=value>', description: 'set an environment variable before the file is loaded (repeatable)' },
      'barrier-timeout': { type: 'string', value: '<s>', description: 'how long to wait for every worker at the start barrier (default 120)' },
    },
    env: {
      JOB_COMPLETION_INDEX: "this worker's index, 0 … JOB_COMPLETIONS-1 (set by a Kubernetes Indexed Job)",
      JOB_COMPLETIONS: 'how many workers share the run (the Job\'s completions)',
      CRUCIBLE_RESULTS_DIR: 'default --results',
      CRUCIBLE_RESULTS_URL: 'default --results-url',
      CRUCIBLE_RESULTS_TOKEN: "with --results-url: the gateway's publish token (GATEWAY_PUBLISH_TOKEN, else CRUCIBLE_ADMIN_TOKEN)",
    },
  },
  collect: {
    usage: 'crucible collect',
    positionals: '<results-dir>',
    flags: {
      completions: { type: 'string', value: '<n>', description: 'how many workers must have left a segment (default $JOB_COMPLETIONS)' },
      out: { type: 'string', value: '<dir>', description: 'where <name>.{json,md,xml,html} go (default $CRUCIBLE_REPORTS_DIR, else ./reports)' },
      name: { type: 'string', value: '<name>', description: 'the report\'s name (default distributed)' },
      'results-url': { type: 'string', value: '<gateway>/jobs/<name>', description: 'read the segments from this job on the metrics gateway instead of <results-dir> (default $CRUCIBLE_RESULTS_URL)' },
    },
    env: { CRUCIBLE_RESULTS_URL: 'default --results-url', CRUCIBLE_RESULTS_TOKEN: "with --results-url: the gateway's publish token" },
  },
} satisfies Record<string, CommandSpec<Record<string, FlagSpec>>>;

const overview = `usage: crucible <command> [flags]

commands:
  run <scenarios.ts|.js>      run a scenario file (export default defineRun({ … })) and write its reports
  compare <base> <new…>       compare runs with a baseline run (noise-aware); a regression exits 3
  merge <a.json> <b.json> …   merge run reports (e.g. the segments of one run) into combined.*
  stress [--target sut.json]  the built-in stress suites, against a deployed system (or each on its embedded one)
  worker <scenarios.ts|.js>   one load worker of a distributed run (its segment from JOB_COMPLETION_INDEX/JOB_COMPLETIONS)
  collect <results-dir|--results-url URL>  merge the workers' segments exactly and judge the thresholds once
  publish <report.json…>      send finished runs' reports to the metrics gateway's run history (--to or CRUCIBLE_HISTORY_URL)

Every command takes --help.
${EXIT_CODES}
`;

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  const io = processIo();
  switch (command) {
    case 'run': {
      const settings = commandLineOrExit(rest, commands.run, (values, positionals) => runSettings(values, positionals));
      return runCommand(settings, io, process.stderr);
    }
    case 'compare': {
      const { files, write } = commandLineOrExit(rest, commands.compare, (values, positionals) => {
        if (positionals.length < 2) throw new InstrumentError('bad_argument', 'compare needs a baseline and at least one run report');
        return { files: positionals, write: Boolean(values.write) };
      });
      const [base, ...runs] = files;
      return compareRunReports(await baselineFrom(base as string), await readRunReports(runs), { write }, io);
    }
    case 'merge': {
      const { files, out } = commandLineOrExit(rest, commands.merge, (values, positionals) => {
        if (positionals.length < 1) throw new InstrumentError('bad_argument', 'merge needs at least one run report');
        return { files: positionals, out: values.out };
      });
      const outDir = path.resolve(out ?? path.dirname(files[0] as string));
      return mergeRunReports(await readRunReports(files), { outDir }, io);
    }
    case 'publish': {
      const { files, target } = commandLineOrExit(rest, commands.publish, (values, positionals) => {
        if (positionals.length < 1) throw new InstrumentError('bad_argument', 'publish needs at least one run report (e.g. reports/@crucible/task-api-suites/stress.json)');
        const target = publishTarget(values.to, process.env, '--to');
        if (!target) throw new InstrumentError('bad_argument', 'publish needs --to <gateway url> or CRUCIBLE_HISTORY_URL');
        return { files: positionals, target };
      });
      return publishReports(files, target, io);
    }
    case 'stress': {
      // Loaded only here: the suite kit pulls in the testbed, pg and the checkers, which would
      // slow every `crucible run`'s start (and shift when its first request goes out).
      const { stressCommand, stressSettings } = await import('./stress-command.js');
      const settings = commandLineOrExit(rest, commands.stress, (values, positionals) => stressSettings(values, positionals));
      return stressCommand(settings, io);
    }
    case 'worker': {
      const settings = commandLineOrExit(rest, commands.worker, (values, positionals) => workerSettings(values, positionals));
      return workerCommand(settings, io);
    }
    case 'collect': {
      const settings = commandLineOrExit(rest, commands.collect, (values, positionals) => collectSettings(values, positionals));
      return collectCommand(settings, io);
    }
    case '--help':
    case '-h':
    case 'help':
      process.stdout.write(overview);
      return EXIT.ok;
    default:
      process.stderr.write(`${command === undefined ? 'no command' : `unknown command "${command}"`} (commands: run, compare, merge, publish, stress, worker, collect)\n${overview}`);
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
