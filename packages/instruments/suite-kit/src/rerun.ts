import type { ScenarioReport } from '@crucible/contracts';
import type { ScenarioResult } from '@crucible/load-engine';
import { scenarioReport } from '@crucible/reporting';

/** How many times a step runs again when its load generator was starved: once, then its result stands. */
export const STARVED_RERUNS = 1;

/**
 * Names and figures of the starved scenarios a step returned that call for a re-run: only those
 * with a threshold left inconclusive or a verdict left indeterminate, since a second run could change nothing else (a burst
 * judged on correctness alone is never repeated). `optIn` is the step's `rerunWhenStarved`:
 * by default only engine results count, `true` adds finished reports, `false` is never.
 *
 * @example
 * starvedToRerun(await step.run(ctx, kit), step.rerunWhenStarved); // ['writes (start lag p99 140 ms > 100 ms)']
 */
export function starvedToRerun(output: ScenarioReport | ScenarioResult | readonly (ScenarioReport | ScenarioResult)[], optIn: boolean | undefined): string[] {
  if (optIn === false) return [];
  return ([output].flat() as (ScenarioReport | ScenarioResult)[]).flatMap((o) => {
    const engine = 'durationS' in o;
    if (!o.generator?.starved || !(engine || optIn === true)) return [];
    const report = engine ? scenarioReport(o) : o;
    const undecided = report.thresholds.some((t) => t.status === 'inconclusive') || report.verdicts.some((v) => v.status === 'indeterminate');
    return undecided ? [`${o.name} (${o.generator.reason ?? 'starved'})`] : [];
  });
}
