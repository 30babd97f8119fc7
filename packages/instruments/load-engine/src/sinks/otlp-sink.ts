import { createRequire } from 'node:module';
import type * as Api from '@opentelemetry/api';
import type { Attributes, Counter, Histogram } from '@opentelemetry/api';
import type * as Core from '@opentelemetry/core';
import type * as Exporter from '@opentelemetry/exporter-metrics-otlp-http';
import type * as Resources from '@opentelemetry/resources';
import type * as SdkMetrics from '@opentelemetry/sdk-metrics';
import type { PushMetricExporter } from '@opentelemetry/sdk-metrics';
import { decodeHistogram, recordedValues } from '@crucible/instrument-kit';
import type { EngineEvents, Sink } from '../events.js';

/** Options of {@link otlpSink}. */
export interface OtlpSinkOptions {
  /**
   * The collector's OTLP/HTTP metrics endpoint, e.g. `http://127.0.0.1:4318/v1/metrics` (a URL
   * without a path gets `/v1/metrics`).
   */
  readonly url: string;
  /** How often to export while the run goes, ms (default 10 000). */
  readonly intervalMs?: number;
  /** How long one export may take, retries included, ms (default 5000, at most `intervalMs`). `close` waits at most about twice this. */
  readonly timeoutMs?: number;
  /** Extra headers for each export (e.g. an API key). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Resource attributes (default `service.name: crucible`). */
  readonly resource?: Readonly<Record<string, string>>;
}

/** How the exports went: a collector that is down shows as `failed > 0` and `lastError`. */
export interface OtlpExportStatus {
  readonly url: string;
  /** Exports attempted (periodic ones and the final flush). */
  readonly exports: number;
  readonly failed: number;
  /** Whether the flush on close reached the collector (undefined before close). */
  readonly finalFlushOk?: boolean;
  readonly lastError?: string;
}

/** A {@link Sink} that also tells how its exports went. */
export interface OtlpSink extends Sink {
  status(): OtlpExportStatus;
}

/** The metric names the sink exports (one place, for dashboards and tests). */
export const OTLP_METRICS = {
  requests: 'crucible.requests',
  errors: 'crucible.errors',
  dropped: 'crucible.dropped_iterations',
  latency: 'crucible.latency',
  tagRequests: 'crucible.tag.requests',
  tagErrors: 'crucible.tag.errors',
  tagLatency: 'crucible.tag.latency',
} as const;

/**
 * The SDK, loaded on first use through its CommonJS builds: their ESM builds import without
 * file extensions (made for bundlers), which Node cannot load and Vitest's `module` condition
 * would pick; and a run without OTLP output never pays for loading the SDK.
 */
function loadSdk() {
  const require = createRequire(import.meta.url);
  return {
    api: require('@opentelemetry/api') as typeof Api,
    core: require('@opentelemetry/core') as typeof Core,
    exporter: require('@opentelemetry/exporter-metrics-otlp-http') as typeof Exporter,
    resources: require('@opentelemetry/resources') as typeof Resources,
    metrics: require('@opentelemetry/sdk-metrics') as typeof SdkMetrics,
  };
}

const metricsUrl = (raw: string): string => {
  const url = new URL(raw);
  if (url.pathname === '/' || url.pathname === '') url.pathname = '/v1/metrics';
  return url.toString();
};

/** Records an HDR histogram (µs, base64) into an OTel histogram (ms), value by value. */
function recordHdr(target: Histogram, encoded: string, attributes: Attributes): void {
  const h = decodeHistogram(encoded);
  try {
    for (const [us, n] of recordedValues(h)) for (let i = 0; i < n; i++) target.record(us / 1000, attributes);
  } finally {
    h.destroy();
  }
}

/**
 * OpenTelemetry OTLP/HTTP metrics of a run, through the OpenTelemetry JS SDK, for a collector
 * (and from there Grafana, Datadog, …). Cumulative, exported every `intervalMs` and flushed on
 * close (a session's end):
 * - per scenario (attributes `scenario` and the scenario's own tags), fed by the engine's
 *   per-second ticks: counters `crucible.requests`, `crucible.errors`,
 *   `crucible.dropped_iterations`, and latency (ms) as an exponential histogram
 *   `crucible.latency`: they end exactly at the report's totals;
 * - per value of the breakdown tag (default `endpoint`; attributes `scenario` and that tag),
 *   from each scenario's result when it finishes: `crucible.tag.requests`,
 *   `crucible.tag.errors`, `crucible.tag.latency` (exponential), equal to the report's rows.
 *
 * A collector that is down never fails or hangs the run: each export gives up after
 * `timeoutMs`, and {@link OtlpSink.status} says what failed.
 *
 * @example
 * const otlp = otlpSink({ url: 'http://127.0.0.1:4318/v1/metrics' });
 * await run(scenarios, { sinks: [otlp] });
 * if (otlp.status().failed > 0) console.error(otlp.status().lastError);
 */
export function otlpSink(options: OtlpSinkOptions): OtlpSink {
  const url = metricsUrl(options.url);
  const { api, core, exporter: otlp, resources, metrics: sdk } = loadSdk();
  const { ExportResultCode } = core;
  const intervalMs = options.intervalMs ?? 10_000;
  // The SDK refuses an export timeout longer than the interval.
  const timeoutMs = Math.min(options.timeoutMs ?? 5000, intervalMs);
  let exports = 0;
  let failed = 0;
  let lastError: string | undefined;
  let finalFlushOk: boolean | undefined;
  const inFlight = new Set<Promise<void>>();
  let closed = false;

  const inner = new otlp.OTLPMetricExporter({ url, timeoutMillis: timeoutMs, ...(options.headers ? { headers: { ...options.headers } } : {}) });
  // Counts every export's outcome, and knows which are still on the wire (so close can wait for them).
  const exporter: PushMetricExporter = {
    export(metrics, done) {
      // After the final flush nothing new can come (the runs are over): the SDK's flush on shutdown sends nothing.
      if (closed) return done({ code: ExportResultCode.SUCCESS });
      exports++;
      let settle: () => void = () => undefined;
      const pending = new Promise<void>((r) => (settle = r));
      inFlight.add(pending);
      inner.export(metrics, (result) => {
        if (result.code !== ExportResultCode.SUCCESS) {
          failed++;
          lastError = result.error?.message ?? 'export failed';
        }
        inFlight.delete(pending);
        settle();
        done(result);
      });
    },
    forceFlush: () => inner.forceFlush(),
    shutdown: () => inner.shutdown(),
    selectAggregationTemporality: (type) => inner.selectAggregationTemporality(type),
  };
  const exponential = { type: sdk.AggregationType.EXPONENTIAL_HISTOGRAM } as const;
  const provider = new sdk.MeterProvider({
    resource: resources.resourceFromAttributes({ 'service.name': 'crucible', ...options.resource }),
    readers: [new sdk.PeriodicExportingMetricReader({ exporter, exportIntervalMillis: intervalMs, exportTimeoutMillis: timeoutMs })],
    views: [OTLP_METRICS.latency, OTLP_METRICS.tagLatency].map((instrumentName) => ({ instrumentName, aggregation: exponential })),
  });
  const meter = provider.getMeter('@crucible/load-engine');
  const counter = (name: string, description: string, unit: string): Counter => meter.createCounter(name, { description, unit, valueType: api.ValueType.INT });
  const requests = counter(OTLP_METRICS.requests, 'Iterations completed in the measured phase.', '{iteration}');
  const errors = counter(OTLP_METRICS.errors, 'Iterations that failed.', '{iteration}');
  const dropped = counter(OTLP_METRICS.dropped, 'Iterations the schedule could not start (every VU busy).', '{iteration}');
  const latency = meter.createHistogram(OTLP_METRICS.latency, { description: 'Iteration latency (from the intended start in open models).', unit: 'ms' });
  const tagRequests = counter(OTLP_METRICS.tagRequests, 'Iterations per value of the breakdown tag.', '{iteration}');
  const tagErrors = counter(OTLP_METRICS.tagErrors, 'Failed iterations per value of the breakdown tag.', '{iteration}');
  const tagLatency = meter.createHistogram(OTLP_METRICS.tagLatency, { description: 'Iteration latency per value of the breakdown tag.', unit: 'ms' });
  const scenarioTags = new Map<string, Attributes>();
  const attributesOf = (scenario: string): Attributes => ({ ...scenarioTags.get(scenario), scenario });

  const settled = async () => {
    while (inFlight.size > 0) await Promise.all([...inFlight]);
  };

  return {
    name: 'otlp',
    status: () => ({ url, exports, failed, ...(finalFlushOk === undefined ? {} : { finalFlushOk }), ...(lastError ? { lastError } : {}) }),
    attach(events: EngineEvents) {
      events.on('start', (e) => {
        for (const s of e.scenarios) scenarioTags.set(s.name, { ...s.tags });
      });
      events.on('tick', (t) => {
        const attributes = attributesOf(t.scenario);
        // Zeros too: a scenario without errors has an errors series at 0, not none.
        requests.add(t.requests, attributes);
        errors.add(t.errors, attributes);
        dropped.add(t.dropped, attributes);
        if (t.requests > 0) recordHdr(latency, t.histogram, attributes);
      });
      events.on('scenario-done', ({ result }) => {
        if (!result.breakdown) return;
        for (const [value, entry] of Object.entries(result.breakdown.entries)) {
          const attributes = { scenario: result.name, [result.breakdown.tag]: value };
          tagRequests.add(entry.requests, attributes);
          tagErrors.add(entry.errors, attributes);
          if (entry.requests > 0) recordHdr(tagLatency, entry.histogram, attributes);
        }
      });
    },
    async close() {
      const failedBefore = failed;
      const flush = async () => {
        // A periodic export still on the wire would make forceFlush skip its own collection.
        await settled();
        await provider.forceFlush();
        await settled();
      };
      let timer: NodeJS.Timeout | undefined;
      const limit = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeoutMs * 2 + 1000)));
      try {
        const outcome = await Promise.race([flush().then(() => 'done' as const, (e: unknown) => e), limit]);
        if (outcome === 'timeout') lastError = `no answer from ${url} within ${timeoutMs * 2 + 1000} ms`;
        else if (outcome !== 'done') lastError = outcome instanceof Error ? outcome.message : String(outcome);
        finalFlushOk = outcome === 'done' && failed === failedBefore;
        if (!finalFlushOk && failed === failedBefore) failed++;
      } finally {
        clearTimeout(timer);
        closed = true;
        // Stops the export timer; an export still retrying after a timeout ends by its own deadline.
        await provider.shutdown().catch(() => undefined);
      }
    },
  };
}
