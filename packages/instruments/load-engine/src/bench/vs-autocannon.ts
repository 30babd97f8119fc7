/**
 * The engine's request rate next to autocannon's against the same bare node:http server.
 *
 *   npm run perf -w @crucible/load-engine -- [--duration=10] [--connections=50] [--rounds=3] [--open=0.5]
 *
 * The server runs in its own process (so the two tools only share the CPU with it, not an
 * event loop); autocannon and the engine take turns, `rounds` times, each with one thread and
 * the same number of connections in a closed loop, latency measured from the send. Prints a
 * Markdown table (medians and spread) for docs/performance.md. Not run in CI.
 */
import { fork } from 'node:child_process';
import os from 'node:os';
import autocannon from 'autocannon';
import { commandLineOrExit, decodeHistogram, numberArg, summarizeHistogram, wholeArg } from '@crucible/instrument-kit';
import { constantArrivalRate, constantVUs } from '../executors.js';
import { run } from '../runner.js';
import type { ScenarioResult } from '../result.js';
import { scenario } from '../scenario.js';

/** Latency summary (ms) of a result's base64 HDR histogram. */
function summary(histogram: string | undefined) {
  if (!histogram) return null;
  const h = decodeHistogram(histogram);
  const out = summarizeHistogram(h);
  h.destroy();
  return out;
}

function errorRate(s: ScenarioResult): number {
  return s.requests === 0 ? 0 : (s.requests - s.successes) / s.requests;
}

const { duration, connections, rounds, openFraction } = commandLineOrExit(
  process.argv.slice(2),
  {
    usage: 'npm run perf -w @crucible/load-engine --',
    flags: {
      duration: { type: 'string', value: '<s>', description: 'seconds per measurement (default 10)' },
      connections: { type: 'string', value: '<n>', description: 'connections of both tools (default 50)' },
      rounds: { type: 'string', value: '<n>', description: 'turns of each tool (default 3)' },
      open: { type: 'string', value: '<0..1>', description: "the open model's rate as a fraction of the closed loop's (default 0.5)" },
    },
  },
  (values) => ({
    duration: wholeArg('--duration', values.duration, 10, 3600),
    connections: wholeArg('--connections', values.connections, 50, 10_000),
    rounds: wholeArg('--rounds', values.rounds, 3, 100),
    openFraction: numberArg('--open', values.open, 0.01, 1) ?? 0.5,
  }),
);

const SERVER = `
const http = require('node:http');
const body = JSON.stringify({ ok: true, service: 'bare' });
const server = http.createServer((req, res) => { res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }); res.end(body); });
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => process.send(server.address().port));
`;

interface Figures {
  rps: number;
  p50: number;
  p99: number;
}

async function startServer(): Promise<{ url: string; stop: () => void }> {
  const child = fork('-e', [SERVER], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  // fork('-e') runs the code given after it; the port comes back over IPC.
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m) => resolve(Number(m)));
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  return { url: `http://127.0.0.1:${port}`, stop: () => child.kill() };
}

async function viaAutocannon(url: string): Promise<Figures> {
  const r = await autocannon({ url, connections, duration, pipelining: 1 });
  return { rps: r.requests.total / duration, p50: r.latency.p50, p99: r.latency.p99 };
}

async function viaEngine(url: string): Promise<Figures> {
  const result = await run(
    scenario({
      name: 'bare',
      executor: constantVUs({ vus: connections, duration: `${duration}s` }),
      connections,
      request: (ctx) => ctx.http.request({ path: '/' }),
      checks: { 'status is 200': (res) => res.status === 200 },
    }),
    { baseUrl: url },
  );
  const s = result.scenarios[0];
  if (!s || errorRate(s) > 0) throw new Error(`engine run had errors: ${JSON.stringify(s?.errors)}`);
  const latency = summary(s.histogram);
  return { rps: s.requests / duration, p50: latency?.p50 ?? 0, p99: latency?.p99 ?? 0 };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

const fmt = (xs: number[], digits = 0): string => `${median(xs).toFixed(digits)} (${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)})`;

const server = await startServer();
try {
  // One short warm-up of each so neither pays for JIT and connection set-up in round 1.
  await autocannon({ url: server.url, connections, duration: 2 });
  await viaEngine(server.url).catch(() => undefined);
  const ac: Figures[] = [];
  const en: Figures[] = [];
  for (let i = 0; i < rounds; i++) {
    ac.push(await viaAutocannon(server.url));
    en.push(await viaEngine(server.url));
    process.stderr.write(`round ${i + 1}: autocannon ${ac.at(-1)?.rps.toFixed(0)} req/s, engine ${en.at(-1)?.rps.toFixed(0)} req/s\n`);
  }
  const ratios = en.map((e, i) => e.rps / (ac[i]?.rps ?? 1));
  // The open model at a fraction (--open, default 0.5) of the closed loop's rate: can it keep the schedule?
  const rate = Math.round((openFraction * median(en.map((f) => f.rps))) / 100) * 100;
  const open = await run(
    scenario({ name: 'open', executor: constantArrivalRate({ rate, duration: `${duration}s`, preAllocatedVUs: connections, maxVUs: connections * 4 }), connections, request: (ctx) => ctx.http.request({ path: '/' }) }),
    { baseUrl: server.url },
  );
  const o = open.scenarios[0];
  const oLatency = summary(o?.histogram);
  const oLag = summary(o?.lagHistogram);
  process.stdout.write(
    [
      `Bare node:http server (own process), ${connections} connections, closed loop, ${duration} s × ${rounds} rounds, one thread each; ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), Node ${process.version}, load average at end ${os.loadavg().map((l) => l.toFixed(1)).join('/')}.`,
      '',
      '| tool | req/s median (min–max) | p50 ms | p99 ms |',
      '|---|---:|---:|---:|',
      `| autocannon 8 | ${fmt(ac.map((f) => f.rps))} | ${fmt(ac.map((f) => f.p50), 2)} | ${fmt(ac.map((f) => f.p99), 2)} |`,
      `| crucible load-engine | ${fmt(en.map((f) => f.rps))} | ${fmt(en.map((f) => f.p50), 2)} | ${fmt(en.map((f) => f.p99), 2)} |`,
      '',
      `engine / autocannon: median ${median(ratios).toFixed(2)}× (per round: ${ratios.map((r) => r.toFixed(2)).join(', ')})`,
      '',
      `open model (constant arrival rate ${rate}/s for ${duration} s, latency from the intended start): achieved ${o && o.durationS > 0 ? (o.requests / o.durationS).toFixed(0) : 0} req/s, dropped ${o?.dropped}, p50 ${oLatency?.p50.toFixed(2)} ms, p99 ${oLatency?.p99.toFixed(2)} ms, start lag p99 ${oLag?.p99.toFixed(2)} ms`,
      '',
    ].join('\n'),
  );
} finally {
  server.stop();
}
