/**
 * The load generators the engine is compared with, each run the same way (one thread, a
 * closed loop over N keep-alive connections) against a server in its own process, and the
 * figures every comparison records: rate, latency percentiles, the generator's own CPU per
 * request, and the machine's load average before and after. Used by vs-autocannon.ts and
 * accuracy.ts; not run in CI.
 */
import { execFile, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
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
  /** 1-minute load average before and after the run (it counts the benchmark itself too). */
  readonly loadBefore: number;
  readonly loadAfter: number;
  /**
   * Cores the rest of the machine used during the run: all busy CPU time (/proc/stat) minus
   * the generator's and the server's, over the wall time. Unlike the load average, which the
   * benchmark's own two busy processes push to ~2, this says whether someone else took CPU.
   */
  othersCores: number;
}

/** Busy CPU seconds of the whole machine so far (/proc/stat: all but idle and iowait). */
export function machineBusyS(): number {
  const f = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = f;
  return (user + nice + system + irq + softirq + steal) / 100;
}

/** CPU seconds (user + system) process `pid` has used so far (/proc/<pid>/stat). */
export function cpuOfPid(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** The pid of the server the figures' "others" leave out (set by {@link startServer}). */
let serverPid: number | undefined;

/**
 * A raw TCP server that answers every request head it finds with the same canned 200 (no
 * HTTP parsing, no objects): a few µs per request, so the generator, not the server, is what
 * runs out of CPU, and the rates compare the generators.
 */
export const RAW_SERVER = `
const net = require('node:net');
const body = JSON.stringify({ ok: true, service: 'bare' });
const answer = Buffer.from('HTTP/1.1 200 OK\\r\\ncontent-type: application/json\\r\\ncontent-length: ' + body.length + '\\r\\nkeep-alive: timeout=60\\r\\n\\r\\n' + body);
const END = Buffer.from('\\r\\n\\r\\n');
const server = net.createServer((s) => {
  s.setNoDelay(true);
  let rest = Buffer.alloc(0);
  s.on('data', (d) => {
    const buf = rest.length ? Buffer.concat([rest, d]) : d;
    let i = 0, n = 0, at;
    while ((at = buf.indexOf(END, i)) >= 0) { n++; i = at + 4; }
    rest = i < buf.length ? buf.subarray(i) : Buffer.alloc(0);
    if (n === 1) s.write(answer); else if (n > 1) s.write(Buffer.concat(Array(n).fill(answer)));
  });
  s.on('error', () => {});
});
server.listen(0, '127.0.0.1', () => process.send(server.address().port));
`;

/** Measures `fn`: wall time, this process's CPU (µs) and the other processes' cores. */
async function measure<T>(fn: () => Promise<T>, childCpuS: (value: T) => number = () => 0): Promise<{ value: T; cpuUs: number; othersCores: number }> {
  const t0 = performance.now();
  const busy0 = machineBusyS();
  const server0 = serverPid ? cpuOfPid(serverPid) : 0;
  const before = process.cpuUsage();
  const value = await fn();
  const used = process.cpuUsage(before);
  const server = serverPid ? cpuOfPid(serverPid) - server0 : 0;
  const own = (used.user + used.system) / 1e6 + childCpuS(value);
  const wall = (performance.now() - t0) / 1000;
  return { value, cpuUs: used.user + used.system, othersCores: Math.max(0, (machineBusyS() - busy0 - own - server) / wall) };
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
  serverPid = child.pid;
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


/** The crucible engine: constant VUs, one per connection, latency from the send. */
export async function viaEngine(url: string, connections: number, durationS: number, path = '/'): Promise<Figures> {
  const loadBefore = load1();
  const { value: result, cpuUs, othersCores } = await measure(() =>
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
  const figures = { rps: s.requests / s.durationS, p50: q(50), p90: q(90), p95: q(95), p99: q(99), cpuUsPerReq: cpuUs / s.requests, loadBefore, loadAfter: load1(), othersCores };
  h.destroy();
  return figures;
}

/** autocannon 8 (as a library, in this process; it reports whole milliseconds). */
export async function viaAutocannon(url: string, connections: number, durationS: number, path = '/'): Promise<Figures> {
  const loadBefore = load1();
  const { value: r, cpuUs, othersCores } = await measure(() => autocannon({ url: url + path, connections, duration: durationS, pipelining: 1 }));
  return { rps: r.requests.total / durationS, p50: r.latency.p50, p90: r.latency.p90, p95: r.latency.p97_5 ?? Number.NaN, p99: r.latency.p99, cpuUsPerReq: cpuUs / r.requests.total, loadBefore, loadAfter: load1(), othersCores };
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
  const run = () =>
    execFileP('sh', ['-c', `wrk -t1 -c${connections} -d${durationS}s --latency ${url}${path} && times`], { maxBuffer: 1 << 20 }).catch((e: unknown) => {
      throw new Error(`wrk failed (install it with \`npx nx run tools:install-wrk\`, or leave it out with --tools=engine,autocannon): ${String(e)}`);
    });
  // `times` prints the shell's user/sys, then its children's (wrk's): "0m1.234s 0m2.345s".
  const wrkCpuS = (stdout: string) =>
    ((stdout.trim().split('\n').at(-1) ?? '').match(/(\d+)m([\d.]+)s/g) ?? []).reduce((a, t) => {
      const m = /(\d+)m([\d.]+)s/.exec(t);
      return a + (m ? Number(m[1]) * 60 + Number(m[2]) : 0);
    }, 0);
  const { value, othersCores } = await measure(run, (v) => wrkCpuS(v.stdout));
  const stdout = value.stdout;
  const total = Number(/(\d+) requests in/.exec(stdout)?.[1] ?? Number.NaN);
  const pct = (p: string) => wrkMs(new RegExp(`^\\s+${p}%\\s+(\\S+)`, 'm').exec(stdout)?.[1] ?? '');
  return { rps: total / durationS, p50: pct('50'), p90: pct('90'), p95: Number.NaN, p99: pct('99'), cpuUsPerReq: (wrkCpuS(stdout) * 1e6) / total, loadBefore, loadAfter: load1(), othersCores };
}

/** Median of `xs`. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}
