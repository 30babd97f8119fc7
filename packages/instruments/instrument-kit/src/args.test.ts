import { describe, expect, it } from 'vitest';
import { numberArg, parseCommandLine, usageText, wholeArg, type CommandSpec } from './args.js';
import { isInstrumentError } from './errors.js';

const spec = {
  usage: 'tool',
  flags: {
    dir: { type: 'string', value: '<dir>', description: 'where to look' },
    write: { type: 'boolean', description: 'write it' },
  },
  env: { TOOL_DIR: 'default --dir' },
} satisfies CommandSpec<Record<string, { type: 'string' | 'boolean'; description: string; value?: string }>>;

const refused = (argv: string[]) => {
  try {
    parseCommandLine(argv, spec);
  } catch (err) {
    expect(isInstrumentError(err, 'bad_argument')).toBe(true);
    return (err as Error).message;
  }
  throw new Error(`accepted ${argv.join(' ')}`);
};

describe('parseCommandLine', () => {
  it('reads flags in both forms and skips the -- npm and Nx forward', () => {
    expect(parseCommandLine(['--dir=a', '--write'], spec).values).toEqual({ dir: 'a', write: true });
    expect(parseCommandLine(['--', '--dir', 'b'], spec).values).toEqual({ dir: 'b' });
  });

  it('refuses an unknown flag, a missing value and a stray argument, listing the accepted flags', () => {
    const unknown = refused(['--dri=a']);
    expect(unknown).toContain("'--dri'");
    expect(unknown).toContain('--dir=<dir>');
    expect(unknown).toContain('--write');
    expect(refused(['--dir'])).toContain("'--dir <value>' argument missing");
    expect(refused(['extra'])).toContain('unexpected argument "extra"');
    expect(refused(['--write=yes'])).toContain('--write');
  });

  it('a repeatable flag keeps every value in order; an ordinary one given twice keeps the last', () => {
    const repeatable = { usage: 'tool', flags: { env: { type: 'string', multiple: true, description: 'K=V' }, dir: { type: 'string', description: 'd' } } } as const;
    const cli = parseCommandLine(['--env', 'A=1', '--env=B=2', '--dir', 'x'], repeatable);
    const env: readonly string[] | undefined = cli.values.env;
    expect(env).toEqual(['A=1', 'B=2']);
    expect(cli.values.dir).toBe('x');
    expect(usageText(repeatable)).toContain('--env=<value> …');
  });

  it('--help wins over everything else and the usage lists flags and variables', () => {
    expect(parseCommandLine(['--write', '--help'], spec).help).toBe(true);
    expect(parseCommandLine(['-h'], spec).help).toBe(true);
    const text = usageText(spec);
    expect(text).toMatch(/^usage: tool \[flags\]/);
    expect(text).toContain('--dir=<dir>  where to look');
    expect(text).toContain('TOOL_DIR');
  });
});

describe('numberArg', () => {
  it('accepts numbers in range and names the flag otherwise', () => {
    expect(numberArg('--rate', '12.5', 0, 100)).toBe(12.5);
    expect(numberArg('--rate', undefined, 0, 100)).toBeUndefined();
    expect(() => numberArg('--rate', 'fast', 0, 100)).toThrow('--rate must be a number from 0 to 100, not "fast"');
    expect(() => numberArg('--rate', '', 0, 100)).toThrow('--rate');
    expect(() => numberArg('--rate', '101', 0, 100)).toThrow('--rate');
  });
});

describe('wholeArg', () => {
  it('takes whole numbers, falls back when absent and names the flag otherwise', () => {
    expect(wholeArg('--repeat', '3', 1)).toBe(3);
    expect(wholeArg('--repeat', undefined, 5)).toBe(5);
    expect(() => wholeArg('--repeat', '2.5', 1)).toThrow('--repeat must be a whole number');
    expect(() => wholeArg('--repeat', '0', 1)).toThrow('--repeat');
  });
});
