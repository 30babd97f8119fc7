/**
 * @crucible/instrument-kit — what every instrument shares, at the bottom of the dependency
 * graph: HDR latency histograms with declared bounds (record, encode, merge, summarise), the
 * instrument error registry, and workspace paths. It imports only `@crucible/contracts`
 * types and hdr-histogram-js, so the load engine, chaos, checkers and reporting can all
 * depend on it without depending on each other.
 *
 * @example
 * import { createLatencyHistogram, recordLatencyMs, encodeHistogram } from '@crucible/instrument-kit';
 * const h = createLatencyHistogram();
 * recordLatencyMs(h, 12.5);
 * const wire = encodeHistogram(h); // merge exactly elsewhere with mergeHistograms([wire, …])
 */
export * from './histogram.js';
export * from './errors.js';
export * from './paths.js';
export * from './clock.js';
export * from './thresholds.js';
export * from './args.js';
export * from './stats.js';
export * from './windows.js';
