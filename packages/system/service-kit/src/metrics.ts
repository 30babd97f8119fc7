import type pg from 'pg';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The Prometheus registry of one service, with the HTTP and pool metrics every app has. */
export class ServiceMetrics {
  readonly registry = new Registry();
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  readonly httpErrors: Counter<'code'>;

  constructor(service: string, pool: pg.Pool, poolMax: number) {
    this.registry.setDefaultLabels({ service });
    collectDefaultMetrics({ register: this.registry });
    this.httpDuration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration by route and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [this.registry],
    });
    this.httpErrors = new Counter({
      name: 'http_errors_total',
      help: 'Error answers by error code',
      labelNames: ['code'],
      registers: [this.registry],
    });
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({
        name,
        help,
        registers: [this.registry],
        collect() {
          this.set(read());
        },
      });
    gauge('db_pool_total', 'Connections open in the pool', () => pool.totalCount);
    gauge('db_pool_idle', 'Idle connections in the pool', () => pool.idleCount);
    gauge('db_pool_waiting', 'Requests waiting for a connection', () => pool.waitingCount);
    gauge('db_pool_max', 'Largest pool size', () => poolMax);
  }
}
