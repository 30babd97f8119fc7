// Gateway replicas sharing run channels through Redis Streams, and a workload across them:
// publishers on one replica, subscribers on another, each subscriber keeping the stress
// suite's own sequence bookkeeping (LoadClient) and judged by its delivery thresholds.
import net from 'node:net';
import { gatewayHealthSchema, gatewayRunSchema, type ScenarioReport } from '@crucible/contracts';
import { evaluateThresholds } from '@crucible/reporting';
import { discoverApps, startApp, type RedisServer, type RunningApp } from '@crucible/testbed';
import { z } from 'zod';
import { sleep } from './gateway-load.js';
import { deliveryThresholds } from './reports.js';
import { LoadClient, nowMs, pool } from './ws-load.js';

/** The admin (and publish) token of the replicas these helpers start. */
export const replicaToken = 'streams-test-admin-token-0123456789';

/** What a replica's /health says of its streams. */
export const streamsHealthSchema = z.object({
  state: z.enum(['up', 'down']),
  outages: z.number(),
  appended: z.number(),
  read: z.number(),
  unstreamed: z.number(),
  gap_messages: z.number(),
  runs_read: z.number(),
  last_error: z.string().nullable(),
});

/** Two gateway processes on one Redis and one key prefix. */
export interface Replicas extends AsyncDisposable {
  readonly a: RunningApp;
  readonly b: RunningApp;
  readonly keyPrefix: string;
}

/**
 * Starts gateway replicas A and B as processes sharing `redis` (a key prefix of their own);
 * `env` goes to both, `envB` to B alone (a planted defect on the reading side).
 */
export async function startReplicas(redis: RedisServer, env: Record<string, string> = {}, envB: Record<string, string> = {}): Promise<Replicas> {
  const manifest = discoverApps().find((m) => m.name === 'metrics-gateway');
  if (!manifest) throw new Error('apps/metrics-gateway not found');
  const keyPrefix = `streams-${process.pid}-${Date.now()}:`;
  const common = { CRUCIBLE_ADMIN_TOKEN: replicaToken, REDIS_URL: redis.url, REDIS_KEY_PREFIX: keyPrefix, ...env };
  const a = await startApp(manifest, { env: common });
  const b = await startApp(manifest, { env: { ...common, ...envB } }).catch(async (err: unknown) => {
    await a.stop();
    throw err;
  });
  const stop = async () => {
    await Promise.all([a.stop(), b.stop()]);
  };
  return { a, b, keyPrefix, [Symbol.asyncDispose]: stop };
}

/** A replica's /health streams figures (null when it runs without Redis). */
export async function streamsHealth(app: RunningApp): Promise<z.infer<typeof streamsHealthSchema> | null> {
  const body = z.object({ streams: streamsHealthSchema.nullable() }).passthrough().parse(await (await fetch(`${app.url}/health`)).json());
  gatewayHealthSchema.parse(body);
  return body.streams;
}

/** Each run's last sequence on `app` (its `/runs`). */
export async function lastSeqs(app: RunningApp): Promise<Map<string, number>> {
  const runs = z.object({ runs: z.array(gatewayRunSchema) }).parse(await (await fetch(`${app.url}/runs`)).json()).runs;
  return new Map(runs.map((r) => [r.run_id, r.last_seq]));
}

/**
 * A subscriber of `run` on `app`, ready (subscribed) when this resolves; `since`: the last
 * sequence it saw elsewhere (it resumes after it, as a LoadClient reconnecting does).
 */
export async function subscriber(app: RunningApp, run: string, id: number, onLatency: (ms: number) => void = () => {}, since = 0): Promise<LoadClient> {
  const c = new LoadClient(id, 'subscriber', run, `${app.url.replace('http', 'ws')}/ws`, replicaToken, onLatency);
  c.lastSeq = since;
  await c.connect(10_000);
  return c;
}

/** A publisher into `run` on `app`, ready when this resolves. */
export async function publisher(app: RunningApp, run: string, id: number): Promise<LoadClient> {
  const c = new LoadClient(id, 'publisher', run, `${app.url.replace('http', 'ws')}/ws`, replicaToken, () => {});
  await c.connect(10_000);
  return c;
}

/**
 * Publishes `perPublisher` events through each publisher at `ratePerS` in all (an open
 * schedule, round-robin); resolves to how many could not be sent (not connected or backed up).
 */
export async function publishPaced(publishers: readonly LoadClient[], perPublisher: number, ratePerS: number): Promise<number> {
  const total = perPublisher * publishers.length;
  const start = nowMs();
  let sent = 0;
  let skipped = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((nowMs() - start) / 1000) * ratePerS));
    for (; sent < due; sent++) if (!publishers[sent % publishers.length]!.publish(sent)) skipped++;
    await sleep(5);
  }
  return skipped;
}

/** Waits until the subscribers' received counts stop moving (or `maxMs`). */
export async function drained(subscribers: readonly LoadClient[], maxMs = 10_000): Promise<void> {
  const received = () => subscribers.reduce((n, s) => n + s.order.received, 0);
  const deadline = Date.now() + maxMs;
  let last = -1;
  while (Date.now() < deadline) {
    const now = received();
    if (now === last) return;
    last = now;
    await sleep(300);
  }
}

/** What the stress suite's delivery thresholds read, summed over subscribers; and what they received. */
export interface DeliveryFigures {
  unannounced_gaps: number;
  out_of_order: number;
  never_arrived: number;
  reported_lost: number;
  received: number;
}

/** The delivery figures of `subscribers` against each run's last sequence where it was published. */
export function deliveryFigures(subscribers: readonly LoadClient[], published: ReadonlyMap<string, number>): DeliveryFigures {
  const f: DeliveryFigures = { unannounced_gaps: 0, out_of_order: 0, never_arrived: 0, reported_lost: 0, received: 0 };
  for (const s of subscribers) {
    f.unannounced_gaps += s.order.gaps;
    f.out_of_order += s.order.outOfOrder;
    f.reported_lost += s.order.reportedGaps;
    f.received += s.order.received;
    f.never_arrived += Math.max(0, (published.get(s.channel) ?? 0) - s.lastSeq);
  }
  return f;
}

/** The stress suite's delivery thresholds, judged on `figures` by the reporting kit's evaluator. */
export function deliveryVerdicts(figures: DeliveryFigures): { expression: string; passed: boolean; message?: string | undefined }[] {
  // Only `metrics` is read for custom-metric thresholds; an unknown metric would fail, not pass.
  return evaluateThresholds(deliveryThresholds, { metrics: { ...figures } } as unknown as ScenarioReport);
}

/** Closes clients for good. */
export async function closeAll(clients: readonly LoadClient[]): Promise<void> {
  await pool(clients, 50, (c) => c.stop());
}

/** The length of a stream (XLEN over a raw connection: the suites keep no Redis client). */
export function xlen(redis: RedisServer, key: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: redis.host, port: redis.port });
    let got = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('XLEN: no answer within 2 s'));
    }, 2000);
    socket.setEncoding('utf8');
    socket.once('connect', () => socket.write(`*2\r\n$4\r\nXLEN\r\n$${Buffer.byteLength(key)}\r\n${key}\r\n`));
    socket.on('data', (chunk: string) => {
      got += chunk;
      if (!got.includes('\r\n')) return;
      clearTimeout(timer);
      socket.destroy();
      const m = /^:(\d+)\r\n/.exec(got);
      if (m) resolve(Number(m[1]));
      else reject(new Error(`XLEN answered ${got.trim()}`));
    });
    socket.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}
