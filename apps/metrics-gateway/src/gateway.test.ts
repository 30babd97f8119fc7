import { gatewayHealthSchema, gatewayServerMessageSchema, type GatewayServerMessage, type MetricSnapshot } from '@crucible/contracts';
import type { Socket } from 'node:net';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, type ClientOptions } from 'ws';
import { loadGatewayConfig } from './config.js';
import { createGateway, type Gateway } from './gateway.js';

const token = 'test-publish-token-0123456789';

interface TestClient {
  readonly ws: WebSocket;
  readonly received: GatewayServerMessage[];
  /** Waits for the first message (from the start) matching `pred` that was not taken before. */
  next<T extends GatewayServerMessage['type']>(type: T, pred?: (m: Extract<GatewayServerMessage, { type: T }>) => boolean, timeoutMs?: number): Promise<Extract<GatewayServerMessage, { type: T }>>;
  closed: Promise<{ code: number; reason: string }>;
  send(msg: unknown): void;
}

const gateways: Gateway[] = [];
const sockets: WebSocket[] = [];

afterEach(async () => {
  for (const ws of sockets.splice(0)) ws.terminate();
  await Promise.all(gateways.splice(0).map((g) => g.close()));
});

async function startGateway(env: Record<string, string> = {}): Promise<{ gateway: Gateway; url: string; ws: string }> {
  const config = loadGatewayConfig({ CRUCIBLE_ADMIN_TOKEN: token, LOG_LEVEL: 'silent', SHUTDOWN_TIMEOUT_MS: '2000', ...env });
  const gateway = createGateway(config, { logger: pino({ level: 'silent' }) });
  gateways.push(gateway);
  const url = await gateway.listen();
  return { gateway, url, ws: `${url.replace('http', 'ws')}/ws` };
}

async function client(url: string, options: { token?: string } & ClientOptions = {}): Promise<TestClient> {
  const { token: t, ...wsOptions } = options;
  const ws = new WebSocket(url, { ...wsOptions, headers: t ? { authorization: `Bearer ${t}` } : {} });
  sockets.push(ws);
  const received: GatewayServerMessage[] = [];
  const waiters: (() => void)[] = [];
  const taken = new Set<number>();
  ws.on('message', (data) => {
    received.push(gatewayServerMessageSchema.parse(JSON.parse(data.toString())));
    for (const w of waiters.splice(0)) w();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return {
    ws,
    received,
    closed,
    send: (msg) => ws.send(JSON.stringify(msg)),
    next(type, pred = () => true, timeoutMs = 5000) {
      type M = Extract<GatewayServerMessage, { type: typeof type }>;
      const find = () => {
        const i = received.findIndex((m, idx) => !taken.has(idx) && m.type === type && pred(m as M));
        if (i < 0) return undefined;
        taken.add(i);
        return received[i] as M;
      };
      return new Promise<M>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${type} message within ${timeoutMs} ms; got ${JSON.stringify(received.map((m) => m.type))}`)), timeoutMs);
        const check = () => {
          const m = find();
          if (m) {
            clearTimeout(timer);
            resolve(m);
          } else waiters.push(check);
        };
        check();
      });
    },
  };
}

function snapshot(runId: string, t: number, extra: Partial<MetricSnapshot> = {}): MetricSnapshot {
  return { run_id: runId, scenario: 'reserve', t, requests: 100 + t, errors: t % 3, rps: 100 + t, latency_ms: { p50: 1.5, p95: 4, p99: 9 }, ...extra };
}

/** Waits until `cond` holds, polling. */
async function until(cond: () => boolean | Promise<boolean>, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('HTTP endpoints', () => {
  it('answers /health, /metrics, the dashboard page, and the error envelope for unknown routes', async () => {
    const { url } = await startGateway();
    const health = await fetch(`${url}/health`);
    expect(health.status).toBe(200);
    const body = gatewayHealthSchema.parse(await health.json());
    expect(body).toMatchObject({ status: 'ok', service: 'metrics-gateway', connections: 0 });

    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toContain('gateway_connections');
    expect(metrics).toContain('gateway_messages_dropped_total');

    const page = await fetch(`${url}/dashboard/run-42`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(html).toContain('"run_id":"run-42"');
    // Self-contained: nothing is loaded from anywhere else.
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=|https?:\/\/(?!www\.w3\.org)/);

    const bad = await fetch(`${url}/dashboard/${encodeURIComponent('bad id!')}`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toContain('runId');

    const index = await (await fetch(`${url}/dashboard`)).text();
    expect(index).toContain('"run_id":null');

    const missing = await fetch(`${url}/nope`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: { code: 'not_found', message: 'no route for GET /nope' } });
  });

  it('refuses a wrong publish token and a wrong path with the JSON envelope before the upgrade', async () => {
    const { ws, url } = await startGateway();
    const answer = (target: string, headers: Record<string, string> = {}) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const c = new WebSocket(target, { headers });
        c.once('open', () => reject(new Error('upgrade should have been refused')));
        c.once('unexpected-response', (_req, res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (body += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        c.once('error', () => {});
      });
    const wrong = await answer(ws, { authorization: 'Bearer not-the-token-at-all' });
    expect(wrong.status).toBe(401);
    expect(JSON.parse(wrong.body)).toMatchObject({ error: { code: 'unauthorized' } });
    const path = await answer(`${url.replace('http', 'ws')}/elsewhere`);
    expect(path.status).toBe(404);
    expect(JSON.parse(path.body)).toMatchObject({ error: { code: 'not_found' } });
  });

  it('refuses connections past GATEWAY_MAX_CONNECTIONS with a 503 and Retry-After', async () => {
    const { ws } = await startGateway({ GATEWAY_MAX_CONNECTIONS: '2' });
    await client(ws);
    await client(ws);
    const refused = await new Promise<{ status: number; retryAfter: string | undefined }>((resolve, reject) => {
      const c = new WebSocket(ws);
      c.once('open', () => reject(new Error('third connection should have been refused')));
      c.once('unexpected-response', (_req, res) => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] }));
      c.once('error', () => {});
    });
    expect(refused).toEqual({ status: 503, retryAfter: '1' });
  });
});

describe('publish and subscribe', () => {
  it('delivers every snapshot of a run to every subscriber, in order, numbered from 1', async () => {
    const { ws } = await startGateway();
    const publisher = await client(ws, { token });
    expect(await publisher.next('welcome')).toMatchObject({ role: 'publisher' });
    const subs = await Promise.all([client(ws), client(ws)]);
    for (const s of subs) {
      expect(await s.next('welcome')).toMatchObject({ role: 'subscriber' });
      s.send({ type: 'subscribe', run_id: 'run-1' });
      await s.next('subscribed');
    }
    for (let t = 1; t <= 20; t++) publisher.send({ type: 'snapshot', run_id: 'run-1', snapshot: snapshot('run-1', t) });
    for (const s of subs) {
      const got = await Promise.all(Array.from({ length: 20 }, () => s.next('snapshot')));
      expect(got.map((m) => m.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      expect(got.map((m) => m.snapshot.t)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    }
    const runs = (await (await fetch(ws.replace('ws', 'http').replace('/ws', '/runs'))).json()) as { runs: { run_id: string; last_seq: number; subscribers: number; ended: boolean }[] };
    expect(runs.runs).toEqual([expect.objectContaining({ run_id: 'run-1', last_seq: 20, subscribers: 2, ended: false })]);
    // Another run's subscriber sees none of it.
    const other = await client(ws);
    other.send({ type: 'subscribe', run_id: 'run-2' });
    expect(await other.next('subscribed')).toMatchObject({ run_id: 'run-2', last_seq: 0 });
    await new Promise((r) => setTimeout(r, 100));
    expect(other.received.filter((m) => m.type === 'snapshot')).toHaveLength(0);
  });

  it('refuses publishing without the token and names the field of an invalid message', async () => {
    const { ws } = await startGateway();
    const anonymous = await client(ws);
    anonymous.send({ type: 'snapshot', run_id: 'r', snapshot: snapshot('r', 1) });
    expect((await anonymous.next('error')).error).toMatchObject({ code: 'unauthorized' });

    const publisher = await client(ws, { token });
    publisher.send({ type: 'snapshot', run_id: 'r', snapshot: { ...snapshot('r', 1), rps: 'fast' } });
    const invalid = await publisher.next('error');
    expect(invalid.error.code).toBe('validation_failed');
    expect(invalid.error.message).toMatch(/^snapshot\.rps: /);

    publisher.ws.send('{not json');
    expect((await publisher.next('error')).error.code).toBe('invalid_json');

    publisher.send({ type: 'snapshot', run_id: 'r', snapshot: snapshot('other', 1) });
    expect((await publisher.next('error')).error.message).toMatch(/^snapshot\.run_id: /);

    const health = gatewayHealthSchema.parse(await (await fetch(ws.replace('ws', 'http').replace('/ws', '/health'))).json());
    expect(health.messages.rejected).toBe(4);
    expect(health.messages.ingested).toBe(0);
  });

  it('resumes a reconnecting subscriber right after the last sequence it saw', async () => {
    const { ws } = await startGateway();
    const publisher = await client(ws, { token });
    const first = await client(ws);
    first.send({ type: 'subscribe', run_id: 'resume' });
    await first.next('subscribed');
    for (let t = 1; t <= 3; t++) publisher.send({ type: 'snapshot', run_id: 'resume', snapshot: snapshot('resume', t) });
    const seen = await Promise.all([1, 2, 3].map(() => first.next('snapshot')));
    const lastSeen = seen.at(-1)!.seq;
    first.ws.close();
    await first.closed;
    for (let t = 4; t <= 6; t++) publisher.send({ type: 'snapshot', run_id: 'resume', snapshot: snapshot('resume', t) });
    await until(async () => gatewayHealthSchema.parse(await (await fetch(ws.replace('ws', 'http').replace('/ws', '/health'))).json()).messages.ingested === 6);

    const again = await client(ws);
    again.send({ type: 'subscribe', run_id: 'resume', since: lastSeen });
    expect(await again.next('subscribed')).toMatchObject({ last_seq: 6, oldest_seq: 1 });
    publisher.send({ type: 'snapshot', run_id: 'resume', snapshot: snapshot('resume', 7) });
    const rest = await Promise.all([4, 5, 6, 7].map(() => again.next('snapshot')));
    expect(rest.map((m) => m.seq)).toEqual([4, 5, 6, 7]);
    expect(again.received.filter((m) => m.type === 'gap')).toHaveLength(0);
  });

  it('reports what left the bounded history as a gap when a subscriber resumes too late', async () => {
    const { ws } = await startGateway({ GATEWAY_HISTORY_SIZE: '5' });
    const publisher = await client(ws, { token });
    for (let t = 1; t <= 10; t++) publisher.send({ type: 'snapshot', run_id: 'short', snapshot: snapshot('short', t) });
    const late = await client(ws);
    await until(() => publisher.received.length >= 1);
    await new Promise((r) => setTimeout(r, 100));
    late.send({ type: 'subscribe', run_id: 'short', since: 2 });
    expect(await late.next('subscribed')).toMatchObject({ last_seq: 10, oldest_seq: 6 });
    expect(await late.next('gap')).toMatchObject({ from_seq: 3, to_seq: 5, reason: 'evicted' });
    const rest = await Promise.all([6, 7, 8, 9, 10].map(() => late.next('snapshot')));
    expect(rest.map((m) => m.seq)).toEqual([6, 7, 8, 9, 10]);
  });

  it('takes publisher-numbered messages once: a replay after reconnect is acknowledged as duplicate and not delivered again', async () => {
    const { ws } = await startGateway();
    const sub = await client(ws);
    sub.send({ type: 'subscribe', run_id: 'numbered' });
    await sub.next('subscribed');
    const p1 = await client(ws, { token });
    for (const seq of [1, 2, 3]) p1.send({ type: 'snapshot', run_id: 'numbered', seq, snapshot: snapshot('numbered', seq) });
    expect((await Promise.all([1, 2, 3].map(() => p1.next('ack')))).map((a) => a.duplicate)).toEqual([false, false, false]);
    p1.ws.close();
    const p2 = await client(ws, { token });
    for (const seq of [2, 3, 4]) p2.send({ type: 'snapshot', run_id: 'numbered', seq, snapshot: snapshot('numbered', seq) });
    const acks = await Promise.all([2, 3, 4].map(() => p2.next('ack')));
    expect(acks.map((a) => [a.seq, a.duplicate])).toEqual([
      [2, true],
      [3, true],
      [4, false],
    ]);
    const got = await Promise.all([1, 2, 3, 4].map(() => sub.next('snapshot')));
    expect(got.map((m) => m.seq)).toEqual([1, 2, 3, 4]);
    await new Promise((r) => setTimeout(r, 100));
    expect(sub.received.filter((m) => m.type === 'snapshot')).toHaveLength(4);
  });

  it('fans small events out and carries the run_end summary', async () => {
    const { ws } = await startGateway();
    const subs = await Promise.all([client(ws), client(ws), client(ws)]);
    for (const s of subs) {
      s.send({ type: 'subscribe', run_id: 'events' });
      await s.next('subscribed');
    }
    const publishers = await Promise.all([client(ws, { token }), client(ws, { token })]);
    for (let i = 0; i < 50; i++) for (const p of publishers) p.send({ type: 'event', run_id: 'events', event: { name: 'tick', value: i, sent_at: Date.now() } });
    await until(() => subs.every((s) => s.received.filter((m) => m.type === 'event').length === 100), 5000, 'all events delivered');
    publishers[0]!.send({
      type: 'run_end',
      run_id: 'events',
      summary: { run_id: 'events', passed: false, finished_at: new Date().toISOString(), duration_s: 1, scenarios: [] },
    });
    for (const s of subs) {
      const end = await s.next('run_end');
      expect(end.seq).toBe(101);
      expect(end.summary.passed).toBe(false);
      const events = s.received.filter((m) => m.type === 'event');
      expect(events.map((m) => m.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    }
  });
});

describe('back-pressure, heartbeats and shutdown', () => {
  it('feeds a subscriber that stops reading from the bounded history, counts what it lost, and reports it as a gap', async () => {
    const { gateway, ws } = await startGateway({ GATEWAY_MAX_BUFFERED_BYTES: '65536', GATEWAY_HISTORY_SIZE: '20' });
    const publisher = await client(ws, { token });
    const slow = await client(ws);
    slow.send({ type: 'subscribe', run_id: 'flood' });
    await slow.next('subscribed');
    // Stop reading: the kernel buffers fill, then the gateway's socket buffer passes the threshold.
    const socket = (slow.ws as unknown as { _socket: Socket })._socket;
    socket.pause();
    const pad = 'x'.repeat(64 * 1024);
    // Publish until the gateway's buffer for it passes the threshold (however large the kernel buffers are), then 100 more.
    let total = 0;
    const publish = async (n: number) => {
      for (let i = 0; i < n; i++) publisher.send({ type: 'event', run_id: 'flood', event: { name: 'big', value: ++total, labels: { pad } } });
      await until(() => gateway.hub.stats().ingested === total, 15_000, 'all published');
    };
    while (gateway.hub.stats().lagging === 0 && total < 4000) await publish(50);
    await publish(100);
    const during = gateway.hub.stats();
    expect(during.slowSubscriberEvents).toBeGreaterThanOrEqual(1);
    expect(during.lagging).toBe(1);
    // Bounded: the gateway stopped writing to it instead of queueing 25 MiB for it.
    expect(during.delivered).toBeLessThan(total);
    socket.resume();
    await until(() => slow.received.some((m) => m.type === 'event' && m.event.value === total), 15_000, 'last event received');
    const events = slow.received.filter((m) => m.type === 'event');
    const gaps = slow.received.filter((m) => m.type === 'gap');
    expect(gaps.length).toBeGreaterThanOrEqual(1);
    expect(gaps.every((g) => g.reason === 'evicted')).toBe(true);
    // Every sequence is accounted for exactly once: received or reported lost, in order.
    const covered = [...events.map((e) => [e.seq, e.seq] as const), ...gaps.map((g) => [g.from_seq, g.to_seq] as const)].sort((a, b) => a[0] - b[0]);
    let expected = 1;
    for (const [from, to] of covered) {
      expect(from).toBe(expected);
      expected = to + 1;
    }
    expect(expected).toBe(total + 1);
    const lost = gaps.reduce((n, g) => n + g.to_seq - g.from_seq + 1, 0);
    expect(gateway.hub.stats().dropped).toBe(lost);
    expect(await (await fetch(ws.replace('ws', 'http').replace('/ws', '/metrics'))).text()).toMatch(new RegExp(`gateway_messages_dropped_total\\{[^}]*\\} ${lost}\\n`));
  });

  it('terminates a connection that stops answering pings and keeps a healthy one', async () => {
    const { gateway, ws } = await startGateway({ GATEWAY_HEARTBEAT_MS: '250' });
    const dead = await client(ws, { autoPong: false });
    const alive = await client(ws);
    const closed = await dead.closed;
    expect(closed.code).toBe(1006);
    expect(gateway.hub.stats().heartbeatTerminations).toBe(1);
    await until(() => gateway.hub.size === 1, 5000, 'the dead connection removed');
    await new Promise((r) => setTimeout(r, 600));
    expect(alive.ws.readyState).toBe(WebSocket.OPEN);
    expect(gateway.hub.size).toBe(1);
  });

  it('drops every connection with 1012 on the admin request (token required)', async () => {
    const { url, ws } = await startGateway();
    const clients = await Promise.all([client(ws), client(ws, { token })]);
    const denied = await fetch(`${url}/admin/drop-connections`, { method: 'POST' });
    expect(denied.status).toBe(401);
    expect(await denied.json()).toMatchObject({ error: { code: 'unauthorized' } });
    const res = await fetch(`${url}/admin/drop-connections`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ dropped: 2 });
    for (const c of clients) expect((await c.closed).code).toBe(1012);
  });

  it('closes every socket with 1001 on shutdown and refuses new upgrades', async () => {
    const { gateway, ws } = await startGateway();
    const clients = await Promise.all([client(ws), client(ws), client(ws, { token })]);
    await gateway.close();
    for (const c of clients) expect(await c.closed).toEqual({ code: 1001, reason: 'gateway shutting down' });
    await expect(client(ws)).rejects.toThrow();
  });
});
