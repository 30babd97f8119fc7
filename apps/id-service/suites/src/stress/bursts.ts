// Bursts of concurrent reservations on one sequence.
import { checkIds } from '@crucible/checkers';
import { burst, scenario } from '@crucible/load-engine';
import type { SuiteStep } from '@crucible/suite-kit';
import { idsOf, idTally, project, kitSqlVerdicts, reservationsOf, reserve, type IdStressContext } from './reservations.js';

/**
 * `size` concurrent reservations on one sequence, `GET /ids/next` and `POST /ids/reserve`
 * (count 2) interleaved: no ID handed out twice (counted answer by answer, and by
 * `checkIds`), every call accounted for in the database (nothing lost), and every ID from the project's own sequence.
 * Keyed (every call with an `Idempotency-Key`, the default) or unkeyed: the service coalesces
 * both into one allocation statement per batch, so the row's p99 is the burst's latency
 * through the coalescer; `options.thresholds` adds to the correctness thresholds (the
 * latency one of ./burst-latency.ts).
 */
export function burstOf(size: number, round: number, keyed = true, options: { readonly thresholds?: readonly string[] } = {}): SuiteStep<IdStressContext> {
  const name = `burst of ${size} concurrent ${keyed ? '' : 'unkeyed '}reservations${round > 0 ? ` (round ${round + 1})` : ''}`;
  // A step run again (its starved generator left a latency threshold undecided) bursts on a
  // sequence of its own, so the SQL reconciliation of each run sees only that run's calls.
  let runs = 0;
  return {
    name,
    async run(ctx, kit) {
      const projectId = `burst-${size}${keyed ? '' : '-unkeyed'}`;
      const type = runs++ === 0 ? `B${round}` : `B${round}R${runs}`;
      await project(ctx, projectId);
      const tally = idTally();
      const result = await kit.runOne(
        scenario({
          name,
          executor: burst({ requests: size }),
          tags: { concurrency: String(size), idempotency_key: keyed ? 'every call' : 'none' },
          metrics: { duplicate_ids: 'counter' },
          thresholds: ['errors: rate==0', 'duplicate_ids: count==0', ...(options.thresholds ?? [])],
          request: async (it) => {
            const r = await reserve(ctx, projectId, type, it.iteration % 2 ? 2 : undefined, it.iteration, keyed);
            it.count('duplicate_ids', tally(idsOf(r)).repeated);
            return r;
          },
          isSuccess: (r) => r.op.outcome === 'ok',
        }),
      );
      const history = reservationsOf(result).map((r) => r.op);
      result.verdicts.push(checkIds(history, { reconciledBy: 'id-reconciliation' }), ...(await kitSqlVerdicts(kit, history, [projectId])));
      return result;
    },
  };
}
