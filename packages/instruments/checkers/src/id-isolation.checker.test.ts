import { describe, expect, it } from 'vitest';
import { checkIdIsolation } from './id-isolation.checker.js';
import type { IdOperation } from './ids.history.js';

const ok = (project_id: string, first: number, last: number): IdOperation => ({ project_id, type: 'US', count: last - first + 1, outcome: 'ok', first, last });
const reg = (project_id: string, last: number) => ({ project_id, sequence_type: 'US', last_assigned_id: String(last) });

describe('checkIdIsolation', () => {
  it('passes when each project was answered exactly what its own sequence advanced, numbers shared across projects', () => {
    const v = checkIdIsolation([ok('a', 1, 3), ok('b', 1, 3), ok('a', 4, 6)], [reg('a', 6), reg('b', 3)]);
    expect(v.status).toBe('pass');
    expect(v.summary).toBe('9 IDs answered to 2 projects, each from its own sequence (2 sequences advanced 9 in SQL, none past its own calls)');
  });

  it("fails on both projects when one's range came from the other's sequence", () => {
    // b's second call was served from a's sequence: a advanced 6 for 3 asked, b 3 for 6 answered.
    const v = checkIdIsolation([ok('a', 1, 3), ok('b', 1, 3), ok('b', 4, 6)], [reg('a', 6), reg('b', 3)]);
    expect(v.status).toBe('fail');
    expect(v.summary).toContain("b/US answered 6 IDs, its sequence advanced 3 (IDs not from the project's own sequence)");
    expect(v.summary).toContain("a/US advanced 6, its calls asked 3 (the sequence allocated for another project's calls)");
    expect(v.counts).toMatchObject({ answered_not_allocated_ids: 3, allocated_for_others_ids: 3 });
  });

  it('counts indeterminate calls as possibly allocated, failed ones as not', () => {
    const history: IdOperation[] = [ok('a', 1, 3), { project_id: 'a', type: 'US', count: 2, outcome: 'indeterminate' }, { project_id: 'a', type: 'US', count: 5, outcome: 'failed' }];
    expect(checkIdIsolation(history, [reg('a', 5)]).status).toBe('pass');
    expect(checkIdIsolation(history, [reg('a', 10)]).status).toBe('fail');
  });

  it('starts each sequence from its baseline', () => {
    expect(checkIdIsolation([ok('a', 11, 13)], [reg('a', 13)], { baseline: { 'a/US': 10 } }).status).toBe('pass');
  });
});
