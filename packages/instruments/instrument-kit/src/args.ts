import { parseArgs } from 'node:util';
import { InstrumentError } from './errors.js';

/** One flag a command accepts. */
export interface FlagSpec {
  readonly type: 'string' | 'boolean';
  /** What it does, for `--help` and for the error that lists the accepted flags. */
  readonly description: string;
  /** The value's shape in the usage line, e.g. `<dir>` (string flags). */
  readonly value?: string;
  /** A string flag that may be repeated (`--env A=1 --env B=2`): its value is every one given, in order. */
  readonly multiple?: boolean;
}

/** A command line: its name, flags, positionals and the environment variables it reads. */
export interface CommandSpec<F extends Record<string, FlagSpec>> {
  /** How it is invoked, e.g. `npm run sut --`. */
  readonly usage: string;
  readonly flags: F;
  /** Positional arguments (e.g. `<run.json…>`); without it a positional is an error. */
  readonly positionals?: string;
  /** Environment variables it reads, name → meaning (an explicit flag beats them). */
  readonly env?: Readonly<Record<string, string>>;
}

type Values<F extends Record<string, FlagSpec>> = {
  readonly [K in keyof F]?: F[K]['type'] extends 'boolean' ? boolean : F[K] extends { readonly multiple: true } ? readonly string[] : string;
};

/** The parsed command line; `help` is true when `--help` (or `-h`) was given. */
export interface CommandLine<F extends Record<string, FlagSpec>> {
  readonly help: boolean;
  readonly values: Values<F>;
  readonly positionals: readonly string[];
}

/** The text `--help` prints: usage, every flag and every environment variable. */
export function usageText<F extends Record<string, FlagSpec>>(spec: CommandSpec<F>): string {
  const flag = (name: string, f: FlagSpec) => `--${name}${f.type === 'string' ? `=${f.value ?? '<value>'}` : ''}${f.multiple ? ' …' : ''}`;
  const rows = Object.entries(spec.flags).map(([name, f]) => [flag(name, f), f.description] as const);
  rows.push(['--help', 'print this help and exit']);
  const width = Math.max(...rows.map(([l]) => l.length));
  const lines = [`usage: ${spec.usage} [flags]${spec.positionals ? ` ${spec.positionals}` : ''}`, '', 'flags:'];
  for (const [l, d] of rows) lines.push(`  ${l.padEnd(width)}  ${d}`);
  const env = Object.entries(spec.env ?? {});
  if (env.length) {
    lines.push('', 'environment (an explicit flag wins):');
    const w = Math.max(...env.map(([n]) => n.length));
    for (const [n, d] of env) lines.push(`  ${n.padEnd(w)}  ${d}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Parses a command line strictly (`node:util` `parseArgs`): an unknown flag, a missing or
 * unexpected value, or a positional the command does not take throws an `InstrumentError`
 * (`bad_argument`) that names it and lists the accepted flags. `--help`/`-h` sets `help`
 * (the caller prints {@link usageText} and exits 0 before doing anything else). A lone `--`,
 * as npm and Nx forward it, is skipped.
 *
 * @example
 * const cli = parseCommandLine(process.argv.slice(2), { usage: 'report merge', flags: { dir: { type: 'string', description: 'reports folder' } } });
 * if (cli.help) process.stdout.write(usageText(spec));
 */
export function parseCommandLine<F extends Record<string, FlagSpec>>(argv: readonly string[], spec: CommandSpec<F>): CommandLine<F> {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = { help: { type: 'boolean', short: 'h' } };
  for (const [name, f] of Object.entries(spec.flags)) options[name] = { type: f.type, ...(f.multiple ? { multiple: true } : {}) };
  // Nx and npm forward `-- --flag`; a leading `--` must not turn every flag into a positional.
  const args = argv[0] === '--' ? argv.slice(1) : [...argv];
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args, options, strict: true, allowPositionals: true });
  } catch (err) {
    // node's messages ("Unknown option '--profle'. To specify a positional …"): keep the first sentence.
    const why = ((err as Error).message.split(/\.\s/)[0] ?? String(err)).replace(/\.$/, '');
    throw new InstrumentError('bad_argument', `${why}\n${usageText(spec)}`);
  }
  const values = parsed.values as Record<string, string | boolean | string[] | undefined>;
  if (values['help']) return { help: true, values: {} as Values<F>, positionals: [] };
  if (!spec.positionals && parsed.positionals.length > 0) {
    throw new InstrumentError('bad_argument', `unexpected argument "${parsed.positionals[0]}"\n${usageText(spec)}`);
  }
  delete values['help'];
  return { help: false, values: values as Values<F>, positionals: parsed.positionals };
}

/**
 * A number flag or variable: finite and within `[min, max]`, else an `InstrumentError`
 * naming `name` and the range. `undefined` stays `undefined`.
 */
export function numberArg(name: string, raw: string | undefined, min: number, max: number): number | undefined {
  if (raw === undefined) return undefined;
  const v = raw.trim() === '' ? Number.NaN : Number(raw);
  if (!Number.isFinite(v) || v < min || v > max) {
    throw new InstrumentError('bad_argument', `${name} must be a number from ${min} to ${max}, not "${raw}"`);
  }
  return v;
}

/**
 * For entry points (scripts, CLIs) only: {@link parseCommandLine}, then `read` turns the
 * values into settings (its `bad_argument` errors are treated like the parser's). `--help`
 * prints {@link usageText} on stdout and exits 0; a bad argument prints its message (which
 * lists the accepted flags) on stderr and exits 2, before the script starts anything.
 *
 * @example
 * const settings = commandLineOrExit(process.argv.slice(2), spec, (v) => ({ repeat: wholeArg('--repeat', v.repeat, 3) }));
 */
export function commandLineOrExit<F extends Record<string, FlagSpec>, T>(
  argv: readonly string[],
  spec: CommandSpec<F>,
  read: (values: Values<F>, positionals: readonly string[]) => T,
): T {
  let cli: CommandLine<F>;
  let settings: T;
  try {
    cli = parseCommandLine(argv, spec);
    if (cli.help) {
      process.stdout.write(usageText(spec));
      process.exit(0);
    }
    settings = read(cli.values, cli.positionals);
  } catch (err) {
    if (!(err instanceof InstrumentError) || err.code !== 'bad_argument') throw err;
    const usage = err.message.includes('\nusage: ') ? '' : `\n${usageText(spec)}`;
    process.stderr.write(`${err.message}${usage}\n`);
    process.exit(2);
  }
  return settings;
}

/** A whole number ≥ 1 from a flag (or `fallback` when it is absent), else an `InstrumentError` naming it. */
export function wholeArg(name: string, raw: string | undefined, fallback: number, max = 1_000_000): number {
  const v = numberArg(name, raw, 1, max);
  if (v === undefined) return fallback;
  if (!Number.isInteger(v)) throw new InstrumentError('bad_argument', `${name} must be a whole number from 1 to ${max}, not "${raw}"`);
  return v;
}
