import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../tests/test-servers.js';
import { constantArrivalRate } from './executors.js';
import { scenario } from './scenario.js';
import { openSession } from './session.js';
import { prometheusSink } from './sinks/prometheus-sink.js';

/**
 * The Prometheus sink against a real Prometheus server (Debian's 2.42, put in place by
 * `tools:install-prometheus`, which this project's test target depends on) scraping a run
 * every second: what Prometheus stored must be what the report says.
 */
const PROMETHEUS = process.env['PROMETHEUS'] ?? 'prometheus';

let prometheus: ChildProcess | undefined;
let dir: string | undefined;
afterAll(async () => {
  prometheus?.kill('SIGKILL');
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function startPrometheus(target: string): Promise<string> {
  dir = await mkdtemp(path.join(os.tmpdir(), 'crucible-prom-'));
  const port = await freePort();
  const url = new URL(target);
  const config = `global: { scrape_interval: 1s, scrape_timeout: 900ms }\nscrape_configs:\n  - job_name: crucible\n    metrics_path: ${url.pathname}\n    static_configs: [{ targets: ['${url.host}'] }]\n`;
  await writeFile(path.join(dir, 'prometheus.yml'), config);
  prometheus = spawn(PROMETHEUS, [`--config.file=${path.join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: 'ignore' });
  const api = `http://127.0.0.1:${port}`;
  for (const end = Date.now() + 20_000; Date.now() < end; await new Promise((r) => setTimeout(r, 200))) {
    if (prometheus.exitCode !== null) throw new Error(`prometheus exited ${prometheus.exitCode} (is ${PROMETHEUS} installed? bash tools/install-prometheus.sh)`);
    if (await fetch(`${api}/-/ready`).then((r) => r.ok, () => false)) return api;
  }
  throw new Error('prometheus did not become ready within 20 s');
}

/** The value Prometheus holds for an instant query, by scenario label. */
async function query(api: string, promql: string): Promise<Record<string, number>> {
  const body = (await (await fetch(`${api}/api/v1/query?query=${encodeURIComponent(promql)}`)).json()) as { data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
  return Object.fromEntries(body.data.result.map((r) => [r.metric['scenario'] ?? '', Number(r.value[1])]));
}

describe('prometheusSink, scraped by a real Prometheus', { timeout: 90_000 }, () => {
  it("stores per-scenario counters and a latency histogram that end at the report's totals", async () => {
    // Every 5th request answers 500; every 4th waits 300 ms (so the buckets below and above 200 ms
    // both fill, however loaded the machine: an immediate answer is not 200 ms late).
    let n = 0;
    const server = http.createServer((_req, res) => {
      const i = n++;
      const answer = () => res.writeHead(i % 5 === 4 ? 500 : 200).end('{}');
      if (i % 4 === 3) setTimeout(answer, 300);
      else answer();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const sink = prometheusSink();
    const session = openSession({ baseUrl: base, sinks: [sink] });
    try {
      await sink.ready;
      const api = await startPrometheus(sink.url() as string);
      // Its first scrape comes some seconds after it is ready: start the run once it has scraped us.
      for (const end = Date.now() + 20_000; Date.now() < end && (await query(api, 'up{job="crucible"}'))[''] !== 1; ) await new Promise((r) => setTimeout(r, 250));
      const s = scenario({ name: 'scraped', executor: constantArrivalRate({ rate: 40, duration: '4s', preAllocatedVUs: 10, maxVUs: 20 }), request: (ctx) => ctx.http.request({ path: '/' }) });
      const result = (await session.run(s)).scenarios[0];
      expect(result?.requests).toBeGreaterThan(100);
      const errors = (result?.requests ?? 0) - (result?.successes ?? 0);
      expect(errors).toBeGreaterThan(10);
      // Prometheus scrapes every second: wait for one scrape after the run's last tick.
      let seen: Record<string, number> = {};
      for (const end = Date.now() + 15_000; Date.now() < end; await new Promise((r) => setTimeout(r, 500))) {
        seen = await query(api, 'crucible_requests_total');
        if (seen['scraped'] === result?.requests) break;
      }
      expect(seen['scraped']).toBe(result?.requests);
      expect((await query(api, 'crucible_errors_total'))['scraped']).toBe(errors);
      expect((await query(api, 'crucible_latency_ms_count'))['scraped']).toBe(result?.requests);
      // Every 4th request waited 300 ms, so at most three in four are in the 200 ms bucket; every one is under +Inf; buckets only grow.
      const bucket = async (le: string) => (await query(api, `crucible_latency_ms_bucket{le="${le}"}`))['scraped'] ?? -1;
      const requests = result?.requests ?? 0;
      expect(await bucket('+Inf')).toBe(requests);
      const under200 = await bucket('200');
      expect(under200).toBeLessThanOrEqual(requests - Math.floor(requests / 4));
      expect(under200).toBeGreaterThan(requests / 4);
      expect(await bucket('10000')).toBeGreaterThanOrEqual(await bucket('500'));
      expect(await bucket('500')).toBeGreaterThanOrEqual(under200);
      expect(under200).toBeGreaterThanOrEqual(await bucket('20'));
      // Scraped while the run went (every second of its 4 s), not only once at the end: several samples, rising.
      expect((await query(api, 'count_over_time(crucible_requests_total[1m])'))['scraped']).toBeGreaterThanOrEqual(3);
      expect((await query(api, 'min_over_time(crucible_requests_total[1m])'))['scraped']).toBeLessThan(requests);
      // Every query of the Grafana dashboard (deploy/grafana) answers on this data, per scenario.
      const dashboard = JSON.parse(await readFile(new URL('../../../../deploy/grafana/crucible-run.json', import.meta.url), 'utf8')) as { panels: { title: string; targets: { expr: string }[] }[] };
      const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr.replaceAll('$__rate_interval', '15s')));
      expect(exprs.length).toBeGreaterThanOrEqual(5);
      for (const expr of exprs) expect(Object.keys(await query(api, expr)), expr).toEqual(['scraped']);
    } finally {
      await session.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
