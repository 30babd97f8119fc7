import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { isInstrumentError } from '@crucible/instrument-kit';
import { describe, expect, it } from 'vitest';
import { summaryOf } from '../tests/summaries.js';
import { startTestServer } from '../tests/test-servers.js';
import { EngineEvents, type TickEvent } from './events.js';
import { burst, constantArrivalRate, constantVUs, rampingArrivalRate, rampingVUs } from './executors.js';
import type { HttpResponse } from './http-client.js';
import { attach, outcomesOf } from './result.js';
import { run } from './runner.js';
import { scenario } from './scenario.js';
import { ndjsonSink } from './sinks/ndjson-sink.js';

describe('burst', () => {
  it('releases every request at the same instant behind a barrier and keeps every response', async () => {
    // Each request is held 300 ms, so the server sees all 25 at once only if they were released together.
    await using server = await startTestServer(() => 300);
    const result = await run(
      scenario({ name: 'claims', executor: burst({ requests: 25 }), request: (ctx) => ctx.http.request({ method: 'POST', path: '/claim', body: { n: ctx.iteration } }) }),
      { baseUrl: server.url },
    );
    expect(server.maxInFlight()).toBe(25);
    // The barrier released them together: the spread of their actual starts is small.
    const s = result.scenarios[0];
    expect(summaryOf(s?.lagHistogram)?.max).toBeLessThan(250);
    expect(s?.thresholds).toEqual([]);
    const outcomes = outcomesOf<HttpResponse>(result, 'claims');
    expect(outcomes.map((o) => o.index).sort((a, b) => a - b)).toEqual(Array.from({ length: 25 }, (_, i) => i));
    expect(new Set(outcomes.map((o) => o.value?.json<{ n: number }>().n)).size).toBe(25);
    expect(outcomes.every((o) => o.ok && o.latencyMs >= 290)).toBe(true);
  });
});

describe('open model', () => {
  it('counts iterations it could not start as dropped, never skipping them in silence', async () => {
    await using server = await startTestServer(() => 400);
    const result = await run(
      scenario({
        name: 'starved',
        executor: constantArrivalRate({ rate: 50, duration: '1s', preAllocatedVUs: 2, maxVUs: 2 }),
        request: (ctx) => ctx.http.request({ path: '/' }),
        thresholds: ['dropped_iterations: count==0'],
      }),
      { baseUrl: server.url },
    );
    // That the threshold then fails is reporting's evaluation (from-run.test.ts there).
    const s = result.scenarios[0];
    expect(s?.requests).toBeGreaterThanOrEqual(4);
    expect(s?.requests).toBeLessThanOrEqual(8);
    expect((s?.requests ?? 0) + (s?.dropped ?? 0)).toBe(50);
    expect(s?.series.reduce((a, p) => a + p.dropped, 0)).toBe(s?.dropped);
    expect(s?.thresholds).toEqual(['dropped_iterations: count==0']);
    expect(summaryOf(s?.lagHistogram)?.p50).toBeGreaterThanOrEqual(0);
  });

  it('a ramping arrival rate sends exactly the integral of its rate', async () => {
    await using server = await startTestServer();
    const result = await run(
      scenario({ name: 'ramp', executor: rampingArrivalRate({ startRate: 0, stages: [{ duration: '1s', target: 60 }, { duration: '1s', target: 60 }] }), request: (ctx) => ctx.http.request({ path: '/' }) }),
      { baseUrl: server.url },
    );
    expect(result.scenarios[0]?.requests).toBe(90);
    expect(server.received()).toBe(90);
  });
});

describe('closed model', () => {
  it('constant and ramping VUs loop for their duration, with each VU busy one iteration at a time', async () => {
    await using server = await startTestServer(() => 20);
    const result = await run(
      [
        scenario({ name: 'steady', executor: constantVUs({ vus: 3, duration: '1s' }), request: (ctx) => ctx.http.request({ path: '/a' }) }),
        scenario({ name: 'ramp', executor: rampingVUs({ startVUs: 1, stages: [{ duration: '1s', target: 4 }] }), request: (ctx) => ctx.http.request({ path: '/b' }) }),
      ],
      { baseUrl: server.url },
    );
    const steady = result.scenarios.find((s) => s.name === 'steady');
    // 3 VUs × ~1 s / ~20 ms per iteration ≈ 150; at most 3 in flight means at most 3 × 50.
    expect(steady?.requests).toBeGreaterThan(30);
    expect(steady?.requests).toBeLessThanOrEqual(153);
    expect(server.maxInFlight()).toBeLessThanOrEqual(3 + 4);
    expect(result.scenarios.find((s) => s.name === 'ramp')?.requests).toBeGreaterThan(10);
  });
});

describe('checks, errors, custom counters and attachments', () => {
  it('breaks errors down by kind, counts checks and declared counters, keeps attachments and splits by endpoint', async () => {
    await using server = await startTestServer((req) => (req.url === '/slow' ? 50 : 0), 200);
    const result = await run(
      scenario({
        name: 'mixed',
        executor: constantArrivalRate({ rate: 40, duration: '1s', preAllocatedVUs: 5, maxVUs: 20 }),
        tags: { endpoint: 'mixed' },
        metrics: { calls: 'counter' },
        request: async (ctx) => {
          if (ctx.iteration % 4 === 3) throw Object.assign(new Error('boom'), { code: 'EBOOM' });
          ctx.count('calls');
          const path = ctx.iteration % 2 ? '/slow' : '/fast';
          return ctx.http.request({ path, tags: { endpoint: `GET ${path}` } });
        },
        checks: { 'body has n': (res) => typeof res.json<{ n?: number }>().n === 'number', 'is fast': (res) => res.status === 200 && res.body.length < 3 },
        thresholds: ['rate<0.01', 'p(50)<5000', 'calls: count==30', 'duplicates: count==0', 'ghost: count==0'],
      }),
      { baseUrl: server.url },
    );
    attach(result, 'mixed', { metrics: { duplicates: 0 }, verdicts: [{ checker: 'uniqueness', status: 'pass', summary: 'no duplicate', counts: { ids: 30 }, examples: [] }] });
    const s = result.scenarios[0];
    expect(s?.requests).toBe(40);
    expect(s?.successes).toBe(0);
    // A throw's kind is its code as the thrower set it; a failed check names the check.
    expect(s?.errors).toEqual({ EBOOM: 10, 'check failed: is fast': 30 });
    expect(s?.checks).toEqual({ 'body has n': { passes: 30, fails: 0 }, 'is fast': { passes: 0, fails: 30 } });
    expect(s?.metrics).toEqual({ calls: 30, duplicates: 0 });
    expect(s?.thresholds).toEqual(['rate<0.01', 'p(50)<5000', 'calls: count==30', 'duplicates: count==0', 'ghost: count==0']);
    expect(s?.verdicts[0]?.checker).toBe('uniqueness');
    // Per-request endpoint tags split the result (the 10 that threw before sending carry none).
    const byEndpoint = s?.breakdown?.entries ?? {};
    expect(s?.breakdown?.tag).toBe('endpoint');
    expect(Object.keys(byEndpoint).sort()).toEqual(['GET /fast', 'GET /slow']);
    expect(byEndpoint['GET /fast']?.requests).toBe(20);
    expect(byEndpoint['GET /slow']?.requests).toBe(10);
    const slow = summaryOf(byEndpoint['GET /slow']?.histogram);
    expect(slow?.p50).toBeGreaterThanOrEqual(45);
    expect(slow?.p50).toBeGreaterThan(summaryOf(byEndpoint['GET /fast']?.histogram)?.p50 ?? Infinity);
  });

  it('refuses a malformed threshold or duplicate scenario names when declared', async () => {
    const executor = constantVUs({ vus: 1, duration: '1s' });
    expect(() => scenario({ name: 'x', executor, request: async () => 1, thresholds: ['p99<200'] })).toThrow(expect.objectContaining({ code: 'threshold_syntax', message: expect.stringMatching(/threshold "p99<200" is not valid/) }));
    expect(() => scenario({ name: 'x', executor: burst({ requests: 2 }), warmup: '1s', request: async () => 1 })).toThrow(expect.objectContaining({ code: 'invalid_scenario', message: expect.stringMatching(/burst has no warm-up/) }));
    const s = scenario({ name: 'same', executor, request: async () => 1 });
    const duplicate = await run([s, s]).catch((e: unknown) => e);
    expect(isInstrumentError(duplicate, 'invalid_scenario')).toBe(true);
    expect((duplicate as Error).message).toMatch(/two scenarios are named "same"/);
    // HTTP without a base URL fails every iteration with a kind that says why.
    const lost = await run(scenario({ name: 'lost', executor: burst({ requests: 3 }), request: (ctx) => ctx.http.request({ path: '/' }) }));
    expect(lost.scenarios[0]?.errors).toEqual({ no_base_url: 3 });
  });
});

describe('events and sinks', () => {
  it('emits start, a tick per second, samples with tags, done; the NDJSON sink writes them as lines', async () => {
    await using server = await startTestServer();
    const dir = await mkdtemp(path.join(os.tmpdir(), 'crucible-ndjson-'));
    const file = path.join(dir, 'events.ndjson');
    const events = new EngineEvents();
    const ticks: TickEvent[] = [];
    const tagged: string[] = [];
    let done = 0;
    events.on('tick', (t) => ticks.push(t));
    events.on('sample', (s) => tagged.push(`${s.tags['scenario']}|${s.tags['endpoint']}|${s.tags['project']}`));
    events.on('done', () => done++);
    await run(
      scenario({
        name: 'evented',
        executor: constantArrivalRate({ rate: 20, duration: '2s' }),
        warmup: '500ms',
        tags: { project: 'alpha' },
        request: (ctx) => ctx.http.request({ path: '/', tags: { endpoint: 'GET /' } }),
      }),
      { baseUrl: server.url, events, sinks: [ndjsonSink(file)] },
    );
    expect(done).toBe(1);
    // Two full seconds (+ possibly a last partial one), measured phase only.
    expect(ticks.length).toBeGreaterThanOrEqual(2);
    expect(ticks.reduce((a, t) => a + t.requests, 0)).toBe(40);
    expect(ticks.map((t) => t.t)).toEqual(ticks.map((_, i) => i));
    expect(ticks[0]).toMatchObject({ scenario: 'evented', segment: '0:1' });
    // camelCase like every other event; the totals run up to the scenario's.
    expect(Object.keys(ticks[0] ?? {}).sort()).toEqual(['activeVus', 'dropped', 'errors', 'histogram', 'latencyMs', 'requests', 'rps', 'runId', 'scenario', 'segment', 't', 'totalErrors', 'totalRequests']);
    expect(ticks.at(-1)?.totalRequests).toBe(40);
    expect(typeof ticks[0]?.histogram).toBe('string');
    expect(tagged).toHaveLength(40);
    expect(new Set(tagged)).toEqual(new Set(['evented|GET /|alpha']));
    const lines = (await readFile(file, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { type: string });
    expect(lines[0]?.type).toBe('start');
    expect(lines.at(-1)?.type).toBe('done');
    expect(lines.filter((l) => l.type === 'tick')).toHaveLength(ticks.length);
  });
});
