import { describe, expect, it } from 'vitest';
import { expectVerdict } from './verdict.js';

describe('expectVerdict', () => {
  it('fails when the comparison fails, and keeps the counts and examples that show why', () => {
    const v = expectVerdict('x', false, 'broken', { n: 1 }, [{ id: 'a' }]);
    expect(v).toEqual({ checker: 'x', status: 'fail', summary: 'broken', counts: { n: 1 }, examples: [{ id: 'a' }] });
    expect(expectVerdict('x', true, 'fine').status).toBe('pass');
  });
});
