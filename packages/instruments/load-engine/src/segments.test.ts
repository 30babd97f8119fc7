import { describe, expect, it } from 'vitest';
import { decodeHistogram, mergeHistograms, recordLatencyMs, createLatencyHistogram, recordedValues } from '@crucible/instrument-kit';
import { startTestServer } from '../tests/test-servers.js';
import { EngineEvents, type TickEvent } from './events.js';
import { runParallel } from './parallel.js';
import { run } from './runner.js';
import { scenarios } from '../tests/fixtures/split-scenarios.js';
import { outcomesOf } from './result.js';
import { ownsIndex, parseSegment, splitSegments, indexRange } from './segment.js';

const MODULE = new URL('../tests/fixtures/split-scenarios.ts', import.meta.url);
// Server-side delay depends only on the iteration index: 0, 500, 1000 or 1500 ms. The modes
// are far apart so that scheduling lag on a loaded shared 2-core machine (we have seen
// 100-300 ms) cannot move a request into another mode.
const byIndex = (req: { url?: string }): number => (Number(new URL(req.url ?? '/', 'http://x').searchParams.get('i')) % 4) * 500;

/** Requests per 500 ms delay mode, read from a histogram (values in µs). */
function bandCounts(h: Parameters<typeof recordedValues>[0]): number[] {
  const bands = [0, 0, 0, 0];
  for (const [us, count] of recordedValues(h)) {
    const band = Math.min(3, Math.floor((us / 1000 + 20) / 500));
    bands[band] = (bands[band] ?? 0) + count;
  }
  return bands;
}

describe('execution segments', () => {
  it('partition iteration indices exactly and evenly', () => {
    const segs = splitSegments(3).map((s) => parseSegment(s));
    const counts = new Map<number, number>();
    for (let i = 0; i < 30_000; i++) {
      const owners = segs.map((s, k) => (ownsIndex(s, i) ? k : -1)).filter((k) => k >= 0);
      expect(owners).toHaveLength(1);
      counts.set(owners[0] as number, (counts.get(owners[0] as number) ?? 0) + 1);
    }
    expect(counts.size).toBe(3);
    for (const c of counts.values()) expect(Math.abs(c - 10_000)).toBeLessThan(10);
    expect(segs.map((s) => indexRange(s, 10))).toEqual([[0, 3], [3, 6], [6, 10]]);
    expect(() => parseSegment('2/3:1/3')).toThrow(/end must be greater/);
  });

  it('three processes run exactly the single run’s iterations, and their merged histogram matches it', async () => {
    await using server = await startTestServer(byIndex);
    const params = { rate: 60, duration: '3s' };
    // The single-process run happens right here; the split one in three child processes.
    const single = await run(scenarios(params), { baseUrl: server.url });
    const split = await runParallel({ module: MODULE, params, baseUrl: server.url, workers: 3, mode: 'process' });

    const [one] = single.scenarios;
    const [merged] = split.scenarios;
    if (!one || !merged) throw new Error('both runs must report the scenario');
    expect(one.requests).toBe(180);
    expect(merged.requests).toBe(one.requests);
    expect(merged.segment).toBe('0:1');
    expect(merged.rpsTarget).toBeCloseTo(60);
    expect(one.rpsTarget).toBeCloseTo(60);
    expect(merged.successes).toBe(180);
    // The union of the three processes' iteration indices is exactly the single run's.
    const indices = outcomesOf(split, 'split me').map((o) => o.index).sort((a, b) => a - b);
    expect(indices).toEqual(outcomesOf(single, 'split me').map((o) => o.index).sort((a, b) => a - b));
    expect(indices).toEqual(Array.from({ length: 180 }, (_, i) => i));
    expect(new Set(indices).size).toBe(180);

    // Merging is exact: the merged histogram equals one built from every recorded latency.
    const all = createLatencyHistogram();
    for (const o of outcomesOf(split, 'split me')) recordLatencyMs(all, o.latencyMs);
    const mergedHistogram = decodeHistogram(merged.histogram);
    expect(recordedValues(mergedHistogram)).toEqual(recordedValues(all));
    expect(mergedHistogram.totalCount).toBe(decodeHistogram(one.histogram).totalCount);

    // And it matches the single-process run: same schedule, same server delays per iteration,
    // so every delay mode (0/500/1000/1500 ms + client overhead) holds exactly the same count.
    const singleHistogram = decodeHistogram(one.histogram);
    const expected = [45, 45, 45, 45];
    expect(bandCounts(singleHistogram)).toEqual(expected);
    expect(bandCounts(mergedHistogram)).toEqual(expected);
    // Per-endpoint slices merge too.
    expect(merged.breakdown?.entries['GET /work (odd)']?.requests).toBe(90);
    expect(merged.breakdown?.entries['GET /work (even)']?.requests).toBe(90);
    // Counters the engine counted add up exactly too (the warm-up is not counted).
    expect(one.metrics).toEqual({ odd_iterations: 90, never_counted: 0 });
    expect(merged.metrics).toEqual(one.metrics);
    expect(merged.rates).toEqual({ odd: { trues: 90, total: 180 } });
    // Per-second series merge too: their counts add up to the total.
    expect(merged.series.reduce((a, s) => a + s.requests, 0)).toBe(180);
    const perSecond = mergeHistograms(merged.series.map((s) => s.histogram));
    expect(recordedValues(perSecond)).toEqual(recordedValues(mergedHistogram));
  }, 120_000); // two multi-process runs; spawning tsx processes alone takes seconds under load

  it('worker threads split the load across cores; their events merge into one stream', async () => {
    await using server = await startTestServer(byIndex);
    const events = new EngineEvents();
    const ticks: TickEvent[] = [];
    const done: number[] = [];
    const starts: string[] = [];
    events.on('start', (e) => starts.push(`${e.segment} ${e.scenarios.map((x) => x.name).join()}`));
    events.on('tick', (t) => ticks.push(t));
    events.on('scenario-done', (e) => done.push(e.result.requests));
    const result = await runParallel({ module: MODULE, params: { rate: 100, duration: '2s' }, baseUrl: server.url, workers: 2, mode: 'thread', events });
    expect(result.scenarios[0]?.requests).toBe(200);
    // Worker threads' counts add up to the whole run's.
    expect(result.scenarios[0]?.metrics).toEqual({ odd_iterations: 100, never_counted: 0 });
    // 100 more arrived during the 1 s warm-up, which is sent but not counted.
    expect(server.received()).toBe(300);
    expect(done).toEqual([200]);
    expect(starts).toEqual(['0:1 split me']);
    expect(ticks.every((t) => t.segment === '0:1')).toBe(true);
    expect(ticks.reduce((a, t) => a + t.requests, 0)).toBe(200);
    expect(new Set(ticks.map((t) => t.t)).size).toBe(ticks.length);
  }, 60_000);

  it('a segment that fails rejects the run, naming the segment and the cause', async () => {
    const broken = new URL('../tests/fixtures/broken-scenarios.ts', import.meta.url);
    const error = await runParallel({ module: broken, workers: 2, mode: 'process' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'segment_failed', message: expect.stringMatching(/segment .* failed: .*missing API key/) });
  }, 60_000);
});
