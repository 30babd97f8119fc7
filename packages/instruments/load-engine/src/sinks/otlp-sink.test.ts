import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../tests/test-servers.js';
import { constantArrivalRate } from '../executors.js';
import { scenario } from '../scenario.js';
import { openSession } from '../session.js';
import { OTLP_METRICS, otlpSink } from './otlp-sink.js';

/**
 * The OTLP sink against a real OpenTelemetry Collector (otlp receiver → file exporter, built
 * from tools/otelcol by `tools:install-otelcol`, which this project's test target depends on):
 * what the collector received must be what the report says, per scenario and per tag; a
 * collector that is gone must neither hang nor crash the run.
 */
const OTELCOL = process.env['OTELCOL_BIN'] ?? fileURLToPath(new URL('../../../../../.tools/bin/crucible-otelcol', import.meta.url));

let collector: ChildProcess | undefined;
let dir: string | undefined;
afterAll(async () => {
  collector?.kill('SIGKILL');
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Starts the collector on a free port; resolves with its OTLP/HTTP URL and the file it writes. */
async function startCollector(): Promise<{ url: string; file: string }> {
  if (!existsSync(OTELCOL)) throw new Error(`no collector at ${OTELCOL}: run \`bash tools/install-otelcol.sh\``);
  dir = await mkdtemp(path.join(os.tmpdir(), 'crucible-otelcol-'));
  const port = await freePort();
  const file = path.join(dir, 'metrics.jsonl');
  // No telemetry server of its own (it would take :8888 from a neighbour); the file flushed every 100 ms.
  const config = [
    'receivers: { otlp: { protocols: { http: { endpoint: "127.0.0.1:' + port + '" } } } }',
    'exporters: { file: { path: "' + file + '", flush_interval: 100ms } }',
    'service:',
    '  telemetry: { metrics: { level: none }, logs: { level: warn } }',
    '  pipelines: { metrics: { receivers: [otlp], exporters: [file] } }',
  ].join('\n');
  await writeFile(path.join(dir, 'config.yaml'), config + '\n');
  let output = '';
  collector = spawn(OTELCOL, [`--config=${path.join(dir, 'config.yaml')}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  collector.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  collector.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const url = `http://127.0.0.1:${port}/v1/metrics`;
  for (const end = Date.now() + 30_000; Date.now() < end; await new Promise((r) => setTimeout(r, 200))) {
    if (collector.exitCode !== null) throw new Error(`collector exited ${collector.exitCode}: ${output}`);
    // The receiver answers a GET on its path with 405 once it listens.
    if (await fetch(url).then(() => true, () => false)) return { url, file };
  }
  throw new Error(`collector did not listen within 30 s: ${output}`);
}

interface Point {
  readonly attributes: Record<string, string>;
  readonly value: number;
}
type OtlpValue = { stringValue?: string; intValue?: string; doubleValue?: number };
interface OtlpPoint {
  attributes?: { key: string; value: OtlpValue }[];
  asInt?: string;
  asDouble?: number;
  count?: string;
}
interface OtlpMetric {
  name: string;
  sum?: { dataPoints: OtlpPoint[]; aggregationTemporality: number; isMonotonic?: boolean };
  exponentialHistogram?: { dataPoints: OtlpPoint[] };
  histogram?: unknown;
}

interface OtlpResourceMetrics {
  resource?: { attributes?: { key: string; value: OtlpValue }[] };
  scopeMetrics: { metrics: OtlpMetric[] }[];
}

/** Every metric the collector wrote from one sink (by its `crucible.sink` resource attribute), export by export (one JSON line each), in order. */
async function exported(file: string, sink: string): Promise<OtlpMetric[][]> {
  const text = existsSync(file) ? await readFile(file, 'utf8') : '';
  const mine = (r: OtlpResourceMetrics) => r.resource?.attributes?.some((a) => a.key === 'crucible.sink' && a.value.stringValue === sink) === true;
  // Whole lines only: the exporter may be writing the last one as we read.
  return text
    .split('\n')
    .slice(0, -1)
    .filter((l) => l.trim() !== '')
    .map((l) => (JSON.parse(l) as { resourceMetrics: OtlpResourceMetrics[] }).resourceMetrics.filter(mine).flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics)))
    .filter((metrics) => metrics.length > 0);
}

/** The last value of each series of a metric (cumulative: the last export holds the totals). */
function finalValues(exports: OtlpMetric[][], name: string): Point[] {
  const last = new Map<string, Point>();
  for (const metrics of exports) {
    for (const m of metrics.filter((x) => x.name === name)) {
      for (const p of m.sum?.dataPoints ?? m.exponentialHistogram?.dataPoints ?? []) {
        const attributes = Object.fromEntries((p.attributes ?? []).map((a) => [a.key, a.value.stringValue ?? String(a.value.intValue ?? a.value.doubleValue)]));
        last.set(JSON.stringify(attributes), { attributes, value: Number(p.asInt ?? p.asDouble ?? p.count) });
      }
    }
  }
  return [...last.values()];
}

const byKey = (points: Point[], key: string) => Object.fromEntries(points.map((p) => [p.attributes[key] ?? '', p.value]));

describe('otlpSink, received by a real OpenTelemetry Collector', { timeout: 120_000 }, () => {
  // Known outcomes: GET /fail always answers 500, GET /ok 200.
  const counts = { ok: 0, fail: 0 };
  const server = http.createServer((req, res) => {
    const fail = req.url === '/fail';
    counts[fail ? 'fail' : 'ok']++;
    res.writeHead(fail ? 500 : 200).end('{}');
  });
  const started = new Promise<string>((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });
  const scenarios = () => {
    let i = 0;
    const alpha = scenario({
      name: 'alpha',
      executor: constantArrivalRate({ rate: 30, duration: '3s', preAllocatedVUs: 10, maxVUs: 20 }),
      // Every third iteration hits GET /fail: errors and the endpoint split are known in advance.
      request: (ctx) => {
        const fail = i++ % 3 === 2;
        return ctx.http.request({ path: fail ? '/fail' : '/ok', tags: { endpoint: fail ? 'GET /fail' : 'GET /ok' } });
      },
    });
    const beta = scenario({
      name: 'beta',
      tags: { team: 'b' },
      executor: constantArrivalRate({ rate: 20, duration: '3s', preAllocatedVUs: 10, maxVUs: 20 }),
      request: (ctx) => ctx.http.request({ path: '/ok', tags: { endpoint: 'GET /ok' } }),
    });
    return [alpha, beta];
  };
  let collectorUrl = '';

  it("exports counters and exponential histograms per scenario and per tag that end at the report's figures, flushed on close", async () => {
    const { url, file } = await startCollector();
    collectorUrl = url;
    const sink = otlpSink({ url, intervalMs: 1000, timeoutMs: 5000, resource: { 'crucible.sink': 'periodic' } });
    // A second sink whose interval the run never reaches: all it sends is the flush on close.
    const closeOnly = otlpSink({ url, intervalMs: 600_000, resource: { 'crucible.sink': 'close-only' } });
    const session = openSession({ baseUrl: await started, sinks: [sink, closeOnly] });
    let result;
    try {
      result = await session.run(scenarios());
    } finally {
      await session.close();
    }
    const status = sink.status();
    expect(status, JSON.stringify(status)).toMatchObject({ failed: 0, finalFlushOk: true });
    // Periodic exports while the run went, then the flush on close.
    expect(status.exports).toBeGreaterThanOrEqual(2);
    const report = Object.fromEntries(result.scenarios.map((s) => [s.name, s]));
    const alpha = report['alpha'];
    const beta = report['beta'];
    expect(alpha?.requests).toBeGreaterThan(60);
    const errorsOf = (name: string) => (report[name]?.requests ?? 0) - (report[name]?.successes ?? 0);
    expect(errorsOf('alpha')).toBe(alpha?.breakdown?.entries['GET /fail']?.requests);
    expect(counts.fail).toBe(errorsOf('alpha'));

    // The file exporter flushes every 100 ms: wait for the totals, by count.
    let exports: OtlpMetric[][] = [];
    for (const end = Date.now() + 15_000; Date.now() < end; await new Promise((r) => setTimeout(r, 200))) {
      exports = await exported(file, 'periodic');
      const flushed = await exported(file, 'close-only');
      if (byKey(finalValues(exports, OTLP_METRICS.requests), 'scenario')['alpha'] === alpha?.requests && flushed.length > 0) break;
    }
    // The flush on close alone carries the totals.
    expect(closeOnly.status()).toMatchObject({ exports: 1, failed: 0, finalFlushOk: true });
    const flushed = await exported(file, 'close-only');
    expect(flushed.length).toBe(1);
    expect(byKey(finalValues(flushed, OTLP_METRICS.requests), 'scenario')).toEqual({ alpha: alpha?.requests, beta: beta?.requests });
    expect(byKey(finalValues(flushed, OTLP_METRICS.latency), 'scenario')).toEqual({ alpha: alpha?.requests, beta: beta?.requests });
    expect(exports.length).toBeGreaterThanOrEqual(2);
    expect(byKey(finalValues(exports, OTLP_METRICS.requests), 'scenario')).toEqual({ alpha: alpha?.requests, beta: beta?.requests });
    expect(byKey(finalValues(exports, OTLP_METRICS.errors), 'scenario')).toEqual({ alpha: errorsOf('alpha'), beta: 0 });
    expect(errorsOf('beta')).toBe(0);
    expect(byKey(finalValues(exports, OTLP_METRICS.latency), 'scenario')).toEqual({ alpha: alpha?.requests, beta: beta?.requests });
    // A scenario's own tags go along as attributes.
    expect(finalValues(exports, OTLP_METRICS.requests).find((p) => p.attributes['scenario'] === 'beta')?.attributes).toEqual({ scenario: 'beta', team: 'b' });
    // Counters are cumulative and monotonic; latency is an exponential histogram, not explicit buckets.
    const kinds = exports.flat().filter((m) => m.name === OTLP_METRICS.requests || m.name === OTLP_METRICS.latency);
    expect(kinds.every((m) => (m.name === OTLP_METRICS.requests ? m.sum?.aggregationTemporality === 2 && m.sum.isMonotonic === true : m.exponentialHistogram !== undefined))).toBe(true);

    // Per tag (the breakdown by endpoint): the report's rows.
    const perTag = (name: string) => Object.fromEntries(finalValues(exports, name).map((p) => [`${p.attributes['scenario']} ${p.attributes['endpoint']}`, p.value]));
    const rows = (pick: (e: { requests: number; errors: number }) => number) =>
      Object.fromEntries(result.scenarios.flatMap((s) => Object.entries(s.breakdown?.entries ?? {}).map(([k, e]) => [`${s.name} ${k}`, pick(e)])));
    expect(Object.keys(rows((e) => e.requests)).sort()).toEqual(['alpha GET /fail', 'alpha GET /ok', 'beta GET /ok']);
    expect(perTag(OTLP_METRICS.tagRequests)).toEqual(rows((e) => e.requests));
    expect(perTag(OTLP_METRICS.tagErrors)).toEqual(rows((e) => e.errors));
    expect(perTag(OTLP_METRICS.tagLatency)).toEqual(rows((e) => e.requests));
    expect(perTag(OTLP_METRICS.tagErrors)['alpha GET /fail']).toBe(counts.fail);
  });

  it('a collector that is gone (stopped mid-session) neither hangs nor crashes the run: it finishes and the status says the export failed', async () => {
    // Planted fault: the collector of the test above, killed, so its port is closed.
    const url = collectorUrl || `http://127.0.0.1:${await freePort()}/v1/metrics`;
    collector?.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 100));
    const timeoutMs = 1000;
    const sink = otlpSink({ url, intervalMs: 1000, timeoutMs });
    const session = openSession({ baseUrl: await started, sinks: [sink] });
    const before = Date.now();
    let result;
    try {
      result = await session.run(scenarios());
    } finally {
      await session.close();
    }
    const status = sink.status();
    expect(result.scenarios.map((s) => s.requests > 30)).toEqual([true, true]);
    expect(status, JSON.stringify(status)).toMatchObject({ url, finalFlushOk: false });
    expect(status.failed).toBeGreaterThanOrEqual(1);
    expect(status.lastError).toMatch(/ECONNREFUSED|connect|no answer/i);
    // Bounded by the export timeout, not hung: the 3 s run plus at most the sink's close limit (2 × timeout + 1 s) and slack for a loaded machine.
    expect(Date.now() - before).toBeLessThan(3000 + (2 * timeoutMs + 1000) + 10_000);
  });
});
