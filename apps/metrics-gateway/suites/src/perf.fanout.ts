// The fan-out half of the gateway benchmark (perf.ts): one publisher, `subscribers` clients
// on one channel, messages published as fast as the slowest subscriber takes them (a closed
// loop with `window` messages in flight), against the gateway and against a bare `ws`
// broadcast server (perf.raw-broadcast.mjs) in the same run.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { WebSocket } from 'ws';
import { cpuS } from './proc-stats.js';
import { nowMs, pool } from './ws-load.js';

/** One server to fan out through: where its clients connect, and its process for /proc. */
export interface FanOutTarget {
  readonly kind: 'gateway' | 'raw ws';
  /** WebSocket URL of the publisher (which carries the token where one is needed). */
  readonly publisherUrl: string;
  readonly subscriberUrl: string;
  readonly pid: number;
}

/** What one fan-out round measured. */
export interface FanOutFigures {
  readonly kind: FanOutTarget['kind'];
  readonly seconds: number;
  readonly published: number;
  /** Messages received by all subscribers per second. */
  readonly deliveredPerS: number;
  /** Server CPU (user + system, /proc) per second of the round. */
  readonly serverCores: number;
  /** Server CPU per delivered message, µs. */
  readonly usPerDelivery: number;
  /** Deliveries the subscribers saw out of order or missing (the gateway must have none). */
  readonly outOfOrder: number;
}

/** A round's shape. */
export interface FanOutShape {
  readonly subscribers: number;
  readonly window: number;
  readonly durationS: number;
}

const open = (url: string, headers: Record<string, string> = {}): Promise<WebSocket> =>
  new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers, perMessageDeflate: false });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });

/** Waits for the next message of `ws` that `accept` takes. */
const nextMessage = (ws: WebSocket, accept: (text: string) => boolean, timeoutMs = 10_000): Promise<void> =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no expected message within ${timeoutMs} ms`)), timeoutMs);
    const on = (data: Buffer) => {
      if (!accept(data.toString())) return;
      clearTimeout(timer);
      ws.off('message', on);
      resolve();
    };
    ws.on('message', on);
  });

/**
 * One round on `target`: connect, one second of warm-up at saturation, `durationS` measured,
 * close. The publisher sends while every subscriber is within `window` messages of it; each
 * message carries its number, which the subscribers check for order.
 */
export async function fanOutRound(target: FanOutTarget, shape: FanOutShape, runId: string): Promise<FanOutFigures> {
  const gateway = target.kind === 'gateway';
  const received = new Array<number>(shape.subscribers).fill(0);
  const last = new Array<number>(shape.subscribers).fill(-1);
  let outOfOrder = 0;
  const subs: WebSocket[] = [];
  await pool(
    Array.from({ length: shape.subscribers }, (_, i) => i),
    50,
    async (i) => {
      const ws = await open(target.subscriberUrl);
      if (gateway) {
        const ready = nextMessage(ws, (t) => t.includes('"subscribed"'));
        ws.send(JSON.stringify({ type: 'subscribe', run_id: runId }));
        await ready;
      }
      // The value is read from the text, not parsed: the subscriber's cost must not be what is measured.
      ws.on('message', (data: Buffer) => {
        const text = data.toString();
        const at = text.indexOf('"value":');
        if (at < 0) return;
        const n = Number.parseInt(text.slice(at + 8), 10);
        if (n !== (last[i] ?? -1) + 1) outOfOrder++;
        last[i] = n;
        received[i] = (received[i] ?? 0) + 1;
      });
      subs.push(ws);
    },
  );
  // No wait for the gateway's welcome: it may come in the upgrade's own packet, before a
  // listener could be added, and the gateway reads this connection's messages after it anyway.
  const publisher = await open(target.publisherUrl);
  let refused = 0;
  publisher.on('message', (data: Buffer) => {
    if (data.toString().includes('"error"')) refused++;
  });
  let published = 0;
  let stopped = false;
  const slowest = () => {
    let min = Infinity;
    for (const n of received) if (n < min) min = n;
    return min;
  };
  const pump = () => {
    if (stopped) return;
    const floor = slowest();
    while (published - floor < shape.window && publisher.bufferedAmount < 1 << 16) {
      publisher.send(JSON.stringify({ type: 'event', run_id: runId, event: { name: 'fan', value: published } }));
      published++;
    }
    setImmediate(pump);
  };
  pump();
  await new Promise((r) => setTimeout(r, 1000));
  const r0 = received.reduce((a, b) => a + b, 0);
  const p0 = published;
  const cpu0 = cpuS(target.pid);
  const t0 = nowMs();
  await new Promise((r) => setTimeout(r, shape.durationS * 1000));
  const seconds = (nowMs() - t0) / 1000;
  const delivered = received.reduce((a, b) => a + b, 0) - r0;
  const cpu = cpuS(target.pid) - cpu0;
  stopped = true;
  if (delivered === 0 || refused > 0) throw new Error(`fan-out through ${target.kind}: ${delivered} delivered, ${refused} publishes refused`);
  await Promise.all([publisher, ...subs].map((ws) => new Promise<void>((resolve) => (ws.readyState === WebSocket.CLOSED ? resolve() : (ws.once('close', () => resolve()), ws.close(1000))))));
  return {
    kind: target.kind,
    seconds,
    published: published - p0,
    deliveredPerS: delivered / seconds,
    serverCores: cpu / seconds,
    usPerDelivery: delivered > 0 ? (cpu * 1e6) / delivered : NaN,
    outOfOrder,
  };
}

/** User and system CPU seconds a process has used so far (/proc/<pid>/stat utime, stime). */
export function cpuSplitS(pid: number): { user: number; system: number } {
  const fields = (readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1] ?? '').split(' ');
  return { user: Number(fields[11]) / 100, system: Number(fields[12]) / 100 };
}

/**
 * A bare `ws` reference server (perf.raw-broadcast.mjs) as a child process: `broadcast` for the
 * fan-out comparison, `channels` (the gateway's protocol without its checks) for the ingest
 * one; `stop()` kills it.
 */
export async function startRawBroadcast(mode: 'broadcast' | 'channels' = 'broadcast'): Promise<FanOutTarget & { readonly url: string; stop(): Promise<void> }> {
  const child: ChildProcess = spawn(process.execPath, [path.join(import.meta.dirname, 'perf.raw-broadcast.mjs'), mode], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the raw ws broadcast server exited (${code}) before listening`)));
    if (child.stdout) createInterface({ input: child.stdout }).once('line', resolve);
  });
  const { port } = JSON.parse(line) as { port: number };
  const url = `ws://127.0.0.1:${port}`;
  return {
    kind: 'raw ws',
    url: `http://127.0.0.1:${port}`,
    publisherUrl: url,
    subscriberUrl: url,
    pid: child.pid ?? 0,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
