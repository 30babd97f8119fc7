import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeHistogram, recordedValues } from '@crucible/instrument-kit';
import type { EngineEvents, Sink } from '../events.js';

/** Options of {@link prometheusSink}. */
export interface PrometheusSinkOptions {
  /** Port to serve `/metrics` on (default 0: a free one; read it from `url()`). */
  readonly port?: number;
  /** Interface to listen on (default 127.0.0.1). */
  readonly host?: string;
  /** Upper bounds of the latency histogram's buckets, ms (default 1 ms … 10 s, 1-2-5 steps). */
  readonly bucketsMs?: readonly number[];
  /**
   * On close, wait up to this long (ms) for one scrape after the run's last second, so the
   * scraper holds the final figures (default 0: close at once). Only when it had scraped before.
   */
  readonly finalScrapeWaitMs?: number;
}

/** A {@link Sink} that also tells where Prometheus should scrape it. */
export interface PrometheusSink extends Sink {
  /** `http://host:port/metrics`, once the first run attached it. */
  url(): string | undefined;
  /** Resolves once the endpoint listens (after `attach`). */
  readonly ready: Promise<void>;
}

const DEFAULT_BUCKETS_MS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000];

interface Series {
  requests: number;
  errors: number;
  dropped: number;
  activeVus: number;
  /** Cumulative count per bucket bound (same order as the bounds), then +Inf. */
  buckets: number[];
  count: number;
  sumMs: number;
}

const escape = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

/**
 * A Prometheus endpoint a long run can be scraped on while it goes: per scenario, counters of
 * requests, errors and dropped iterations, the busy VUs, and latency as a Prometheus histogram
 * (`crucible_latency_ms_bucket{scenario,le}`), all fed from the engine's per-second ticks, so
 * the counters end exactly at the report's totals. It keeps serving until the sink is closed
 * (a session's end), so a last scrape after the run sees the final figures.
 *
 * @example
 * const prom = prometheusSink({ port: 9464 });
 * await run(scenarios, { sinks: [prom] }); // scrape http://127.0.0.1:9464/metrics meanwhile
 */
export function prometheusSink(options: PrometheusSinkOptions = {}): PrometheusSink {
  const bounds = [...(options.bucketsMs ?? DEFAULT_BUCKETS_MS)].sort((a, b) => a - b);
  const series = new Map<string, Series>();
  let server: Server | undefined;
  let address: string | undefined;
  let markReady: () => void = () => undefined;
  let lastTickAt = 0;
  let lastScrapeAt = 0;
  const ready = new Promise<void>((resolve) => (markReady = resolve));

  const of = (scenario: string): Series => {
    let s = series.get(scenario);
    if (!s) {
      s = { requests: 0, errors: 0, dropped: 0, activeVus: 0, buckets: new Array<number>(bounds.length + 1).fill(0), count: 0, sumMs: 0 };
      series.set(scenario, s);
    }
    return s;
  };

  const render = (): string => {
    const out: string[] = [];
    const family = (name: string, type: string, help: string, line: (label: string, s: Series) => string[]) => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [scenario, s] of series) out.push(...line(`scenario="${escape(scenario)}"`, s));
    };
    family('crucible_requests_total', 'counter', 'Iterations completed in the measured phase.', (l, s) => [`crucible_requests_total{${l}} ${s.requests}`]);
    family('crucible_errors_total', 'counter', 'Iterations that failed.', (l, s) => [`crucible_errors_total{${l}} ${s.errors}`]);
    family('crucible_dropped_iterations_total', 'counter', 'Iterations the schedule could not start (every VU busy).', (l, s) => [`crucible_dropped_iterations_total{${l}} ${s.dropped}`]);
    family('crucible_active_vus', 'gauge', 'VUs busy at the end of the last second.', (l, s) => [`crucible_active_vus{${l}} ${s.activeVus}`]);
    family('crucible_latency_ms', 'histogram', 'Iteration latency, ms (from the intended start in open models).', (l, s) => [
      ...bounds.map((b, i) => `crucible_latency_ms_bucket{${l},le="${b}"} ${s.buckets[i]}`),
      `crucible_latency_ms_bucket{${l},le="+Inf"} ${s.count}`,
      `crucible_latency_ms_sum{${l}} ${Math.round(s.sumMs * 1000) / 1000}`,
      `crucible_latency_ms_count{${l}} ${s.count}`,
    ]);
    return out.join('\n') + '\n';
  };

  return {
    name: 'prometheus',
    ready,
    url: () => address,
    attach(events: EngineEvents) {
      events.on('tick', (t) => {
        lastTickAt = Date.now();
        const s = of(t.scenario);
        s.requests += t.requests;
        s.errors += t.errors;
        s.dropped += t.dropped;
        s.activeVus = t.activeVus;
        if (t.requests === 0) return;
        const h = decodeHistogram(t.histogram);
        try {
          for (const [us, n] of recordedValues(h)) {
            const ms = us / 1000;
            s.count += n;
            s.sumMs += ms * n;
            // Cumulative, as Prometheus buckets are: a value counts in every bucket at or above it.
            for (let i = 0; i < bounds.length; i++) if (ms <= (bounds[i] as number)) s.buckets[i] = (s.buckets[i] as number) + n;
          }
        } finally {
          h.destroy();
        }
      });
      server = createServer((req, res) => {
        if (req.url?.split('?')[0] !== '/metrics') {
          res.writeHead(404).end('only /metrics here\n');
          return;
        }
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
        res.end(render());
        lastScrapeAt = Date.now();
      });
      const host = options.host ?? '127.0.0.1';
      server.listen(options.port ?? 0, host, () => {
        const { port } = (server as Server).address() as AddressInfo;
        address = `http://${host}:${port}/metrics`;
        markReady();
      });
    },
    async close() {
      const wait = options.finalScrapeWaitMs ?? 0;
      for (const end = Date.now() + wait; lastScrapeAt > 0 && lastScrapeAt <= lastTickAt && Date.now() < end; ) await new Promise((r) => setTimeout(r, 100));
      return new Promise<void>((resolve) => {
        if (!server) return resolve();
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };
}
