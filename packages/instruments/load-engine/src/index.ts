/**
 * @crucible/load-engine — scenarios that read like tests, open-model (arrival rate) and
 * closed-model (VUs) executors and bursts, HTTP through its own HTTP/1.1 client (undici for https:), WebSocket through ws, HDR
 * histograms with coordinated-omission-correct latency, custom metrics the engine counts,
 * execution segments, run sessions, events for sinks. It measures; `@crucible/reporting`
 * turns a `RunResult` into a report (`buildReport`) and evaluates its thresholds.
 *
 * @example
 * import { scenario, constantArrivalRate, run, consoleSink } from '@crucible/load-engine';
 * import { buildReport, finishRun } from '@crucible/reporting';
 *
 * const s = scenario({
 *   name: 'next id',
 *   executor: constantArrivalRate({ rate: 100, duration: '10s', preAllocatedVUs: 20, maxVUs: 200 }),
 *   metrics: { pool_exhausted_503: 'counter' },
 *   thresholds: ['p(99)<200', 'rate<0.01', 'pool_exhausted_503: count==0'],
 *   request: async (ctx) => {
 *     const res = await ctx.http.request({ path: '/ids/next?type=US', headers: { authorization: `Bearer ${key}` } });
 *     if (res.status === 503) ctx.count('pool_exhausted_503');
 *     return res;
 *   },
 *   checks: { 'status is 200': (res) => res.status === 200 },
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
export * from './starvation.js';
export * from './runner.js';
export { openSession, RunSession, type SessionOptions, type SessionRunOptions, type Scenarios } from './session.js';
export * from './sinks/console-sink.js';
export * from './sinks/ndjson-sink.js';
export * from './sinks/gateway-sink.js';
export * from './sinks/prometheus-sink.js';
export * from './sinks/otlp-sink.js';
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
export { type ThresholdSpec, type ThresholdRule, type ThresholdEntry } from '@crucible/instrument-kit';
export { type AbortRecord } from './abort-watch.js';
export { runParallel, type ParallelOptions } from './parallel.js';
