/**
 * The load generators the engine is compared with, each run the same way (one thread, a
 * closed loop over N keep-alive connections) against a server in its own process, and the
 * figures every comparison records: rate, latency percentiles, the generator's own CPU per
 * request, and the machine's load average before and after. Used by vs-autocannon.ts and
 * accuracy.ts; not run in CI.
 */
import { execFile, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import autocannon from 'autocannon';
import { decodeHistogram } from '@crucible/instrument-kit';
import { constantVUs } from '../executors.js';
import { run } from '../runner.js';
import { scenario } from '../scenario.js';

/** What one run of one tool measured. */
export interface Figures {
  readonly rps: number;
  /** Latency percentiles (ms) as the tool reports them. */
  readonly p50: number;
  readonly p90: number;
  readonly p95: number;
  readonly p99: number;
  /** CPU time of the generator (user + system) per request, µs. */
  readonly cpuUsPerReq: number;
  /** 1-minute load average before and after the run. */
  readonly loadBefore: number;
  readonly loadAfter: number;
}

/** The 1-minute load average, from /proc/loadavg. */
export function load1(): number {
  return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
}

/** Starts `code` (CommonJS; it sends its port over IPC) in its own process. */
export async function startServer(code: string, env: Record<string, string> = {}): Promise<{ url: string; child: ReturnType<typeof fork>; stop: () => void }> {
  const child = fork('-e', [code], { execArgv: [], env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m) => resolve(Number(m)));
    child.once('exit', (c) => reject(new Error(`server exited with ${c}`)));
  });
  return { url: `http://127.0.0.1:${port}`, child, stop: () => child.kill() };
}

/** A bare node:http server answering a 30-byte JSON body (the closed-loop rate target). */
export const BARE_SERVER = `
const http = require('node:http');
const body = JSON.stringify({ ok: true, service: 'bare' });
const server = http.createServer((req, res) => { res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }); res.end(body); });
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => process.send(server.address().port));
`;

/** Runs `fn` measuring this process's CPU time over it (µs). */
async function withCpu<T>(fn: () => Promise<T>): Promise<{ value: T; cpuUs: number }> {
  const before = process.cpuUsage();
  const value = await fn();
  const used = process.cpuUsage(before);
  return { value, cpuUs: used.user + used.system };
}

/** The crucible engine: constant VUs, one per connection, latency from the send. */
export async function viaEngine(url: string, connections: number, durationS: number, path = '/'): Promise<Figures> {
  const loadBefore = load1();
  const { value: result, cpuUs } = await withCpu(() =>
    run(
      scenario({
        name: 'bench',
        executor: constantVUs({ vus: connections, duration: `${durationS}s` }),
        connections,
        request: (ctx) => ctx.http.request({ path }),
        checks: { 'status is 200': (res) => res.status === 200 },
      }),
      { baseUrl: url },
    ),
  );
  const s = result.scenarios[0];
  if (!s || s.successes !== s.requests) throw new Error(`engine run had errors: ${JSON.stringify(s?.errors)}`);
  const h = decodeHistogram(s.histogram as string);
  const q = (p: number) => h.getValueAtPercentile(p) / 1000;
  const figures = { rps: s.requests / s.durationS, p50: q(50), p90: q(90), p95: q(95), p99: q(99), cpuUsPerReq: cpuUs / s.requests, loadBefore, loadAfter: load1() };
  h.destroy();
  return figures;
}

/** autocannon 8 (as a library, in this process; it reports whole milliseconds). */
export async function viaAutocannon(url: string, connections: number, durationS: number, path = '/'): Promise<Figures> {
  const loadBefore = load1();
  const { value: r, cpuUs } = await withCpu(() => autocannon({ url: url + path, connections, duration: durationS, pipelining: 1 }));
  return { rps: r.requests.total / durationS, p50: r.latency.p50, p90: r.latency.p90, p95: r.latency.p97_5 ?? Number.NaN, p99: r.latency.p99, cpuUsPerReq: cpuUs / r.requests.total, loadBefore, loadAfter: load1() };
}

const execFileP = promisify(execFile);

/** `12.5us`, `3.4ms`, `1.2s` → ms. */
function wrkMs(v: string): number {
  const m = /^([\d.]+)(us|ms|s)$/.exec(v.trim());
  if (!m) return Number.NaN;
  const n = Number(m[1]);
  return m[2] === 'us' ? n / 1000 : m[2] === 's' ? n * 1000 : n;
}

/** wrk 4 (C, one thread: `-t1`), its CPU read from the shell's `times` after it exits. */
export async function viaWrk(url: string, connections: number, durationS: number, path = '/'): Promise<Figures> {
  const loadBefore = load1();
  const { stdout } = await execFileP('sh', ['-c', `wrk -t1 -c${connections} -d${durationS}s --latency ${url}${path} && times`], { maxBuffer: 1 << 20 }).catch((e: unknown) => {
    throw new Error(`wrk failed (install it with \`npx nx run tools:install-wrk\`, or leave it out with --tools=engine,autocannon): ${String(e)}`);
  });
  const total = Number(/(\d+) requests in/.exec(stdout)?.[1] ?? Number.NaN);
  const pct = (p: string) => wrkMs(new RegExp(`^\\s+${p}%\\s+(\\S+)`, 'm').exec(stdout)?.[1] ?? '');
  // `times` prints the shell's user/sys, then its children's: "0m1.234s 0m2.345s".
  const lines = stdout.trim().split('\n');
  const children = (lines.at(-1) ?? '').match(/(\d+)m([\d.]+)s/g) ?? [];
  const cpuS = children.reduce((a, t) => {
    const m = /(\d+)m([\d.]+)s/.exec(t);
    return a + (m ? Number(m[1]) * 60 + Number(m[2]) : 0);
  }, 0);
  return { rps: total / durationS, p50: pct('50'), p90: pct('90'), p95: Number.NaN, p99: pct('99'), cpuUsPerReq: (cpuS * 1e6) / total, loadBefore, loadAfter: load1() };
}

/** Median of `xs`. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}
