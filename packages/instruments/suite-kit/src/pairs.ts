import type { ScenarioResult } from '@crucible/load-engine';

/** Two sides measured in interleaved pairs, and why each pair should be left out (undefined: judged). */
export interface InterleavedPairs<A extends string, B extends string> {
  readonly runs: Record<A | B, ScenarioResult[]>;
  /** Per pair: the starvation that made it say nothing of the system, for `compareDegradation`'s `leaveOut`. */
  readonly leaveOut: (string | undefined)[];
}

/**
 * Measures sides `a` and `b` in `pairs` interleaved pairs (a b, b a, a b …) so load on a
 * shared machine falls on both alike. A pair whose load generator was starved measured the
 * generator, not the system: it is measured again, at most `retries` more times, then kept
 * with the reason it must be left out of the comparison.
 *
 * @example
 * const { runs, leaveOut } = await interleavedPairs(['one', 'five'], 10, 1, (side, i, attempt) => measure(side, i, attempt), kit.log);
 */
export async function interleavedPairs<A extends string, B extends string>(
  sides: readonly [A, B],
  pairs: number,
  retries: number,
  measure: (side: A | B, pair: number, attempt: number) => Promise<ScenarioResult>,
  log: (line: string) => void,
): Promise<InterleavedPairs<A, B>> {
  const [a, b] = sides;
  const runs = { [a]: [], [b]: [] } as unknown as Record<A | B, ScenarioResult[]>;
  const leaveOut: (string | undefined)[] = [];
  for (let i = 0; i < pairs; i++) {
    for (let attempt = 0; attempt <= retries; attempt++) {
      const pair: Partial<Record<A | B, ScenarioResult>> = {};
      for (const side of i % 2 ? [b, a] : [a, b]) pair[side] = await measure(side, i, attempt);
      const reasons = [pair[a], pair[b]].flatMap((r) => (r?.generator?.starved ? [`load generator starved in "${r.name}"${r.generator.reason ? ` (${r.generator.reason})` : ''}`] : []));
      if (reasons.length === 0 || attempt === retries) {
        runs[a].push(pair[a] as ScenarioResult);
        runs[b].push(pair[b] as ScenarioResult);
        leaveOut.push(reasons.length ? reasons.join('; ') : undefined);
        break;
      }
      log(`pair ${i + 1}: ${reasons.join('; ')}: measuring it again`);
    }
  }
  return { runs, leaveOut };
}
