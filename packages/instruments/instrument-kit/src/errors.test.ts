import { describe, expect, it } from 'vitest';
import { InstrumentError, instrumentErrorKinds, isInstrumentError } from './errors.js';

describe('InstrumentError', () => {
  it('carries its literal code and the kind the registry gives it', () => {
    const err = new InstrumentError('toxiproxy_missing', 'toxiproxy-server not found');
    expect(err).toBeInstanceOf(Error);
    expect(err.code).toBe('toxiproxy_missing');
    expect(err.kind).toBe('environment');
    expect(err.message).toBe('toxiproxy-server not found');
    expect(new InstrumentError('bad_argument', 'x').kind).toBe('usage');
  });

  it('tells instrument errors apart by code, and plain errors from them', () => {
    const err = new InstrumentError('fault_timeline', 'step failed');
    expect(isInstrumentError(err)).toBe(true);
    expect(isInstrumentError(err, 'fault_timeline')).toBe(true);
    expect(isInstrumentError(err, 'bad_argument')).toBe(false);
    expect(isInstrumentError(new Error('plain'))).toBe(false);
  });

  it('gives every registered code one of the four kinds', () => {
    for (const kind of Object.values(instrumentErrorKinds)) expect(['usage', 'environment', 'fault', 'measurement']).toContain(kind);
  });
});

describe('failureText', () => {
  it('prints a usage error as its message alone and anything else with its stack', async () => {
    const { failureText, InstrumentError } = await import('./errors.js');
    expect(failureText(new InstrumentError('bad_argument', 'unknown flag --profle'))).toBe('unknown flag --profle');
    const crash = new Error('boom');
    expect(failureText(crash)).toBe(crash.stack);
    expect(failureText('plain')).toBe('plain');
  });
});
