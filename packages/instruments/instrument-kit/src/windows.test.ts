import { describe, expect, it } from 'vitest';
import { createLatencyHistogram, encodeHistogram, recordLatencyMs } from './histogram.js';
import { parseThreshold } from './thresholds.js';
import { slidingWindows, type WindowPoint } from './windows.js';

/** One second: `n` requests of `ms` each, `errors` of them failed. */
function second(t: number, n: number, ms: number, errors = 0): WindowPoint {
  const h = createLatencyHistogram();
  for (let i = 0; i < n; i++) recordLatencyMs(h, ms);
  const point = { t, requests: n, errors, histogram: encodeHistogram(h) };
  h.destroy();
  return point;
}

describe('sliding windows', () => {
  // 10 s at 100/s, 10 ms each, but seconds 4 and 5 at 300 ms: 20 % of the run, so the total p(75) is 10 ms.
  const series = Array.from({ length: 10 }, (_, t) => second(t, 100, t === 4 || t === 5 ? 300 : 10));

  it('fails a bad stretch the total hides, naming the worst window and how many failed', () => {
    const out = slidingWindows(parseThreshold('p(75) over 2s < 50'), series);
    expect(out.windows).toHaveLength(9);
    // Windows 3–5, 4–6 and 5–7 hold 300 ms in at least half their requests.
    expect(out.failed).toBe(3);
    // All three read 300 ms; the first of them is named.
    expect(out.worst).toMatchObject({ fromS: 3, toS: 5 });
    expect(out.worst?.value).toBeGreaterThanOrEqual(299);
    const total = slidingWindows(parseThreshold('p(75) over 10s < 50'), series);
    expect(total.failed).toBe(0);
    expect(total.worst?.value).toBeLessThan(11);
  });

  it('judges error rates and request rates per window; a run shorter than the window is one window', () => {
    const errs = [second(0, 100, 5), second(1, 100, 5, 60), second(2, 100, 5)];
    expect(slidingWindows(parseThreshold('errors: rate over 1s < 0.5'), errs)).toMatchObject({ failed: 1, worst: { fromS: 1, toS: 2, value: 0.6 } });
    expect(slidingWindows(parseThreshold('errors: rate over 2s < 0.5'), errs).failed).toBe(0);
    expect(slidingWindows(parseThreshold('requests: rate over 10s > 90'), errs)).toMatchObject({ windows: [{ fromS: 0, toS: 3, value: 100 }], failed: 0 });
    // An empty second holds no error rate: not a pass by zero, simply not judged.
    expect(slidingWindows(parseThreshold('errors: rate over 1s < 0.5'), [second(0, 0, 0)])).toMatchObject({ failed: 0, worst: null });
  });

  it('refuses to judge latency without per-second histograms', () => {
    expect(slidingWindows(parseThreshold('p(99) over 5s < 1'), [{ t: 0, requests: 1, errors: 0 }]).error).toMatch(/carry no histograms/);
    expect(slidingWindows(parseThreshold('p(99) over 5s < 1'), []).error).toMatch(/no per-second points/);
  });

  it('parses windows, refusing them with a tag or on a metric seconds do not carry', () => {
    expect(parseThreshold('p(99) over 10s < 300')).toMatchObject({ metric: 'latency', windowS: 10, operator: '<', value: 300 });
    expect(parseThreshold('errors: rate over 1m<0.1')).toMatchObject({ windowS: 60 });
    expect(() => parseThreshold('checks: rate over 5s > 0.9')).toThrow(/only latency, errors, requests take a sliding window/);
    expect(() => parseThreshold('latency{endpoint:GET /x}: p(99) over 5s < 1')).toThrow(/carry no tags/);
  });
});
