// Each project's next ID continues its own registry.
import { checkIds } from '@crucible/checkers';
import { burst, scenario } from '@crucible/load-engine';
import { expectVerdict } from '@crucible/checkers';
import type { SuiteStep } from '@crucible/suite-kit';
import { project, reservationsOf, reserve, type IdStressContext } from './reservations.js';

/** alpha's registry at 10 and beta's at 20 → their next IDs, asked at once, are US-011 and US-021. */
export const nextAfterRegistry: SuiteStep<IdStressContext> = {
  name: 'alpha at 10, beta at 20',
  async run(ctx, kit) {
    await Promise.all([project(ctx, 'seq-alpha'), project(ctx, 'seq-beta')]);
    const seed = await Promise.all([reserve(ctx, 'seq-alpha', 'US', 10), reserve(ctx, 'seq-beta', 'US', 20)]);
    const result = await kit.runOne(
      scenario({
        name: 'alpha at 10, beta at 20 → US-011, US-021',
        executor: burst({ requests: 2 }),
        thresholds: ['errors: rate==0'],
        request: (it) => reserve(ctx, it.iteration === 0 ? 'seq-alpha' : 'seq-beta', 'US'),
        isSuccess: (r) => r.op.outcome === 'ok',
      }),
    );
    const reservations = reservationsOf(result);
    const [a, b] = reservations;
    const got = { alpha: (a?.call.body as { id?: string } | undefined)?.id, beta: (b?.call.body as { id?: string } | undefined)?.id };
    result.verdicts.push(
      expectVerdict('next-id-per-project', got.alpha === 'US-011' && got.beta === 'US-021', `alpha's next ID ${got.alpha ?? 'none'} (want US-011), beta's ${got.beta ?? 'none'} (want US-021)`, {
        alpha_next: a?.op.first ?? 0,
        beta_next: b?.op.first ?? 0,
      }),
      checkIds([...seed, ...reservations].map((r) => r.op)),
    );
    return result;
  },
};
