import { InstrumentError } from '@crucible/instrument-kit';

/** Command-line options every bench entry point understands. */
export interface BenchArgs {
  /** `--save-baseline` (or `BENCH_SAVE_BASELINE=1`): write this run as the new baseline. */
  readonly saveBaseline: boolean;
  /** `--tolerance=0.3`: relative tolerance for every task. */
  readonly tolerance?: number;
}

/**
 * Parses bench flags (`--save-baseline`, `--tolerance=<0..10>`); an unknown flag or a bad
 * value throws a message naming it.
 */
export function parseBenchArgs(argv: readonly string[], env: Record<string, string | undefined> = {}): BenchArgs {
  let saveBaseline = env['BENCH_SAVE_BASELINE'] === '1' || env['BENCH_SAVE_BASELINE'] === 'true';
  let tolerance: number | undefined;
  for (const arg of argv) {
    if (arg === '--save-baseline') saveBaseline = true;
    else if (arg.startsWith('--tolerance=')) {
      const v = Number(arg.slice('--tolerance='.length));
      if (!Number.isFinite(v) || v < 0 || v > 10) throw new InstrumentError('bad_argument', `--tolerance must be a number between 0 and 10 (0.25 = 25 %), got ${arg}`);
      tolerance = v;
    } else throw new InstrumentError('bad_argument', `unknown bench option ${arg}: use --save-baseline or --tolerance=<ratio>`);
  }
  return tolerance === undefined ? { saveBaseline } : { saveBaseline, tolerance };
}
