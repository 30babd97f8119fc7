import * as hdr from 'hdr-histogram-js';
import type { LatencySummary } from '@crucible/contracts';

/** An HDR histogram of latencies in microseconds. */
export type LatencyHistogram = hdr.Histogram;

/**
 * Declared bounds of every latency histogram: 1 µs to 60 s at 3 significant digits
 * (values are recorded in microseconds; anything slower is clamped to 60 s and still counted).
 */
export const HISTOGRAM_BOUNDS = Object.freeze({
  lowestUs: 1,
  highestUs: 60_000_000,
  significantDigits: 3 as const,
});

/** A new, empty latency histogram with the declared bounds. */
export function createLatencyHistogram(): LatencyHistogram {
  return hdr.build({
    bitBucketSize: 32,
    autoResize: false,
    lowestDiscernibleValue: HISTOGRAM_BOUNDS.lowestUs,
    highestTrackableValue: HISTOGRAM_BOUNDS.highestUs,
    numberOfSignificantValueDigits: HISTOGRAM_BOUNDS.significantDigits,
  });
}

/** Records one latency given in milliseconds (fractions kept to the microsecond). */
export function recordLatencyMs(histogram: LatencyHistogram, ms: number): void {
  const us = Math.round(ms * 1000);
  histogram.recordValue(Math.min(HISTOGRAM_BOUNDS.highestUs, Math.max(HISTOGRAM_BOUNDS.lowestUs, us)));
}

/** Compressed base64 form (the HdrHistogram V2 encoding), to send between processes or store. */
export function encodeHistogram(histogram: LatencyHistogram): string {
  return hdr.encodeIntoCompressedBase64(histogram);
}

/** Decodes {@link encodeHistogram} output into a histogram with the declared bounds. */
export function decodeHistogram(base64: string): LatencyHistogram {
  const decoded = hdr.decodeFromCompressedBase64(base64, 32, false);
  // Copy into a histogram with our bounds so later merges never resize.
  const out = createLatencyHistogram();
  out.add(decoded);
  decoded.destroy();
  return out;
}

/** Merges encoded (or live) histograms into a new one; HDR merges are exact. */
export function mergeHistograms(parts: Iterable<string | LatencyHistogram>): LatencyHistogram {
  const out = createLatencyHistogram();
  for (const part of parts) {
    if (typeof part === 'string') {
      const h = decodeHistogram(part);
      out.add(h);
      h.destroy();
    } else {
      out.add(part);
    }
  }
  return out;
}

/** The percentile of a histogram in milliseconds (`percentile` in 0..100). */
export function percentileMs(histogram: LatencyHistogram, percentile: number): number {
  return histogram.totalCount === 0 ? 0 : Math.min(histogram.maxValue, histogram.getValueAtPercentile(percentile)) / 1000;
}

/** p50/p90/p95/p99/p99.9/max/mean/min in milliseconds, or null for an empty histogram. */
export function summarizeHistogram(histogram: LatencyHistogram): LatencySummary | null {
  if (histogram.totalCount === 0) return null;
  const max = round3(histogram.maxValue / 1000);
  // HDR reports a percentile as its bucket's highest equivalent value, which can exceed the
  // exact maximum by the bucket's width; clamp so that p99.9 ≤ max always reads right.
  const at = (p: number): number => Math.min(max, round3(histogram.getValueAtPercentile(p) / 1000));
  return {
    p50: at(50),
    p90: at(90),
    p95: at(95),
    p99: at(99),
    p999: at(99.9),
    max,
    mean: round3(histogram.mean / 1000),
    min: round3(histogram.minNonZeroValue / 1000),
  };
}

/** Every recorded value bucket as `[valueUs, count]`, lowest first (exact; used for charts and equality checks). */
export function recordedValues(histogram: LatencyHistogram): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  if (histogram.totalCount === 0) return out;
  const iterator = (histogram as hdr.JsHistogram).recordedValuesIterator;
  iterator.reset();
  while (iterator.hasNext()) {
    const v = iterator.next();
    out.push([v.valueIteratedTo, v.countAtValueIteratedTo]);
  }
  return out;
}

/** Buckets of a histogram for charts: log-spaced upper bounds (ms) and counts. */
export function histogramBuckets(histogram: LatencyHistogram, buckets = 40): Array<{ upToMs: number; count: number }> {
  const values = recordedValues(histogram);
  const first = values[0];
  const last = values[values.length - 1];
  if (!first || !last) return [];
  const lo = Math.max(1, first[0]);
  const hi = Math.max(lo * 1.01, last[0]);
  const ratio = Math.pow(hi / lo, 1 / buckets);
  const out = Array.from({ length: buckets }, (_, i) => ({ upToMs: round3((lo * Math.pow(ratio, i + 1)) / 1000), count: 0 }));
  for (const [value, count] of values) {
    const index = Math.min(buckets - 1, Math.max(0, Math.ceil(Math.log(Math.max(value, lo) / lo) / Math.log(ratio)) - 1));
    const bucket = out[index];
    if (bucket) bucket.count += count;
  }
  return out;
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}
