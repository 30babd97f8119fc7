import { InstrumentError, isInstrumentError } from '@crucible/instrument-kit';
import { describe, expect, it } from 'vitest';
import { runSuite, type SuiteDefinition } from './suite.js';

/** A suite that would fail loudly if it ever started its system (no such app). */
const suite = (over: Partial<SuiteDefinition<object>>): SuiteDefinition<object> => ({
  name: 'x stress',
  target: 'stress',
  project: '@crucible/x',
  sut: { apps: ['no-such-app'] },
  setup: () => ({}),
  steps: [],
  ...over,
});

describe('runSuite before anything starts', () => {
  it('--help lists the suite\'s own variables with the kit\'s, and starts nothing', async () => {
    let text = '';
    const out = { write: (s: string) => ((text += s), true) } as unknown as NodeJS.WritableStream;
    const code = await runSuite(suite({ variables: { CRUCIBLE_X_RATE: 'events per second' } }), { argv: ['--help'], env: {}, out });
    expect(code).toBe(0);
    expect(text).toMatch(/CRUCIBLE_X_RATE +events per second/);
    expect(text).toContain('CRUCIBLE_PROFILE');
  });

  it('a malformed suite variable, read by steps(args), is a bad argument before the system starts', async () => {
    const steps = () => {
      throw new InstrumentError('bad_argument', 'CRUCIBLE_X_RATE must be a whole number, not "abc"');
    };
    const err = await runSuite(suite({ steps }), { argv: [], env: {}, out: null }).catch((e: unknown) => e);
    expect(isInstrumentError(err, 'bad_argument')).toBe(true);
    expect((err as Error).message).toContain('CRUCIBLE_X_RATE');
  });
});
