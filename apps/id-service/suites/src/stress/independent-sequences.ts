// Five projects reserving on their own sequences at once.
import { checkIds } from '@crucible/checkers';
import { burst, scenario } from '@crucible/load-engine';
import { expectVerdict } from '@crucible/checkers';
import type { SuiteStep } from '@crucible/suite-kit';
import { project, kitSqlVerdicts, registryOf, reservationsOf, reserve, type IdStressContext } from './reservations.js';

const projects = ['p1', 'p2', 'p3', 'p4', 'p5'];

/**
 * 5 projects × 10 reservations of 3, all at once: five independent sequences 1..30 (every
 * registry at 30 afterwards), no duplicate or gap, every answered ID drawn from the asking
 * project's own sequence in SQL (`api-isolation`: a range from a neighbour's sequence fails it).
 */
export const independentSequences: SuiteStep<IdStressContext> = {
  name: '5 projects × 10 reservations',
  async run(ctx, kit) {
    for (const p of projects) await project(ctx, p);
    const result = await kit.runOne(
      scenario({
        name: '5 projects × 10 reservations: independent sequences',
        executor: burst({ requests: 50 }),
        thresholds: ['errors: rate==0'],
        request: (it) => reserve(ctx, projects[it.iteration % projects.length] as string, 'US', 3, it.iteration),
        isSuccess: (r) => r.op.outcome === 'ok',
      }),
    );
    const reservations = reservationsOf(result);
    const history = reservations.map((r) => r.op);
    const registries = await Promise.all(projects.map(async (p) => ({ p, last: (await registryOf(ctx, p))['US'] ?? 0 })));
    const at30 = registries.filter((r) => r.last === 30).length;
    result.verdicts.push(
      checkIds(history, { reconciledBy: 'id-reconciliation' }),
      ...(await kitSqlVerdicts(kit, history, projects)),
      expectVerdict(
        'registries-at-30',
        at30 === projects.length,
        `${at30} of ${projects.length} projects' US registries at 30 after 10 reservations of 3 each`,
        { projects_at_30: at30, projects: projects.length },
        registries.filter((r) => r.last !== 30),
      ),
    );
    return result;
  },
};
