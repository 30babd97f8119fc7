import { decodeHistogram, recordedValues } from '@crucible/instrument-kit';
import { describe, expect, it } from 'vitest';
import { summaryOf } from '../tests/summaries.js';
import { startStallingServer } from '../tests/test-servers.js';
import { constantArrivalRate, constantVUs } from './executors.js';
import { run } from './runner.js';
import { scenario } from './scenario.js';

/** How many recorded latencies were at least `ms` (from the report's base64 HDR histogram). */
function slowerThan(histogram: string | null | undefined, ms: number): number {
  if (!histogram) return 0;
  const h = decodeHistogram(histogram);
  const n = recordedValues(h).reduce((a, [us, count]) => (us >= ms * 1000 ? a + count : a), 0);
  h.destroy();
  return n;
}

describe('coordinated omission', { timeout: 60_000 }, () => {
  it('the open model shows a 1 s server stall in p99; a closed loop measuring from the send hides it', async () => {
    // 100 req/s for 4 s; after 100 requests the server stalls for 1 s.
    await using open = await startStallingServer(100, 1000);
    const openResult = await run(
      scenario({
        name: 'open',
        executor: constantArrivalRate({ rate: 100, duration: '4s', preAllocatedVUs: 50, maxVUs: 300 }),
        request: (ctx) => ctx.http.request({ path: '/' }),
      }),
      { baseUrl: open.url },
    );
    const openScenario = openResult.scenarios[0];

    // The same server behaviour, measured the naive way: one VU, paced to ~100 req/s,
    // latency from the moment the request is actually sent.
    await using closed = await startStallingServer(100, 1000);
    const closedResult = await run(
      scenario({
        name: 'closed',
        executor: constantVUs({ vus: 1, duration: '4s' }),
        request: async (ctx) => {
          const res = await ctx.http.request({ path: '/' });
          await ctx.sleep(10);
          return res;
        },
      }),
      { baseUrl: closed.url },
    );
    const closedScenario = closedResult.scenarios[0];

    expect(openScenario?.requests).toBe(400);
    expect(openScenario?.dropped).toBe(0);
    expect(openScenario?.latencyBasis).toBe('intended');
    // ~100 of 400 scheduled requests fall in the stall, waiting up to 1 s each.
    expect(summaryOf(openScenario?.histogram)?.p99).toBeGreaterThanOrEqual(500);
    expect(slowerThan(openScenario?.histogram, 500)).toBeGreaterThanOrEqual(30);

    // The closed loop saw the stall once (its max), but it sent nothing while it waited, so the
    // stall is one sample among hundreds: its p99 stays below the stall — coordinated omission.
    expect(summaryOf(closedScenario?.histogram)?.max).toBeGreaterThanOrEqual(900);
    expect(slowerThan(closedScenario?.histogram, 500)).toBeLessThanOrEqual(2);
    expect(summaryOf(closedScenario?.histogram)?.p99).toBeLessThan(500);
  });
});
