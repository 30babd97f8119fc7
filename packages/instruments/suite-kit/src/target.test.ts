import { isInstrumentError } from '@crucible/instrument-kit';
import { describe, expect, it } from 'vitest';
import { parseSuiteArgs } from './args.js';
import { absentDatabase, NO_DATABASE, noDatabaseReport, selectSteps, withSql } from './target.js';

describe('suites without database access', () => {
  it('withSql names every checker it could not decide as indeterminate, never a pass', async () => {
    const verdicts = await withSql({ sql: undefined }, ['sql-isolation:tasks', 'id-reconciliation'], async () => {
      throw new Error('not called without a database');
    });
    expect(verdicts.map((v) => [v.checker, v.status])).toEqual([
      ['sql-isolation:tasks', 'indeterminate'],
      ['id-reconciliation', 'indeterminate'],
    ]);
    expect(verdicts[0]?.summary.startsWith(NO_DATABASE)).toBe(true);
  });

  it('kit.db without a database throws no_database, which becomes the step\'s inconclusive row', () => {
    const db = absentDatabase();
    let thrown: unknown;
    try {
      db.selectFrom('tasks');
    } catch (err) {
      thrown = err;
    }
    expect(isInstrumentError(thrown, 'no_database')).toBe(true);
    const row = noDatabaseReport('claims', thrown, new Date());
    expect(row?.name).toBe('claims');
    expect(row?.verdicts[0]).toMatchObject({ checker: 'sql-evidence', status: 'indeterminate' });
    expect(row?.verdicts[0]?.summary).toContain('claims');
    expect(noDatabaseReport('claims', new Error('other'), new Date())).toBeUndefined();
  });
});

describe('--target and --step', () => {
  it('are parsed strictly, and a step name that matches none lists the steps', () => {
    expect(parseSuiteArgs(['--target', 'sut.json', '--step=claims', '--step', 'capacity'], {})).toEqual({ profile: 'quick', live: false, target: 'sut.json', steps: ['claims', 'capacity'] });
    expect(() => parseSuiteArgs(['--target'], {})).toThrow('--target needs a value');
    expect(() => parseSuiteArgs(['--step', '--live'], {})).toThrow('--step needs a value');
    const steps = [{ name: 'claims: 10 claimers' }, { name: 'claims: 20 claimers' }, { name: 'capacity' }];
    expect(selectSteps(steps, ['CLAIMS']).map((s) => s.name)).toEqual(['claims: 10 claimers', 'claims: 20 claimers']);
    expect(selectSteps(steps, undefined)).toBe(steps);
    expect(() => selectSteps(steps, ['capcity'])).toThrow(/"capcity" matches no step; the steps are: claims: 10 claimers; claims: 20 claimers; capacity/);
  });
});
