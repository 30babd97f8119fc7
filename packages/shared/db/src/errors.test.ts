import { describe, expect, it } from 'vitest';
import { classifyDbError, isUniqueViolation } from './errors.js';
import { resolvePoolOptions } from './pool.js';

const withCode = (message: string, code?: string) => Object.assign(new Error(message), code ? { code } : {});

describe('classifyDbError', () => {
  it('tells pool exhaustion from an unavailable database from everything else', () => {
    expect(classifyDbError(new Error('timeout exceeded when trying to connect'))).toBe('pool_exhausted');
    expect(classifyDbError(withCode('connect ECONNREFUSED 127.0.0.1:5', 'ECONNREFUSED'))).toBe('database_unavailable');
    expect(classifyDbError(new Error('Connection terminated unexpectedly'))).toBe('database_unavailable');
    expect(classifyDbError(withCode('terminating connection due to administrator command', '57P01'))).toBe('database_unavailable');
    expect(classifyDbError(withCode('canceling statement due to statement timeout', '57014'))).toBe('database_unavailable');
    expect(classifyDbError(withCode('duplicate key value', '23505'))).toBeUndefined();
    expect(classifyDbError('a string')).toBeUndefined();
    expect(isUniqueViolation(withCode('duplicate key value', '23505'))).toBe(true);
  });
  it('bounds every wait in the pool options', () => {
    const o = resolvePoolOptions({ connectionString: 'postgres://x/y', statementTimeoutMs: 300 });
    expect(o).toMatchObject({ max: 10, acquireTimeoutMs: 2000, statementTimeoutMs: 300, queryTimeoutMs: 1300 });
  });
});
