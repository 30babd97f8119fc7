import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpClient } from '../http-client.js';

// The engine's own HTTP/1.1 client against a real node:http (or raw net) server, one case
// each of what a purpose-built client gets wrong: framing, reuse, pipelining, resets, timeouts.

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function serve(handler: http.RequestListener, setup?: (s: http.Server) => void): Promise<{ url: string; server: http.Server; sockets: Set<net.Socket> }> {
  const server = http.createServer(handler);
  setup?.(server);
  const sockets = new Set<net.Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, sockets };
}

/** A raw TCP server that answers each connection with `onData` (for what node:http never sends). */
async function rawServer(onConnection: (socket: net.Socket) => void): Promise<string> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    onConnection(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise<void>((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function client(url: string, options?: ConstructorParameters<typeof HttpClient>[1]): HttpClient {
  const c = new HttpClient(url, options);
  cleanups.push(() => c.destroy());
  return c;
}

describe('HttpClient (http:, the engine own HTTP/1.1 client)', () => {
  it('reuses one keep-alive connection for sequential requests and sends method, path, query, headers and a JSON body', async () => {
    const seen: Array<{ method?: string; url?: string; auth?: string; type?: string; body: string; port: number }> = [];
    const { url } = await serve((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ method: req.method, url: req.url, auth: req.headers.authorization, type: req.headers['content-type'], body, port: req.socket.remotePort ?? 0 });
        res.setHeader('set-cookie', ['a=1', 'b=2']);
        res.end(JSON.stringify({ n: seen.length, echo: body }));
      });
    });
    const http1 = client(`${url}/base/`, { connections: 4 });
    for (let i = 0; i < 5; i++) {
      const res = await http1.request({ method: 'POST', path: '/x', query: { q: 'a b', i }, headers: { authorization: 'Bearer k' }, body: { i, s: 'żółw' } });
      expect(res.status).toBe(200);
      expect(res.json()).toEqual({ n: i + 1, echo: JSON.stringify({ i, s: 'żółw' }) });
      expect(res.headers['set-cookie']).toEqual(['a=1', 'b=2']);
    }
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/base/x?q=a+b&i=0', auth: 'Bearer k', type: 'application/json' });
    expect(new Set(seen.map((s) => s.port)).size).toBe(1);
  });

  it('reads chunked bodies split across many writes, with multi-byte characters cut between chunks, and trailers', async () => {
    const text = 'ąę'.repeat(5000);
    const bytes = Buffer.from(text);
    const { url } = await serve(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', trailer: 'x-sum' });
      for (let i = 0; i < bytes.length; i += 777) {
        res.write(bytes.subarray(i, i + 777));
        await new Promise((r) => setImmediate(r));
      }
      res.addTrailers({ 'x-sum': String(bytes.length) });
      res.end();
    });
    const http1 = client(url, { connections: 1 });
    const a = await http1.request({ path: '/' });
    expect(a.headers['transfer-encoding']).toBe('chunked');
    expect(a.body).toBe(text);
    // The connection is still in step after the trailers: a second answer parses.
    expect((await http1.request({ path: '/', discardBody: true })).body).toBe('');
  });

  it('reads a body delimited by the close, HEAD and 204 without a body, and skips a 100 Continue', async () => {
    const url = await rawServer((s) => {
      let buffered = '';
      s.on('data', (d: Buffer) => {
        buffered += d.toString('latin1');
        let end: number;
        while ((end = buffered.indexOf('\r\n\r\n')) >= 0) {
          const line = buffered.slice(0, buffered.indexOf('\r\n'));
          buffered = buffered.slice(end + 4);
          if (line.startsWith('GET /eof')) s.end('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nuntil the end');
          else if (line.startsWith('HEAD')) s.write('HTTP/1.1 200 OK\r\ncontent-length: 99\r\n\r\n');
          else if (line.startsWith('GET /204')) s.write('HTTP/1.1 204 No Content\r\n\r\n');
          else s.write('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok');
        }
      });
    });
    const http1 = client(url, { connections: 1, pipelining: 2 });
    expect((await http1.request({ path: '/eof' })).body).toBe('until the end');
    const [head, noContent] = await Promise.all([http1.request({ method: 'HEAD', path: '/h' }), http1.request({ path: '/204' })]);
    expect([head.status, head.body, noContent.status, noContent.body]).toEqual([200, '', 204, '']);
    const created = await http1.request({ path: '/c' });
    expect([created.status, created.body]).toEqual([201, 'ok']);
  });

  it('pipelines up to the limit on one connection and matches answers to requests in order', async () => {
    let connections = 0;
    let maxOutstanding = 0;
    const url = await rawServer((s) => {
      connections++;
      const paths: string[] = [];
      let buffered = '';
      let timer: NodeJS.Timeout | undefined;
      s.on('data', (d: Buffer) => {
        buffered += d.toString('latin1');
        let end: number;
        while ((end = buffered.indexOf('\r\n\r\n')) >= 0) {
          paths.push(buffered.slice(4, buffered.indexOf(' HTTP/1.1')));
          buffered = buffered.slice(end + 4);
        }
        maxOutstanding = Math.max(maxOutstanding, paths.length);
        // Answer what has arrived a little later, so the client can pipeline meanwhile.
        timer ??= setTimeout(() => {
          timer = undefined;
          for (const p of paths.splice(0)) s.write(`HTTP/1.1 200 OK\r\ncontent-length: ${p.length}\r\n\r\n${p}`);
        }, 20);
      });
    });
    const http1 = client(url, { connections: 1, pipelining: 8 });
    const all = await Promise.all(Array.from({ length: 20 }, (_, i) => http1.request({ path: `/${i}` })));
    expect(all.map((r) => r.body)).toEqual(Array.from({ length: 20 }, (_, i) => `/${i}`));
    expect(connections).toBe(1);
    expect(maxOutstanding).toBe(8);
  });

  it('queues past the connection limit and never opens more connections than allowed', async () => {
    const { url, server } = await serve((_req, res) => setTimeout(() => res.end('x'), 5));
    let opened = 0;
    server.on('connection', () => opened++);
    const http1 = client(url, { connections: 3 });
    const all = await Promise.all(Array.from({ length: 60 }, () => http1.request({ path: '/' })));
    expect(all.every((r) => r.status === 200)).toBe(true);
    expect(opened).toBe(3);
  });

  it('fails the request on a reset mid-response, and the next request succeeds on a new connection', async () => {
    let n = 0;
    const { url } = await serve((_req, res) => {
      if (++n === 1) {
        res.writeHead(200, { 'content-length': 100 });
        res.write('partial');
        setTimeout(() => res.socket?.resetAndDestroy(), 10);
      } else res.end('fine');
    });
    const http1 = client(url, { connections: 1 });
    const err = await http1.request({ path: '/' }).then(() => undefined, (e: { code?: string }) => e);
    expect(['ECONNRESET', 'UND_ERR_SOCKET']).toContain(err?.code);
    expect((await http1.request({ path: '/' })).body).toBe('fine');
  });

  it('refuses with ECONNREFUSED when nothing listens', async () => {
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const err = await client(`http://127.0.0.1:${port}`).request({ path: '/' }).then(() => undefined, (e: { code?: string }) => e);
    expect(err?.code).toBe('ECONNREFUSED');
  });

  it('times out a server that never answers (headers) and one that stalls mid-body, within the sweep resolution', async () => {
    const { url } = await serve((req, res) => {
      if (req.url === '/stall') {
        res.writeHead(200, { 'content-length': 10 });
        res.write('12345');
      }
      // '/hang': no answer at all.
    });
    const http1 = client(url, { connections: 2 });
    const t0 = performance.now();
    const [hang, stall] = await Promise.all(
      ['/hang', '/stall'].map((path) => http1.request({ path, timeoutMs: 300 }).then(() => undefined, (e: { code?: string }) => ({ code: e.code, ms: performance.now() - t0 }))),
    );
    expect(hang?.code).toBe('UND_ERR_HEADERS_TIMEOUT');
    expect(stall?.code).toBe('UND_ERR_BODY_TIMEOUT');
    for (const r of [hang, stall]) {
      expect(r?.ms).toBeGreaterThanOrEqual(299);
      expect(r?.ms).toBeLessThan(1500);
    }
  });

  it('honours Connection: close and the server keep-alive timeout (no request sent on a socket the server closes)', async () => {
    const { url, server } = await serve((req, res) => {
      if (req.url === '/close') res.setHeader('connection', 'close');
      res.end('ok');
    }, (s) => (s.keepAliveTimeout = 1200));
    let opened = 0;
    server.on('connection', () => opened++);
    const http1 = client(url, { connections: 1 });
    expect((await http1.request({ path: '/close' })).body).toBe('ok');
    expect((await http1.request({ path: '/' })).body).toBe('ok');
    expect(opened).toBe(2);
    // Keep-Alive: timeout=1 → the client drops the idle socket before the server's 1.2 s.
    await new Promise((r) => setTimeout(r, 1300));
    expect((await http1.request({ path: '/' })).body).toBe('ok');
    expect(opened).toBe(3);
  });

  it('rejects a header value with CR/LF instead of sending a smuggled request', async () => {
    const { url } = await serve((_req, res) => res.end('x'));
    const err = await client(url).request({ path: '/', headers: { 'x-a': 'v\r\nx-b: w' } }).then(() => undefined, (e: { code?: string }) => e);
    expect(err?.code).toBe('UND_ERR_INVALID_ARG');
  });

  it('close() waits for requests in flight; destroy() fails them', async () => {
    const { url } = await serve((_req, res) => setTimeout(() => res.end('late'), 100));
    const a = client(url);
    const pending = a.request({ path: '/' });
    await a.close();
    expect((await pending).body).toBe('late');
    await expect(a.request({ path: '/' })).rejects.toMatchObject({ code: 'UND_ERR_CLOSED' });
    const b = client(url);
    const doomed = b.request({ path: '/' }).then(() => undefined, (e: { code?: string }) => e.code);
    await new Promise((r) => setTimeout(r, 20));
    await b.destroy();
    expect(await doomed).toBe('UND_ERR_DESTROYED');
  });
});
