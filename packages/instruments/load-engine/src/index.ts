/**
 * @crucible/load-engine — scenarios that read like tests, open-model (arrival rate) and
 * closed-model (VUs) executors and bursts, HTTP through undici, WebSocket through ws, HDR
 * histograms with coordinated-omission-correct latency, execution segments, events for sinks.
 *
 * @example
 * import { scenario, constantArrivalRate, run, buildReport, consoleSink } from '@crucible/load-engine';
 * import { finishRun } from '@crucible/reporting';
 *
 * const s = scenario({
 *   name: 'next id',
 *   executor: constantArrivalRate({ rate: 100, duration: '10s', preAllocatedVUs: 20, maxVUs: 200 }),
 *   request: (ctx) => ctx.http.request({ path: '/ids/next?type=US', headers: { authorization: `Bearer ${key}` } }),
 *   checks: { 'status is 200': (res) => res.status === 200 },
 *   thresholds: ['p(99)<200', 'rate<0.01'],
 * });
 * const result = await run([s], { baseUrl, sinks: [consoleSink()] });
 * await finishRun(buildReport(result, { suite: 'id-service stress' }));
 */
export * from './duration.js';
export * from './segment.js';
export * from './executors.js';
export * from './http-client.js';
export * from './ws-client.js';
export * from './scenario.js';
export * from './events.js';
export * from './result.js';
export * from './runner.js';
export * from './build-report.js';
export * from './sinks/console-sink.js';
export * from './sinks/ndjson-sink.js';
export * from './sinks/gateway-sink.js';
export {
  createLatencyHistogram,
  recordLatencyMs,
  encodeHistogram,
  decodeHistogram,
  mergeHistograms,
  summarizeHistogram,
  percentileMs,
  recordedValues,
  HISTOGRAM_BOUNDS,
  type LatencyHistogram,
} from '@crucible/instrument-kit';
export { type ThresholdSpec } from '@crucible/reporting';
export { runParallel, type ParallelOptions } from './parallel.js';
