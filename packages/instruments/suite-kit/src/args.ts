import { InstrumentError } from '@crucible/instrument-kit';

/** The command line every suite takes. */
export interface SuiteArgs {
  /** `quick` (default) or `full`, the long form of every scenario. */
  readonly profile: 'quick' | 'full';
  /** Stream the run to the metrics gateway's live dashboard. */
  readonly live: boolean;
  /**
   * `--target FILE`: run against an already deployed system (the JSON line `npm run sut`
   * prints) instead of starting the embedded one; absent for the embedded system.
   */
  readonly target?: string;
  /** `--step NAME` (repeatable): run only the steps whose names contain one of these; absent = every step. */
  readonly steps?: readonly string[];
}

const usage = 'flags: --profile=quick|full (or --profile full), --live, --target FILE, --step NAME, --help';

/** Whether the arguments ask for help (`--help` or `-h`); the suite then prints {@link suiteUsage} and starts nothing. */
export function wantsHelp(argv: readonly string[]): boolean {
  return argv.includes('--help') || argv.includes('-h');
}

/** What `--help` prints for a suite: its flags and the environment variables the kit reads. */
export function suiteUsage(name: string, extraEnv: Readonly<Record<string, string>> = {}): string {
  const env: Record<string, string> = {
    CRUCIBLE_PROFILE: 'default profile (quick|full); --profile wins',
    DATABASE_URL: 'an external PostgreSQL instead of the embedded one; with --target, the target\'s database (SQL evidence and seeding; beats the file\'s database_url)',
    CRUCIBLE_GATEWAY_URL: 'with --live: an already running metrics gateway',
    CRUCIBLE_GATEWAY_TOKEN: 'with --live: its token (default CRUCIBLE_ADMIN_TOKEN)',
    ...extraEnv,
  };
  const w = Math.max(...Object.keys(env).map((k) => k.length));
  return [
    `${name}: usage: [--profile=quick|full] [--live] [--target FILE] [--step NAME …]`,
    '',
    'flags:',
    '  --profile=quick|full  quick (default) or full, the long form of every scenario',
    '  --live                stream the run to the metrics gateway\'s live dashboard',
    '  --target FILE         run against a deployed system (the JSON line `npm run sut` prints), not the embedded one',
    '  --step NAME           run only the steps whose names contain NAME (repeatable; an unknown one lists the steps)',
    '  --help                print this help and exit (starts nothing)',
    '',
    'environment:',
    ...Object.entries(env).map(([k, v]) => `  ${k.padEnd(w)}  ${v}`),
    '',
  ].join('\n');
}

/**
 * Parses a suite's arguments strictly: `--profile=quick|full` (or `--profile full`) and
 * `--live`. `CRUCIBLE_PROFILE` gives the default profile; an explicit `--profile` wins over
 * it (and a malformed `CRUCIBLE_PROFILE` is then not read). `--help` is handled before this,
 * by {@link wantsHelp}. An unknown flag, a stray argument or an unknown profile throws an `InstrumentError`
 * (`bad_argument`) naming it, so `--profle=full` can never run the quick profile and pass.
 *
 * @example
 * parseSuiteArgs(['--profile=full']); // { profile: 'full', live: false }
 */
export function parseSuiteArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): SuiteArgs {
  let profile: SuiteArgs['profile'] | undefined;
  let live = false;
  let target: string | undefined;
  const steps: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--') continue;
    if (a === '--live') {
      live = true;
      continue;
    }
    const valued = (['--target', '--step'] as const).find((f) => a === f || a.startsWith(`${f}=`));
    if (valued) {
      const value = a === valued ? argv[++i] : a.slice(valued.length + 1);
      if (!value || value.startsWith('--')) throw new InstrumentError('bad_argument', `${valued} needs a value (${usage})`);
      if (valued === '--target') target = value;
      else steps.push(value);
      continue;
    }
    const isProfile = a === '--profile' || a.startsWith('--profile=');
    if (!isProfile) throw new InstrumentError('bad_argument', `unknown argument "${a}" (${usage})`);
    const value = a === '--profile' ? argv[++i] : a.slice('--profile='.length);
    if (value !== 'quick' && value !== 'full') throw new InstrumentError('bad_argument', `--profile must be quick or full, not "${value ?? ''}"`);
    profile = value;
  }
  // Read only when no --profile was given: an explicit flag beats the environment, even a bad one.
  if (profile === undefined) {
    const fromEnv = env['CRUCIBLE_PROFILE'];
    if (fromEnv !== undefined && fromEnv !== '' && fromEnv !== 'quick' && fromEnv !== 'full') {
      throw new InstrumentError('bad_argument', `CRUCIBLE_PROFILE must be quick or full, not "${fromEnv}"`);
    }
    profile = fromEnv === 'full' ? 'full' : 'quick';
  }
  return { profile, live, ...(target === undefined ? {} : { target }), ...(steps.length ? { steps } : {}) };
}
