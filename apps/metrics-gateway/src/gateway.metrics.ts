import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Figures the hub keeps as plain numbers (cheap on the hot path) and `/metrics` and `/health` read. */
export interface HubStats {
  connections: number;
  channels: number;
  subscriptions: number;
  lagging: number;
  ingested: number;
  /** `ingested` by message type (run_start, snapshot, event, run_end). */
  ingestedByType: Readonly<Record<string, number>>;
  delivered: number;
  dropped: number;
  rejected: number;
  slowSubscriberEvents: number;
  heartbeatTerminations: number;
}

/**
 * A counter whose value is a running total the gateway keeps as a plain number (cheap on the
 * hot path), read from `stats()` at each scrape.
 */
export function statCounter<S>(registers: Registry[], stats: () => S, name: string, help: string, read: (s: S) => number): Counter {
  return new Counter({
    name,
    help,
    registers,
    collect() {
      this.reset();
      this.inc(read(stats()));
    },
  });
}

/** The gateway's Prometheus registry: HTTP, connection, message and back-pressure metrics. */
export class GatewayMetrics {
  readonly registry = new Registry();
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  readonly httpErrors: Counter<'code'>;
  readonly connectionsOpened: Counter<'role'>;
  readonly connectionsRejected: Counter<'code'>;
  readonly ingested: Counter<'type'>;
  readonly rejected: Counter<'code'>;

  constructor(service: string, stats: () => HubStats) {
    this.registry.setDefaultLabels({ service });
    collectDefaultMetrics({ register: this.registry });
    const registers = [this.registry];
    this.httpDuration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration by route and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.httpErrors = new Counter({ name: 'http_errors_total', help: 'Error answers by error code', labelNames: ['code'], registers });
    this.connectionsOpened = new Counter({
      name: 'gateway_connections_opened_total',
      help: 'WebSocket connections accepted, by role',
      labelNames: ['role'],
      registers,
    });
    this.connectionsRejected = new Counter({
      name: 'gateway_connections_rejected_total',
      help: 'WebSocket upgrades refused, by error code',
      labelNames: ['code'],
      registers,
    });
    // Counted by the hub as plain numbers (a labelled inc hashes its labels on every call, 12,000 times a second), read at scrape.
    this.ingested = new Counter({
      name: 'gateway_messages_ingested_total',
      help: 'Messages published and accepted, by type',
      labelNames: ['type'],
      registers,
      collect() {
        this.reset();
        for (const [type, n] of Object.entries(stats().ingestedByType)) this.inc({ type }, n);
      },
    });
    this.rejected = new Counter({ name: 'gateway_messages_rejected_total', help: 'Client messages refused, by error code', labelNames: ['code'], registers });
    const gauge = (name: string, help: string, read: (s: HubStats) => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read(stats()));
        },
      });
    // Counted on the hot path as plain numbers; exposed as counters' running totals.
    const total = (name: string, help: string, read: (s: HubStats) => number) => statCounter(registers, stats, name, help, read);
    gauge('gateway_connections', 'Open WebSocket connections', (s) => s.connections);
    gauge('gateway_channels', 'Run channels held in memory', (s) => s.channels);
    gauge('gateway_subscriptions', 'Channel subscriptions', (s) => s.subscriptions);
    gauge('gateway_lagging_subscribers', 'Subscriptions over the buffered threshold or replaying', (s) => s.lagging);
    total('gateway_messages_delivered_total', 'Channel messages sent to subscribers', (s) => s.delivered);
    total('gateway_messages_dropped_total', 'Channel messages a slow or late subscriber lost to the bounded history', (s) => s.dropped);
    total('gateway_slow_subscriber_total', 'Times a subscriber went over the buffered threshold', (s) => s.slowSubscriberEvents);
    total('gateway_heartbeat_terminations_total', 'Connections terminated for not answering a ping', (s) => s.heartbeatTerminations);
  }
}
