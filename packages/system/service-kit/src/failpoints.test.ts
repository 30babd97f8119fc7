import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from './env.js';
import { armFailpoints, failpoint, parseFailpoints } from './failpoints.js';

describe('failpoints', () => {
  afterEach(() => armFailpoints({}));

  it('are off unless armed', () => {
    expect(failpoint('tasks.list.unscoped')).toBe(false);
  });

  it('parse names with probabilities, a bare name meaning always', () => {
    expect(parseFailpoints('tasks.list.unscoped=0.25, health.stale-ok')).toEqual({ 'tasks.list.unscoped': 0.25, 'health.stale-ok': 1 });
    expect(parseFailpoints(undefined)).toEqual({});
  });

  it('refuse an unknown name or a probability outside 0..1, naming it', () => {
    expect(() => parseFailpoints('tasks.list.unscopd')).toThrow(ConfigError);
    expect(() => parseFailpoints('tasks.list.unscopd')).toThrow(/unknown failpoint "tasks.list.unscopd" \(known: .*tasks.list.unscoped/);
    expect(() => parseFailpoints('tasks.list.unscoped=2')).toThrow(/probability from 0 to 1, not "2"/);
  });

  it('fire always at 1, never at 0, and about as often as asked in between', () => {
    armFailpoints({ 'tasks.list.unscoped': 1, 'health.stale-ok': 0, 'db.slow-recovery': 0.2 });
    expect(failpoint('tasks.list.unscoped')).toBe(true);
    expect(failpoint('health.stale-ok')).toBe(false);
    let fired = 0;
    for (let i = 0; i < 10_000; i++) if (failpoint('db.slow-recovery')) fired++;
    expect(fired).toBeGreaterThan(1500);
    expect(fired).toBeLessThan(2500);
  });
});
