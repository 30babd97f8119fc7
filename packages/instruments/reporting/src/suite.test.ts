import { describe, expect, it } from 'vitest';
import { expectVerdict, parseSuiteArgs } from './suite.js';

describe('parseSuiteArgs', () => {
  it('reads the profile and --live as nx forwards them', () => {
    expect(parseSuiteArgs([], {})).toEqual({ profile: 'quick', live: false });
    expect(parseSuiteArgs(['--profile=full'], {})).toEqual({ profile: 'full', live: false });
    expect(parseSuiteArgs(['--profile', 'full', '--live'], {})).toEqual({ profile: 'full', live: true });
    expect(parseSuiteArgs([], { CRUCIBLE_PROFILE: 'full' }).profile).toBe('full');
  });
  it('refuses an unknown profile, naming the flag', () => {
    expect(() => parseSuiteArgs(['--profile=huge'], {})).toThrow('--profile must be quick or full, not "huge"');
  });
  it('turns a comparison into a verdict', () => {
    expect(expectVerdict('x', false, 'broken', { n: 1 }).status).toBe('fail');
    expect(expectVerdict('x', true, 'fine').status).toBe('pass');
  });
});
