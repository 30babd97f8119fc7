import { describe, expect, it } from 'vitest';
import { isInstrumentError } from '@crucible/instrument-kit';
import { parseSuiteArgs, suiteUsage, wantsHelp } from './args.js';

describe('parseSuiteArgs', () => {
  it('reads the profile and --live as nx forwards them', () => {
    expect(parseSuiteArgs([], {})).toEqual({ profile: 'quick', live: false });
    expect(parseSuiteArgs(['--profile=full'], {})).toEqual({ profile: 'full', live: false });
    expect(parseSuiteArgs(['--profile', 'full', '--live'], {})).toEqual({ profile: 'full', live: true });
    expect(parseSuiteArgs([], { CRUCIBLE_PROFILE: 'full' }).profile).toBe('full');
  });

  it('lets an explicit --profile win over CRUCIBLE_PROFILE', () => {
    expect(parseSuiteArgs(['--profile=quick'], { CRUCIBLE_PROFILE: 'full' }).profile).toBe('quick');
    expect(parseSuiteArgs(['--profile=full'], { CRUCIBLE_PROFILE: 'huge' }).profile).toBe('full');
  });

  it('--help is seen in any position and the usage names every flag and variable', () => {
    expect(wantsHelp(['--profile=full', '--help'])).toBe(true);
    expect(wantsHelp(['-h'])).toBe(true);
    expect(wantsHelp(['--profile=full'])).toBe(false);
    const text = suiteUsage('x stress', { CRUCIBLE_GATEWAY_RATE: 'events/s' });
    for (const word of ['--profile=quick|full', '--live', '--help', 'CRUCIBLE_PROFILE', 'DATABASE_URL', 'CRUCIBLE_GATEWAY_RATE']) expect(text).toContain(word);
  });

  it('refuses an unknown flag, a stray argument and an unknown profile, naming them', () => {
    const refused = (argv: string[], env: NodeJS.ProcessEnv = {}) => {
      try {
        parseSuiteArgs(argv, env);
      } catch (err) {
        expect(isInstrumentError(err, 'bad_argument')).toBe(true);
        return (err as Error).message;
      }
      throw new Error(`accepted ${argv.join(' ')}`);
    };
    expect(refused(['--profle=full'])).toContain('"--profle=full"');
    expect(refused(['--profle=full'])).toContain('--profile=quick|full');
    expect(refused(['--profle=full'])).toContain('--help');
    expect(refused(['full'])).toContain('"full"');
    expect(refused(['--profile=huge'])).toContain('--profile must be quick or full, not "huge"');
    expect(refused(['--profile'])).toContain('--profile must be quick or full');
    expect(refused([], { CRUCIBLE_PROFILE: 'huge' })).toContain('CRUCIBLE_PROFILE');
  });
});
