import { decodeHistogram, summarizeHistogram } from '@crucible/instrument-kit';
import type { LatencySummary } from '@crucible/contracts';

/** The latency summary (ms) of a base64 HDR histogram from a result, or null when absent or empty. */
export function summaryOf(histogram: string | undefined): LatencySummary | null {
  if (!histogram) return null;
  const h = decodeHistogram(histogram);
  const summary = summarizeHistogram(h);
  h.destroy();
  return summary;
}
