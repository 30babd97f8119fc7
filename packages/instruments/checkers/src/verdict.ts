import type { Verdict } from '@crucible/contracts';

/**
 * A verdict from a plain comparison, for an invariant no dedicated checker covers: `pass`
 * when `passed`, else `fail`, with the counts and examples that show why.
 *
 * @example
 * expectVerdict('registries-at-30', atThirty === 5, `${atThirty} of 5 projects at 30`, { projects_at_30: atThirty });
 */
export function expectVerdict(checker: string, passed: boolean, summary: string, counts: Record<string, number> = {}, examples: unknown[] = []): Verdict {
  return { checker, status: passed ? 'pass' : 'fail', summary, counts, examples };
}
