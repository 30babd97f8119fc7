/**
 * Does speed cost accuracy? Each generator's p50/p90/p95/p99 against a server whose latency
 * distribution is known because the server times every answer itself.
 *
 *   npm run perf:accuracy -w @crucible/load-engine -- [--duration=10] [--connections=50] [--rates=1000,4000]
 *
 * The server (own process) delays request k by a quantile function of a low-discrepancy
 * sequence — 85 % spread over 4–6 ms, 15 % over 40–60 ms — so every measured percentile lies
 * where the distribution is smooth (at a step, such as the example "90 % at 5 ms,
 * 10 % at 50 ms" at p90, a percentile jumps between the two values on one request more or
 * less and no comparison means anything). It records the time from its `request` event to the
 * answer's `finish` in an HDR histogram, reset before and read after each tool's run over
 * IPC: that is the truth. A tool is accurate when each percentile is within 3 % or 0.3 ms of
 * it (the client's figure also holds the loopback round trip, which the server cannot see).
 * Closed loop: engine, autocannon, wrk; open model (constant arrival rate, latency from the
 * intended start): the engine at each of `--rates`. Prints Markdown. Not run in CI.
 */
import { commandLineOrExit, decodeHistogram, wholeArg } from '@crucible/instrument-kit';
import { constantArrivalRate } from '../executors.js';
import { run } from '../runner.js';
import { scenario } from '../scenario.js';
import { load1, startServer, viaAutocannon, viaEngine, viaWrk, type Figures } from './tools.js';

const { duration, connections, rates } = commandLineOrExit(
  process.argv.slice(2),
  {
    usage: 'npm run perf:accuracy -w @crucible/load-engine --',
    flags: {
      duration: { type: 'string', value: '<s>', description: 'seconds per measurement (default 10)' },
      connections: { type: 'string', value: '<n>', description: 'connections of the closed loops (default 50)' },
      rates: { type: 'string', value: '<list>', description: 'open-model rates per second, comma-separated (default 1000,4000)' },
    },
  },
  (values) => ({
    duration: wholeArg('--duration', values.duration, 10, 3600),
    connections: wholeArg('--connections', values.connections, 50, 10_000),
    rates: (values.rates ?? '1000,4000').split(',').map((r, i) => wholeArg(`--rates[${i}]`, r, 1000, 100_000)),
  }),
);

const SERVER = `
const http = require('node:http');
const hdr = require('hdr-histogram-js');
const make = () => hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60e9, numberOfSignificantValueDigits: 3 });
let h = make();
let k = 0;
const PHI = 0.6180339887498949;
function delayMs(n) {
  const u = (n * PHI) % 1;
  return u < 0.85 ? 4 + 2 * (u / 0.85) : 40 + 20 * ((u - 0.85) / 0.15);
}
const server = http.createServer((req, res) => {
  const t0 = process.hrtime.bigint();
  res.on('finish', () => h.recordValue(Number(process.hrtime.bigint() - t0)));
  // libuv timers count whole milliseconds from the loop's clock, so the real delays are
  // smeared around the asked ones: the server's own clock, not the asked delay, is the truth.
  setTimeout(() => res.end('ok'), delayMs(k++));
});
server.keepAliveTimeout = 60000;
process.on('message', (m) => {
  if (m === 'reset') { h = make(); process.send({ reset: true }); }
  else if (m === 'report') process.send({ n: h.totalCount, p50: h.getValueAtPercentile(50) / 1e6, p90: h.getValueAtPercentile(90) / 1e6, p95: h.getValueAtPercentile(95) / 1e6, p99: h.getValueAtPercentile(99) / 1e6 });
});
server.listen(0, '127.0.0.1', () => process.send(server.address().port));
`;

type Truth = { n: number; p50: number; p90: number; p95: number; p99: number };
const server = await startServer(SERVER);

function ask<T>(message: string, key: string): Promise<T> {
  return new Promise((resolve) => {
    const on = (m: unknown) => {
      if (m && typeof m === 'object' && key in m) {
        server.child.off('message', on);
        resolve(m as T);
      }
    };
    server.child.on('message', on);
    server.child.send(message);
  });
}

async function measured(fn: () => Promise<Figures>): Promise<{ tool: Figures; truth: Truth }> {
  await ask('reset', 'reset');
  const tool = await fn();
  return { tool, truth: await ask<Truth>('report', 'n') };
}

async function openModel(rate: number): Promise<Figures> {
  const loadBefore = load1();
  const maxVUs = Math.ceil(rate * 0.12) + 50; // the slowest answer (60 ms) twice over, and some
  const result = await run(scenario({ name: 'open', executor: constantArrivalRate({ rate, duration: `${duration}s`, preAllocatedVUs: maxVUs, maxVUs }), connections: maxVUs, request: (ctx) => ctx.http.request({ path: '/' }) }), { baseUrl: server.url });
  const s = result.scenarios[0];
  if (!s) throw new Error('no result');
  const h = decodeHistogram(s.histogram as string);
  const q = (p: number) => h.getValueAtPercentile(p) / 1000;
  const f = { rps: s.requests / s.durationS, p50: q(50), p90: q(90), p95: q(95), p99: q(99), cpuUsPerReq: Number.NaN, loadBefore, loadAfter: load1(), othersCores: Number.NaN };
  h.destroy();
  if (s.dropped > 0 || s.successes !== s.requests) process.stderr.write(`open ${rate}/s: ${s.dropped} dropped, ${s.requests - s.successes} failed\n`);
  return f;
}

const row = (name: string, { tool, truth }: { tool: Figures; truth: Truth }): string => {
  const cell = (p: 'p50' | 'p90' | 'p95' | 'p99') => {
    const got = tool[p];
    const want = truth[p];
    if (!Number.isFinite(got)) return `— (${want.toFixed(2)})`;
    const err = got - want;
    const ok = Math.abs(err) <= 0.3 || Math.abs(err) <= 0.03 * want;
    return `${got.toFixed(2)} (${want.toFixed(2)}, ${err >= 0 ? '+' : ''}${err.toFixed(2)}) ${ok ? '✓' : '✗'}`;
  };
  return `| ${name} | ${tool.rps.toFixed(0)} | ${cell('p50')} | ${cell('p90')} | ${cell('p95')} | ${cell('p99')} | ${tool.loadBefore.toFixed(2)}→${tool.loadAfter.toFixed(2)} |`;
};

try {
  await viaEngine(server.url, connections, 2); // warm-up (JIT, connections)
  const lines = [
    `Server-timed truth: 85 % over 4–6 ms, 15 % over 40–60 ms; ${duration} s per run. Each cell: the tool's figure (the server's truth for the same run, error) and ✓ when within 3 % or 0.3 ms.`,
    '',
    '| tool, load | req/s | p50 ms | p90 ms | p95 ms | p99 ms | load before→after |',
    '|---|---:|---:|---:|---:|---:|---:|',
    row(`engine, closed loop ${connections} VUs`, await measured(() => viaEngine(server.url, connections, duration))),
    row(`autocannon 8, ${connections} connections (whole ms; p95 column is its p97.5)`, await measured(() => viaAutocannon(server.url, connections, duration))),
    row(`wrk 4.1 -t1, ${connections} connections (no p95)`, await measured(() => viaWrk(server.url, connections, duration))),
  ];
  for (const rate of rates) lines.push(row(`engine, open model ${rate}/s`, await measured(() => openModel(rate))));
  process.stdout.write(`${lines.join('\n')}\n`);
} finally {
  server.stop();
}
