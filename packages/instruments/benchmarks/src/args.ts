import { InstrumentError, numberArg, parseCommandLine, usageText, type CommandSpec } from '@crucible/instrument-kit';

/** Command-line options every bench entry point understands. */
export interface BenchArgs {
  /** `--save-baseline` (or `BENCH_SAVE_BASELINE=1`): write this run as the new baseline. */
  readonly saveBaseline: boolean;
  /** `--tolerance=0.3`: relative tolerance for every task. */
  readonly tolerance?: number;
  /** `--help`: the entry point prints {@link benchUsage} and exits 0 before measuring. */
  readonly help?: true;
}

/** The bench command line, for {@link parseBenchArgs} and `--help`. */
export const benchCommand = {
  usage: 'npm run bench -w <suites project> --',
  flags: {
    'save-baseline': { type: 'boolean', description: 'write this run as the new baseline (baselines/*.json)' },
    'no-save-baseline': { type: 'boolean', description: 'do not, even when BENCH_SAVE_BASELINE is set' },
    tolerance: { type: 'string', value: '<ratio>', description: 'relative tolerance for every task, 0 to 10 (0.25 = 25 %)' },
  },
  env: { BENCH_SAVE_BASELINE: '1|true: as --save-baseline (0|false|empty: not); a flag wins' },
} satisfies CommandSpec<Record<string, { type: 'string' | 'boolean'; description: string; value?: string }>>;

/** What `--help` prints for a bench entry point. */
export function benchUsage(): string {
  return usageText(benchCommand);
}

/**
 * Parses bench flags strictly (`--save-baseline`, `--no-save-baseline`, `--tolerance=<0..10>`,
 * `--help`): an unknown flag or a bad value throws an `InstrumentError` (`bad_argument`) that
 * names it and lists the accepted flags. An explicit flag beats `BENCH_SAVE_BASELINE`, which
 * is read only when neither baseline flag is given (and must then be 1, true, 0, false or empty).
 *
 * @example
 * parseBenchArgs(['--tolerance=0.3'], process.env); // { saveBaseline: false, tolerance: 0.3 }
 */
export function parseBenchArgs(argv: readonly string[], env: Record<string, string | undefined> = {}): BenchArgs {
  const cli = parseCommandLine(argv, benchCommand);
  if (cli.help) return { saveBaseline: false, help: true };
  const { values } = cli;
  if (values['save-baseline'] && values['no-save-baseline']) {
    throw new InstrumentError('bad_argument', '--save-baseline and --no-save-baseline contradict each other');
  }
  let saveBaseline: boolean;
  if (values['save-baseline'] || values['no-save-baseline']) saveBaseline = Boolean(values['save-baseline']);
  else {
    const raw = (env['BENCH_SAVE_BASELINE'] ?? '').trim().toLowerCase();
    if (!['', '0', '1', 'true', 'false'].includes(raw)) throw new InstrumentError('bad_argument', `BENCH_SAVE_BASELINE must be 1, true, 0, false or empty, not "${env['BENCH_SAVE_BASELINE']}"`);
    saveBaseline = raw === '1' || raw === 'true';
  }
  const tolerance = numberArg('--tolerance', values.tolerance, 0, 10);
  return tolerance === undefined ? { saveBaseline } : { saveBaseline, tolerance };
}
