// The real nginx (tools/install-nginx.sh) in front of three small HTTP servers: round robin,
// failover once one is gone, retries only where they are safe, and nothing left behind.
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { Duplex } from 'node:stream';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { nginxConfig, resolveNginx, startNginx, type Nginx } from './nginx.js';
import { startSut } from './sut.js';
import { testServer } from './testing/index.js';

interface Replica {
  readonly url: string;
  readonly name: string;
  /** Requests it received, by method. */
  readonly seen: Record<string, number>;
  close(): Promise<void>;
}

/** A server that answers its name; `dropPosts` makes it cut the connection on a POST, as a crashing replica would. */
async function replica(name: string, opts: { dropPosts?: boolean } = {}): Promise<Replica> {
  const seen: Record<string, number> = {};
  const server = http.createServer((req, res) => {
    seen[req.method ?? '?'] = (seen[req.method ?? '?'] ?? 0) + 1;
    if (opts.dropPosts && req.method === 'POST') return void req.socket.destroy();
    req.resume();
    req.on('end', () => res.end(name));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    name,
    seen,
    close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}

const open: { replicas: Replica[]; lb?: Nginx } = { replicas: [] };
afterEach(async () => {
  await open.lb?.stop();
  await Promise.all(open.replicas.map((r) => r.close().catch(() => undefined)));
  open.replicas = [];
  delete open.lb;
});

async function balanced(n: number, opts: { weights?: number[]; dropPostsAt?: number } = {}) {
  open.replicas = await Promise.all(Array.from({ length: n }, (_, i) => replica(`r${i}`, { dropPosts: opts.dropPostsAt === i })));
  open.lb = await startNginx({ upstreams: open.replicas.map((r) => r.url), ...(opts.weights ? { weights: opts.weights } : {}) });
  return { replicas: open.replicas, lb: open.lb };
}

/** Sends `n` requests one after another and counts the answering replicas' names. */
async function spread(url: string, n: number, method = 'GET'): Promise<Record<string, number>> {
  const by: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const res = await fetch(url, { method, ...(method === 'POST' ? { body: '{}' } : {}) });
    const key = res.status === 200 ? await res.text() : `status ${res.status}`;
    if (res.status !== 200) await res.arrayBuffer();
    by[key] = (by[key] ?? 0) + 1;
  }
  return by;
}

describe('startNginx', () => {
  it('generates a config with keep-alive, passive health checks and retries without non_idempotent', () => {
    const config = nginxConfig({ upstreams: ['http://127.0.0.1:1001', 'http://127.0.0.1:1002'], port: 9, dir: '/tmp/x' });
    expect(config).toContain('server 127.0.0.1:1001 max_fails=1 fail_timeout=5s;');
    expect(config).toMatch(/keepalive \d+;/);
    expect(config).toMatch(/proxy_next_upstream error timeout http_502;/);
    expect(config).not.toMatch(/proxy_next_upstream [^;]*non_idempotent/);
    expect(config).toContain('pid /tmp/x/nginx.pid;');
    expect(() => nginxConfig({ upstreams: [], port: 9, dir: '/tmp/x' })).toThrow(/at least one upstream/);
  });

  it('names the installer when nginx is missing', async () => {
    expect(() => resolveNginx({ NGINX: '/nonexistent/nginx' })).toThrow(/nginx not found at \/nonexistent\/nginx \(NGINX\).*tools\/install-nginx\.sh/);
    await expect(startNginx({ upstreams: ['http://127.0.0.1:1'], binary: '/nonexistent/nginx' })).rejects.toThrow(/tools\/install-nginx\.sh/);
  });

  it('spreads requests round robin over three replicas', async () => {
    const { lb } = await balanced(3);
    expect(await spread(lb.url, 30)).toEqual({ r0: 10, r1: 10, r2: 10 });
  });

  it('a weight (the planted uneven balancer) skews the shares', async () => {
    const { lb } = await balanced(3, { weights: [3, 1, 1] });
    expect(await spread(lb.url, 50)).toEqual({ r0: 30, r1: 10, r2: 10 });
  });

  it('fails over when a replica is gone: every GET and POST answered by the two left', async () => {
    const { replicas, lb } = await balanced(3);
    await spread(lb.url, 6);
    await replicas[1]?.close();
    // Connection refused: the request never reached r1, so even a POST is safe to pass on.
    const gets = await spread(lb.url, 30);
    const posts = await spread(lb.url, 10, 'POST');
    expect(gets).toEqual({ r0: 15, r2: 15 });
    expect(Object.keys(posts).sort()).toEqual(['r0', 'r2']);
    expect((posts['r0'] ?? 0) + (posts['r2'] ?? 0)).toBe(10);
    // The passive health check marked r1 failed once, instead of trying it on every request.
    expect(await lb.errorLog()).toMatch(/connect\(\) failed \(111: Connection refused\)/);
  });

  it('never sends a POST that reached a replica to a second one (no non_idempotent)', async () => {
    const { replicas, lb } = await balanced(3, { dropPostsAt: 0 });
    const posts = await spread(lb.url, 3, 'POST');
    // r0 cut the connection after receiving its POST: nginx answers 502 rather than retry it.
    expect(posts).toEqual({ 'status 502': 1, r1: 1, r2: 1 });
    expect(replicas.map((r) => r.seen['POST'] ?? 0)).toEqual([1, 1, 1]);
  });

  it('stops on stop(): the process is gone and its directory removed', async () => {
    const { lb } = await balanced(1);
    const dir = path.dirname(/pid (\S+);/.exec(lb.config)?.[1] ?? '');
    expect(existsSync(dir)).toBe(true);
    await lb.stop();
    delete open.lb;
    expect(() => process.kill(lb.pid, 0)).toThrow();
    expect(existsSync(dir)).toBe(false);
    await expect(fetch(lb.url)).rejects.toThrow();
  });
});

const wsGuid = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/**
 * A WebSocket endpoint as far as the handshake goes (RFC 6455 §4.2.2: 101 with the key's
 * accept hash), then an echo prefixed with its name; a GET that arrives without the Upgrade
 * header (nginx dropped it) is answered 426.
 */
async function upgradeReplica(name: string): Promise<Replica> {
  const seen: Record<string, number> = {};
  const sockets = new Set<Duplex>();
  const server = http.createServer((req, res) => {
    seen['plain'] = (seen['plain'] ?? 0) + 1;
    res.writeHead(426, { 'content-type': 'text/plain' }).end(`${name}: no Upgrade header arrived`);
  });
  server.on('upgrade', (req, socket: Duplex) => {
    seen['upgrade'] = (seen['upgrade'] ?? 0) + 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    const accept = createHash('sha1').update(`${String(req.headers['sec-websocket-key'])}${wsGuid}`).digest('base64');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    socket.on('data', (d: Buffer) => socket.write(`${name}:${d.toString()}`));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    name,
    seen,
    close: () => new Promise<void>((r) => (sockets.forEach((s) => s.destroy()), server.closeAllConnections(), server.close(() => r()))),
  };
}

/** A WebSocket handshake through `url`; resolves to the 101's accept check and the echo of `text`, or the status of a refusal. */
function handshake(url: string, text: string): Promise<{ status: number; acceptOk?: boolean; echo?: string }> {
  const key = randomBytes(16).toString('base64');
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}/ws`, { headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': key } });
    req.once('error', reject);
    req.once('response', (res) => (res.resume(), resolve({ status: res.statusCode ?? 0 })));
    req.once('upgrade', (res, socket) => {
      const acceptOk = res.headers['sec-websocket-accept'] === createHash('sha1').update(`${key}${wsGuid}`).digest('base64');
      socket.once('data', (d: Buffer) => {
        socket.destroy();
        resolve({ status: res.statusCode ?? 0, acceptOk, echo: d.toString() });
      });
      socket.write(text);
    });
    req.end();
  });
}

describe('startNginx({ websocket: true })', () => {
  it('generates the upgrade map, the Upgrade and Connection headers and an hour of read timeout', () => {
    const config = nginxConfig({ upstreams: ['http://127.0.0.1:1001'], port: 9, dir: '/tmp/x', websocket: true });
    expect(config).toMatch(/map \$http_upgrade \$connection_upgrade \{\s+default upgrade;\s+'' '';\s+\}/);
    expect(config).toContain('proxy_http_version 1.1;');
    expect(config).toContain('proxy_set_header Upgrade $http_upgrade;');
    expect(config).toContain('proxy_set_header Connection $connection_upgrade;');
    expect(config).not.toContain('proxy_set_header Connection "";');
    expect(config).toContain('proxy_read_timeout 3600000ms;');
    expect(nginxConfig({ upstreams: ['http://127.0.0.1:1001'], port: 9, dir: '/tmp/x', websocket: true, readTimeoutMs: 5000 })).toContain('proxy_read_timeout 5000ms;');
    // Without it: no map, the keep-alive Connection header and the HTTP read timeout.
    const plain = nginxConfig({ upstreams: ['http://127.0.0.1:1001'], port: 9, dir: '/tmp/x' });
    expect(plain).not.toContain('$connection_upgrade');
    expect(plain).toContain('proxy_set_header Connection "";');
    expect(plain).toContain('proxy_read_timeout 15000ms;');
  });

  it('passes WebSocket handshakes through, round robin, and the bytes after them both ways', async () => {
    open.replicas = await Promise.all([upgradeReplica('w0'), upgradeReplica('w1')]);
    open.lb = await startNginx({ upstreams: open.replicas.map((r) => r.url), websocket: true });
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await handshake(open.lb.url, `hello ${i}`));
    expect(answers).toEqual([
      { status: 101, acceptOk: true, echo: 'w0:hello 0' },
      { status: 101, acceptOk: true, echo: 'w1:hello 1' },
      { status: 101, acceptOk: true, echo: 'w0:hello 2' },
      { status: 101, acceptOk: true, echo: 'w1:hello 3' },
    ]);
    expect(open.replicas.map((r) => r.seen)).toEqual([{ upgrade: 2 }, { upgrade: 2 }]);
    // Plain HTTP still goes through on the same location.
    expect((await fetch(`${open.lb.url}/health`)).status).toBe(426);
  });

  it('without it, nginx drops the Upgrade header: the handshake reaches the replica as a plain GET', async () => {
    open.replicas = [await upgradeReplica('w0')];
    open.lb = await startNginx({ upstreams: open.replicas.map((r) => r.url) });
    expect(await handshake(open.lb.url, 'hello')).toEqual({ status: 426 });
    expect(open.replicas[0]?.seen).toEqual({ plain: 1 });
  });
});

describe('startSut({ balance })', () => {
  it('puts every replica of an app behind nginx, and nginx serves on when one is SIGKILLed', async () => {
    await using sut = await startSut({ server: testServer(), apps: ['id-service'], replicas: { 'id-service': 3 }, balance: ['id-service'], env: { LOG_LEVEL: 'silent' } });
    const lb = sut.balancer('id-service');
    expect(sut.balancedUrl('id-service')).toBe(lb.url);
    const replicas = sut.apps['id-service'] ?? [];
    expect(lb.upstreams).toEqual(replicas.map((a) => a.url));
    expect(sut.summary()['id_service_balanced_url']).toBe(lb.url);
    expect(() => sut.balancer('task-api')).toThrow(/has no balancer/);
    await replicas[1]?.kill();
    const statuses = await Promise.all(Array.from({ length: 12 }, () => fetch(`${lb.url}/health`).then((r) => (void r.arrayBuffer(), r.status))));
    expect(statuses).toEqual(Array(12).fill(200));
  });
});
