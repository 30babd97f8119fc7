import { InstrumentError } from '@crucible/instrument-kit';

/** The command line every suite takes. */
export interface SuiteArgs {
  /** `quick` (default) or `full`, the long form of every scenario. */
  readonly profile: 'quick' | 'full';
  /** Stream the run to the metrics gateway's live dashboard. */
  readonly live: boolean;
}

const usage = 'flags: --profile=quick|full (or --profile full), --live';

/**
 * Parses a suite's arguments strictly: `--profile=quick|full` (or `--profile full`) and
 * `--live`. `CRUCIBLE_PROFILE` gives the default profile; an explicit `--profile` wins over
 * it. An unknown flag, a stray argument or an unknown profile throws an `InstrumentError`
 * (`bad_argument`) naming it, so `--profle=full` can never run the quick profile and pass.
 *
 * @example
 * parseSuiteArgs(['--profile=full']); // { profile: 'full', live: false }
 */
export function parseSuiteArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): SuiteArgs {
  const fromEnv = env['CRUCIBLE_PROFILE'];
  if (fromEnv !== undefined && fromEnv !== '' && fromEnv !== 'quick' && fromEnv !== 'full') {
    throw new InstrumentError('bad_argument', `CRUCIBLE_PROFILE must be quick or full, not "${fromEnv}"`);
  }
  let profile: SuiteArgs['profile'] = fromEnv === 'full' ? 'full' : 'quick';
  let live = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--') continue;
    if (a === '--live') {
      live = true;
      continue;
    }
    const isProfile = a === '--profile' || a.startsWith('--profile=');
    if (!isProfile) throw new InstrumentError('bad_argument', `unknown argument "${a}" (${usage})`);
    const value = a === '--profile' ? argv[++i] : a.slice('--profile='.length);
    if (value !== 'quick' && value !== 'full') throw new InstrumentError('bad_argument', `--profile must be quick or full, not "${value ?? ''}"`);
    profile = value;
  }
  return { profile, live };
}
