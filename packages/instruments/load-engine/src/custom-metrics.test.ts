import { isInstrumentError } from '@crucible/instrument-kit';
import { describe, expect, it } from 'vitest';
import { burst, constantArrivalRate } from './executors.js';
import { mergeResults } from './result.js';
import { run } from './runner.js';
import { scenario } from './scenario.js';

// These iterations do no I/O: what is under test is the engine's counting, not a server.
const answer = async (status: number) => ({ status });

describe('custom metrics declared on the scenario', () => {
  it('counts ctx.count and ctx.rate; a declared metric nobody touched reads a real 0', async () => {
    const result = await run(
      scenario({
        name: 'counted',
        executor: burst({ requests: 12 }),
        metrics: { pool_exhausted_503: 'counter', bytes: 'counter', never_counted: 'counter', cache_hit: 'rate', never_sampled: 'rate' },
        request: async (ctx) => {
          const status = ctx.iteration % 3 === 0 ? 503 : 200;
          if (status === 503) ctx.count('pool_exhausted_503');
          ctx.count('bytes', 10);
          ctx.rate('cache_hit', ctx.iteration % 4 === 0);
          return answer(status);
        },
      }),
    );
    const s = result.scenarios[0];
    expect(s?.metrics).toEqual({ pool_exhausted_503: 4, bytes: 120, never_counted: 0 });
    expect(s?.rates).toEqual({ cache_hit: { trues: 3, total: 12 }, never_sampled: { trues: 0, total: 0 } });
  });

  it('an undeclared name throws an InstrumentError naming it and fails the run, even if the request catches it', async () => {
    let thrown: unknown;
    const typo = scenario({
      name: 'typo',
      executor: burst({ requests: 1 }),
      metrics: { pool_exhausted_503: 'counter' },
      request: async (ctx) => {
        try {
          // @ts-expect-error -- not a declared counter: the type refuses it, and so does the engine at run time
          ctx.count('pool_exhausted_530');
        } catch (e) {
          thrown = e;
        }
        return answer(200);
      },
    });
    const error = await run(typo).catch((e: unknown) => e);
    expect(isInstrumentError(thrown, 'invalid_scenario')).toBe(true);
    expect(error).toBe(thrown);
    expect((error as Error).message).toMatch(/ctx\.count\("pool_exhausted_530"\) names a metric the scenario does not declare .*declared: pool_exhausted_503/);
    // A rate used as a counter is refused too.
    const wrongKind = scenario({
      name: 'wrong kind',
      executor: burst({ requests: 1 }),
      metrics: { cache_hit: 'rate' },
      // @ts-expect-error -- cache_hit is a rate, not a counter
      request: async (ctx) => (ctx.count('cache_hit'), answer(200)),
    });
    await expect(run(wrongKind)).rejects.toThrow(/ctx\.count\("cache_hit"\) but "cache_hit" is declared as a rate/);
  });

  it('refuses, when declared, a threshold that reads a metric the wrong way and a name that shadows a built-in', () => {
    const executor = burst({ requests: 1 });
    const request = async () => answer(200);
    expect(() => scenario({ name: 'x', executor, request, metrics: { hits: 'counter' }, thresholds: ['hits: p(99)<1'] })).toThrow(
      expect.objectContaining({ code: 'invalid_scenario', message: expect.stringMatching(/threshold "hits: p\(99\)<1" reads counter "hits" with "p" \(a counter takes count or value\)/) }),
    );
    expect(() => scenario({ name: 'x', executor, request, metrics: { cache_hit: 'rate' }, thresholds: ['cache_hit: count>1'] })).toThrow(/a rate takes rate or value/);
    expect(() => scenario({ name: 'x', executor, request, metrics: { errors: 'counter' } })).toThrow(/metric "errors" is built in/);
    // @ts-expect-error -- not a metric kind
    expect(() => scenario({ name: 'x', executor, request, metrics: { hits: 'gauge' } })).toThrow(/kind "gauge"/);
  });

  it('counts merge exactly (add) across execution segments', async () => {
    // As many VUs as iterations: none can be dropped however slow the machine, so the counts are exact.
    const counted = scenario({
      name: 'split',
      executor: constantArrivalRate({ rate: 300, duration: '200ms', preAllocatedVUs: 60, maxVUs: 60 }),
      metrics: { odd: 'counter', never_counted: 'counter', even: 'rate' },
      request: async (ctx) => {
        if (ctx.iteration % 2) ctx.count('odd');
        ctx.rate('even', ctx.iteration % 2 === 0);
        return answer(200);
      },
    });
    const whole = await run(counted);
    const parts = [await run(counted, { segment: '0:1/3' }), await run(counted, { segment: '1/3:2/3' }), await run(counted, { segment: '2/3:1' })];
    const merged = mergeResults(parts).scenarios[0];
    expect(whole.scenarios[0]?.requests).toBe(60);
    expect(merged?.requests).toBe(60);
    // Each segment counted only its own iterations; together they are the whole run's count.
    expect(parts.map((p) => p.scenarios[0]?.metrics['odd'] ?? 0).every((n) => n > 0 && n < 30)).toBe(true);
    expect(merged?.metrics).toEqual({ odd: 30, never_counted: 0 });
    expect(merged?.metrics).toEqual(whole.scenarios[0]?.metrics);
    expect(merged?.rates).toEqual({ even: { trues: 30, total: 60 } });
  });
});
