// The gateway stress's report rows: what each phase measured, against the goals.
import { runReportSchema, type GeneratorReport, type ScenarioReport, type SeriesPoint } from '@crucible/contracts';
import { encodeHistogram, percentileMs, summarizeHistogram, type LatencyHistogram } from '@crucible/instrument-kit';
import { finalizeScenario } from '@crucible/reporting';
import { round, type ConnectFigures, type GatewayLoad, type OrderingFigures, type SteadyFigures, type StormFigures } from './gateway-load.js';

/** Goals from the issue. */
export const goals = {
  connectSuccess: 0.999,
  ingestPerS: 10_000,
  p99Ms: 100,
  recoveryMs: 30_000,
  /** Events due but not sent or refused, as a share of those due: 1 in 1,000 at most. */
  maxErrorRate: 0.001,
};

/** The fan-out thresholds on ordering and delivery: what the planted-defect tests prove. */
export const deliveryThresholds = ['unannounced_gaps: count==0', 'out_of_order: count==0', 'never_arrived: count==0', 'reported_lost: count==0'] as const;

export type Row = Omit<ScenarioReport, 'tags' | 'errors' | 'series' | 'metrics' | 'thresholds' | 'verdicts' | 'evidence' | 'checks' | 'segment' | 'passed' | 'source' | 'dropped_iterations' | 'latency_basis' | 'started_at' | 'latency_ms' | 'histogram'> & {
  startedAt: number;
  latency: LatencyHistogram;
  errors?: Record<string, number>;
  series?: SeriesPoint[];
  metrics: Record<string, number>;
  thresholds: string[];
};

/** A report row of measurements this suite made itself, its thresholds evaluated. */
export function row({ startedAt, latency, thresholds, ...s }: Row): ScenarioReport {
  return finalizeScenario(
    runReportSchema.shape.scenarios.element.parse({
      ...s,
      started_at: new Date(startedAt).toISOString(),
      latency_ms: summarizeHistogram(latency),
      histogram: encodeHistogram(latency),
      tags: { target: 'metrics-gateway', transport: 'websocket' },
      thresholds: thresholds.map((expression) => ({ expression, metric: '', actual: null, passed: false })),
      latency_basis: 'actual',
    }),
  );
}

/** Connection success, and the gateway's memory per 1,000 connections. */
export function connectRow(load: GatewayLoad, c: ConnectFigures, rssIdleMb: number): ScenarioReport {
  const { connections, connectConcurrency } = load.profile;
  return row({
    name: 'connect',
    executor: `${connections} connections, ${connectConcurrency} opening at a time`,
    startedAt: c.startedAt,
    duration_s: round(c.seconds),
    requests: connections,
    successes: c.connected,
    error_rate: round((connections - c.connected) / connections, 6),
    errors: c.errors,
    rps: { achieved: round(connections / c.seconds), target: null },
    latency: c.histogram,
    metrics: {
      connection_success_rate: round(c.connected / connections, 6),
      gateway_rss_idle_mb: round(rssIdleMb, 1),
      gateway_rss_connected_mb: round(c.rssConnectedMb, 1),
      gateway_rss_mb_per_1000_connections: round((c.rssConnectedMb - rssIdleMb) / (connections / 1000), 2),
    },
    thresholds: [`connection_success_rate: value>${goals.connectSuccess}`],
  });
}

/** Ingest and delivery with fan-out in the steady phase, and ordering per subscriber over the whole run. */
export function fanOutRow(load: GatewayLoad, s: SteadyFigures, o: OrderingFigures, generator?: GeneratorReport): ScenarioReport {
  const { rate, channels, subscribersPerChannel } = load.profile;
  const notSent = s.skipped;
  const refused = Object.values(s.rejected).reduce((a, b) => a + b, 0);
  return row({
    name: 'fan-out',
    ...(generator ? { generator } : {}),
    executor: `open model: ${rate} events/s over ${load.publishers.length} publishers into ${channels} channels, ${subscribersPerChannel} subscribers each`,
    startedAt: s.startedAt,
    duration_s: round(s.seconds),
    // Every event due is a request; one not sent (the publisher was disconnected or its socket
    // backed up past 1 MB because the gateway did not read) or refused by the gateway is an error.
    requests: s.scheduled,
    successes: s.scheduled - notSent - refused,
    error_rate: s.scheduled === 0 ? 1 : round((notSent + refused) / s.scheduled, 6),
    errors: { ...(notSent > 0 ? { 'event not sent (publisher disconnected or backed up)': notSent } : {}), ...Object.fromEntries(Object.entries(s.rejected).map(([code, n]) => [`refused by the gateway: ${code}`, n])) },
    rps: { achieved: round(s.ingestPerS), target: rate },
    latency: s.histogram,
    series: load.series,
    metrics: {
      ingested_per_s: round(s.ingestPerS),
      delivered_per_s: round(s.deliveredPerS),
      gateway_rss_peak_mb: round(load.rssPeakMb, 1),
      gateway_cpu_cores: round(s.gatewayCores),
      load_client_cpu_cores: round(s.clientCores),
      machine_load_average_1m: round(s.loadAverage, 1),
      unannounced_gaps: o.gaps,
      out_of_order: o.outOfOrder,
      never_arrived: o.missing,
      reported_lost: o.reportedGaps,
      slow_subscriber_events: o.finalHealth.slow_subscriber_events,
      events_not_sent_backpressure_or_disconnected: s.skipped,
      publishes_refused: refused,
      connections_dropped_during_load: load.drops.steady,
    },
    thresholds: [
      `p(99)<${goals.p99Ms}`,
      `ingested_per_s: value>=${goals.ingestPerS}`,
      `errors: rate<${goals.maxErrorRate}`,
      'publishes_refused: count==0',
      'connections_dropped_during_load: count==0',
      ...deliveryThresholds,
    ],
  });
}

/** Time until every client was back after all were dropped at once, and the load after it. */
export function stormRow(load: GatewayLoad, st: StormFigures, tail: LatencyHistogram, o: OrderingFigures, shutdownMs: number): ScenarioReport {
  const clients = load.clients.length;
  const recovered = Number.isFinite(st.recoveryMs);
  const seconds = (recovered ? st.recoveryMs : 60_000) / 1000;
  return row({
    name: 'reconnection storm',
    executor: `all ${st.dropped} connections dropped at once (1012), every client reconnects immediately; subscribers resume from their last sequence`,
    startedAt: st.startedAt,
    duration_s: round(seconds),
    requests: clients,
    successes: st.recovered,
    error_rate: round((clients - st.recovered) / clients, 6),
    errors: load.storm.failures,
    rps: { achieved: round(st.recovered / seconds), target: null },
    latency: st.histogram,
    metrics: {
      recovery_ms: recovered ? round(st.recoveryMs) : -1,
      reconnect_attempts: load.storm.attempts,
      reconnections: load.storm.reconnects,
      first_attempt_success_rate: round(load.storm.firstTryOk / Math.max(1, load.storm.reconnects), 6),
      events_skipped_while_disconnected: load.skipped,
      // Includes the events replayed to resuming subscribers, whose wait while disconnected counts.
      post_storm_latency_p99_ms: round(percentileMs(tail, 99), 2),
      gateway_shutdown_ms: round(shutdownMs),
      heartbeat_terminations: o.finalHealth.heartbeat_terminations,
      connections_dropped_after_recovery: load.drops.tail,
    },
    thresholds: ['errors: rate==0', `recovery_ms: value<${goals.recoveryMs}`, 'recovery_ms: value>=0', 'connections_dropped_after_recovery: count==0'],
  });
}
