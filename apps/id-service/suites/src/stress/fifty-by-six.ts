// 50 concurrent reservations of 6 IDs on one sequence.
import { checkIds } from '@crucible/checkers';
import { burst, scenario } from '@crucible/load-engine';
import { expectVerdict } from '@crucible/checkers';
import type { SuiteStep } from '@crucible/suite-kit';
import { idsOf, idTally, project, kitSqlVerdicts, registryOf, reservationsOf, reserve, type IdStressContext } from './reservations.js';

/**
 * 50 concurrent reservations of 6 on alpha's `US` sequence: 300 distinct IDs (counted answer
 * by answer), unique and contiguous (`checkIds`), every call accounted for in the database,
 * every ID from alpha's own sequence (`api-isolation`), and the registry at 300 afterwards.
 */
export const fiftyBySix: SuiteStep<IdStressContext> = {
  name: '50 concurrent reservations of 6',
  async run(ctx, kit) {
    await project(ctx, 'alpha');
    const tally = idTally();
    const result = await kit.runOne(
      scenario({
        name: '50 concurrent reservations of 6',
        executor: burst({ requests: 50 }),
        metrics: { unique_ids: 'counter' },
        thresholds: ['errors: rate==0', 'unique_ids: count==300'],
        request: async (it) => {
          const r = await reserve(ctx, 'alpha', 'US', 6, it.iteration);
          it.count('unique_ids', tally(idsOf(r)).fresh);
          return r;
        },
        isSuccess: (r) => r.op.outcome === 'ok',
      }),
    );
    const reservations = reservationsOf(result);
    const history = reservations.map((r) => r.op);
    const registry = (await registryOf(ctx, 'alpha'))['US'] ?? 0;
    result.verdicts.push(
      checkIds(history, { reconciledBy: 'id-reconciliation' }),
      ...(await kitSqlVerdicts(kit, history, ['alpha'])),
      expectVerdict('registry', registry === 300, `alpha's US registry at ${registry} after 50 reservations of 6 (want 300)`, { registry, expected: 300 }),
    );
    return result;
  },
};
