import { describe, expect, it } from 'vitest';
import { stressSettings, stressSuites, worstExit } from './stress-command.js';

describe('crucible stress settings', () => {
  it('finds the built-in stress suites and picks them by --only', () => {
    const suites = stressSuites();
    expect(suites.map((s) => s.app)).toEqual(expect.arrayContaining(['id-service', 'task-api']));
    expect(stressSettings({ only: ['task-api,id-service'] }, [], suites).apps).toEqual(['id-service', 'task-api']);
    expect(() => stressSettings({ only: ['task-apj'] }, [], suites)).toThrow(/no stress suite for "task-apj"; the suites are .*id-service/);
    expect(() => stressSettings({ profile: 'huge' }, [], suites)).toThrow('--profile must be quick or full');
    expect(() => stressSettings({}, ['sut.json'], suites)).toThrow('no positional argument');
  });

  it('ends with the worst suite\'s code, ranked as a report\'s: crash, failure, inconclusive, regression', () => {
    expect(worstExit([0, 4, 1])).toBe(1);
    expect(worstExit([0, 4, 3])).toBe(4);
    expect(worstExit([0, 0])).toBe(0);
    expect(worstExit([1, 137])).toBe(2);
  });
});
