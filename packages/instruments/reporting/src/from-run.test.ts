import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { attach, burst, constantArrivalRate, run, scenario } from '@crucible/load-engine';
import { describe, expect, it } from 'vitest';
import { buildReport, runEndSummary } from './from-run.js';
import { finalizeReport } from './thresholds.js';

/** A node:http server on port 0: `/flaky` answers every 4th request with 503, `/slow` after 400 ms. */
async function startServer(): Promise<{ url: string } & AsyncDisposable> {
  let flaky = 0;
  const server = http.createServer((req, res) => {
    const reply = (status: number): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end('{}');
    };
    if (req.url === '/flaky') reply(++flaky % 4 === 0 ? 503 : 200);
    else if (req.url === '/slow') setTimeout(() => reply(200), 400);
    else reply(200);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    async [Symbol.asyncDispose]() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const metrics = { pool_exhausted_503: 'counter', never_counted: 'counter', cache_hit: 'rate', never_sampled: 'rate' } as const;

describe('buildReport from an engine run', () => {
  it('evaluates thresholds on what the engine counted: a counted 503 fails count==0, an untouched counter reads a real 0', async () => {
    await using server = await startServer();
    const counted = (path: string) =>
      scenario({
        name: path,
        executor: burst({ requests: 20 }),
        metrics,
        thresholds: {
          pool_exhausted_503: ['count==0'],
          never_counted: ['count==0'],
          cache_hit: ['rate>0.9', 'rate==0.5'],
          never_sampled: ['rate>=0'],
        },
        request: async (ctx) => {
          const res = await ctx.http.request({ path });
          if (res.status === 503) ctx.count('pool_exhausted_503');
          ctx.rate('cache_hit', ctx.iteration % 2 === 0);
          return res;
        },
      });
    const result = await run([counted('/flaky'), counted('/ok')], { baseUrl: server.url });
    const report = buildReport(result, { suite: 'custom metrics' });
    const [flaky, ok] = report.scenarios;
    const byExpr = (s: typeof flaky) => Object.fromEntries(s?.thresholds.map((t) => [t.expression, t]) ?? []);

    expect(flaky?.metrics).toEqual({ pool_exhausted_503: 5, never_counted: 0, cache_hit: 0.5 });
    expect(byExpr(flaky)['pool_exhausted_503: count==0']).toMatchObject({ passed: false, actual: 5 });
    expect(byExpr(flaky)['pool_exhausted_503: count==0']?.message).toMatch(/failed: pool_exhausted_503 count = 5/);
    expect(byExpr(flaky)['never_counted: count==0']).toMatchObject({ passed: true, actual: 0 });
    expect(byExpr(flaky)['cache_hit: rate>0.9']).toMatchObject({ passed: false, actual: 0.5 });
    expect(byExpr(flaky)['cache_hit: rate==0.5']).toMatchObject({ passed: true, actual: 0.5 });
    // A rate nobody sampled has no value: its threshold fails rather than read 0.
    expect(byExpr(flaky)['never_sampled: rate>=0']).toMatchObject({ passed: false, actual: null });
    expect(flaky?.passed).toBe(false);

    // The same scenario against an endpoint that never answers 503: a declared, never-counted
    // counter is a real 0 and count==0 passes on it.
    expect(ok?.metrics['pool_exhausted_503']).toBe(0);
    expect(byExpr(ok)['pool_exhausted_503: count==0']).toMatchObject({ passed: true, actual: 0 });
    expect(report.passed).toBe(false);

    // Re-evaluating the report (as combine and the CLI do) reads the same counts.
    expect(finalizeReport(report).scenarios.map((s) => s.thresholds.map((t) => t.passed))).toEqual(report.scenarios.map((s) => s.thresholds.map((t) => t.passed)));
    // The live dashboard's run_end carries the same outcomes.
    const summary = runEndSummary(result.runId, result);
    expect(summary.passed).toBe(false);
    expect(summary.scenarios[0]?.thresholds).toEqual(flaky?.thresholds);
  });

  it('evaluates built-in and attached metrics, and fails — never passes — an unknown one', async () => {
    await using server = await startServer();
    const result = await run(
      scenario({
        name: 'mixed',
        executor: burst({ requests: 8 }),
        request: async (ctx) => {
          if (ctx.iteration % 4 === 3) throw Object.assign(new Error('boom'), { code: 'EBOOM' });
          return ctx.http.request({ path: '/ok' });
        },
        thresholds: ['rate<0.01', 'p(50)<5000', 'duplicates: count==0', 'ghost: count==0'],
      }),
      { baseUrl: server.url },
    );
    attach(result, 'mixed', { metrics: { duplicates: 0 } });
    // How thresholds read the metrics is the point here: a generator starved by other work on
    // this machine (inconclusive latency) is inconclusive.test.ts's and starved-generator.test.ts's.
    const unstarved = { ...result, scenarios: result.scenarios.map(({ generator: _g, ...rest }) => rest) };
    const s = buildReport(unstarved, { suite: 'mixed' }).scenarios[0];
    const byExpr = Object.fromEntries(s?.thresholds.map((t) => [t.expression, t]) ?? []);
    expect(byExpr['rate<0.01']).toMatchObject({ passed: false, actual: 0.25 });
    expect(byExpr['p(50)<5000']?.passed).toBe(true);
    expect(byExpr['duplicates: count==0']).toMatchObject({ passed: true, actual: 0 });
    expect(byExpr['ghost: count==0']).toMatchObject({ passed: false, actual: null });
    expect(byExpr['ghost: count==0']?.message).toMatch(/unknown metric "ghost"/);
  });

  it('fails dropped_iterations: count==0 when the open model could not start every iteration', async () => {
    await using server = await startServer();
    const result = await run(
      scenario({
        name: 'starved',
        executor: constantArrivalRate({ rate: 50, duration: '1s', preAllocatedVUs: 2, maxVUs: 2 }),
        request: (ctx) => ctx.http.request({ path: '/slow' }),
        thresholds: ['dropped_iterations: count==0'],
      }),
      { baseUrl: server.url },
    );
    const s = buildReport(result, { suite: 'drops' }).scenarios[0];
    expect((s?.requests ?? 0) + (s?.dropped_iterations ?? 0)).toBe(50);
    expect(s?.thresholds[0]).toMatchObject({ expression: 'dropped_iterations: count==0', passed: false, actual: s?.dropped_iterations });
    expect(s?.schedule_lag_ms?.p50).toBeGreaterThanOrEqual(0);
    expect(s?.latency_basis).toBe('intended');
  });
});
