// The burst of 500 concurrent reservations on one sequence, judged on its latency too (issue 12).
import type { ScenarioResult } from '@crucible/load-engine';
import { send, type SuiteStep } from '@crucible/suite-kit';
import { burstOf } from './bursts.js';
import type { IdStressContext } from './reservations.js';

/** Issue 12: a burst of 500 concurrent reservations on one sequence answers within 100 ms at p99. */
export const burstP99Ms = 100;

/** The coalescer's running totals, from the service's `/metrics`. */
interface BatchTotals {
  readonly batches: number;
  readonly calls: number;
}

async function batchTotals(url: string): Promise<BatchTotals | undefined> {
  const res = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5000) });
  if (res.status !== 200) return undefined;
  const text = await res.text();
  // Default labels (`{service="id-service"}`) may follow the name.
  const total = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+)$`, 'm').exec(text)?.[1] ?? NaN);
  const totals = { batches: total('id_allocation_batches_total'), calls: total('id_allocation_batched_calls_total') };
  return Number.isFinite(totals.batches) && Number.isFinite(totals.calls) ? totals : undefined;
}

/**
 * {@link burstOf} `size` (500) reservations, keyed or unkeyed, with the threshold
 * `p(99)<100` (when `judged`: the suite's full profile) beside its correctness ones (no error, no ID handed out twice, `checkIds` and
 * the SQL reconciliation of every range it answered). The evidence says how the coalescer
 * took the burst: batches run and calls answered through them (from the service's
 * `/metrics`, read before and after), so a slow burst shows whether it was coalesced.
 */
export function burstLatency(keyed: boolean, round = 0, size = 500, judged = true): SuiteStep<IdStressContext> {
  const step = burstOf(size, round, keyed, { thresholds: judged ? [`p(99)<${burstP99Ms}`] : [] });
  return {
    name: step.name,
    async run(ctx, kit) {
      const url = kit.sut.url('id-service');
      // The burst times reservations, not TCP handshakes: its `size` sockets are opened first
      // (as a fleet of clients' keep-alive connections would be) by as many concurrent
      // GET /health, unmeasured. Without it the first burst of a run also timed 500 connects.
      const warm = await Promise.all(Array.from({ length: size }, () => send(ctx.http, { path: '/health' })));
      const before = await batchTotals(url);
      const result = (await step.run(ctx, kit)) as ScenarioResult;
      const after = await batchTotals(url);
      if (before && after) {
        const batches = after.batches - before.batches;
        const calls = after.calls - before.calls;
        const mean = batches > 0 ? Math.round((calls / batches) * 10) / 10 : 0;
        const line = `${calls} of ${size} calls answered through ${batches} allocation batches (mean ${mean} calls per batch)`;
        const opened = warm.filter((c) => c.status === 200).length;
        result.evidence.push({ title: `How the coalescer took the burst (id_allocation_batches_total, id_allocation_batched_calls_total): ${line}`, kind: 'json', content: { size, batches, batched_calls: calls, mean_batch: mean, connections_opened_before: opened } });
        kit.log(`${step.name}: ${line}`);
      }
      return result;
    },
  };
}
