import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { EngineEvents } from '../events.js';
import { constantArrivalRate, rampingVUs } from '../executors.js';
import { consoleSink, tickLine } from './console-sink.js';

const tick = { scenario: 'GET /tasks/next at 100 RPS', t: 11, rps: 100, latencyMs: { p50: 2, p99: 8 }, errors: 0, dropped: 0, activeVus: 0 };

describe('console sink', () => {
  it('puts elapsed and expected seconds first on the per-second line', () => {
    expect(tickLine(tick, { seconds: 20, target: 100 })).toBe('  [ 12/20 s] GET /tasks/next at 100 RPS: 100 req/s, p50 2.0 ms, p99 8.0 ms, 0 errors\n');
    expect(tickLine({ ...tick, scenario: 'writes', dropped: 3, activeVus: 7 }, { seconds: 20, target: 1000 })).toBe(
      '  [ 12/20 s] writes (target 1000/s): 100 req/s, p50 2.0 ms, p99 8.0 ms, 0 errors, 3 dropped, 7 busy\n',
    );
    expect(tickLine(tick, undefined)).toMatch(/^ {2}\[ 12 s\]/);
  });

  it('learns each scenario’s planned duration from the engine’s events', () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (c: Buffer) => (text += c.toString()));
    const events = new EngineEvents();
    consoleSink({ out }).attach(events);
    const executor = constantArrivalRate({ rate: 50, duration: '20s' });
    events.emit('start', { runId: 'r', startedAt: '', segment: '1/1', scenarios: [{ name: 'writes', executor, tags: {} }] });
    events.emit('scenario-start', { runId: 'r', scenario: 'writes', phase: 'measure', executor });
    events.emit('tick', { ...tick, scenario: 'writes', t: 0, runId: 'r', segment: '1/1', requests: 50, histogram: '', totalRequests: 50, totalErrors: 0, latencyMs: { p50: 1, p95: 2, p99: 3 } });
    events.emit('scenario-start', { runId: 'r', scenario: 'closed', phase: 'measure', executor: rampingVUs({ stages: [{ duration: '5s', target: 2 }] }) });
    expect(text).toContain('writes: measuring for 20 s');
    expect(text).toContain('[  1/20 s] writes (target 50/s): 100 req/s');
    expect(text).toContain('closed: measuring for 5 s');
  });
});
