import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCodeOf, hungCalls, send, uncleanFailures, type Http } from './calls.js';

// A real HTTP server with the answers a resilience suite meets.
let server: http.Server;
let base: string;
const client: Http = {
  async request(req) {
    const res = await fetch(`${base}${req.path}`, { method: req.method ?? 'GET', signal: AbortSignal.timeout(req.timeoutMs ?? 10_000) });
    return { status: res.status, headers: Object.fromEntries(res.headers), body: await res.text() };
  },
};

beforeAll(async () => {
  server = http.createServer((req, res) => {
    if (req.url === '/refuse') {
      res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' });
      res.end(JSON.stringify({ error: { code: 'database_unavailable', message: 'database down' } }));
    } else if (req.url === '/crash') {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('oops');
    } else if (req.url === '/hang') {
      // never answers
    } else {
      res.writeHead(200, { 'content-type': 'application/json', 'idempotent-replayed': 'true' });
      res.end(JSON.stringify({ first: 1, last: 2 }));
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

describe('send', () => {
  it('records status, error code, Retry-After and replays, and classifies clean and unclean failures', async () => {
    const ok = await send(client, { path: '/ok' });
    const refused = await send(client, { path: '/refuse' });
    const crashed = await send(client, { path: '/crash' });
    expect(ok).toMatchObject({ status: 200, ok: true, replayed: true, body: { first: 1, last: 2 } });
    expect(refused).toMatchObject({ status: 503, ok: false, code: 'database_unavailable', retryAfter: '1' });
    expect(crashed).toMatchObject({ status: 500, ok: false });
    expect(uncleanFailures([ok, refused, crashed])).toBe(1);
  });

  it('a request that never answers is recorded without a status, never thrown', async () => {
    const hung = await send(client, { path: '/hang', timeoutMs: 300 });
    expect(hung.status).toBeUndefined();
    expect(hung.ok).toBe(false);
    expect(hung.end - hung.start).toBeGreaterThanOrEqual(290);
    // Only an answer missing for hangAfterMs counts as a hang.
    expect(hungCalls([hung])).toBe(0);
    expect(hungCalls([{ ...hung, end: hung.start + 10_000 }])).toBe(1);
  });
});

describe('errorCodeOf', () => {
  it('reads the envelope code and nothing else', () => {
    expect(errorCodeOf({ error: { code: 'pool_exhausted', message: 'busy' } })).toBe('pool_exhausted');
    expect(errorCodeOf({ error: { code: 503 } })).toBeUndefined();
    expect(errorCodeOf({ error: 'pool_exhausted' })).toBeUndefined();
    expect(errorCodeOf({ code: 'pool_exhausted' })).toBeUndefined();
    expect(errorCodeOf('oops')).toBeUndefined();
    expect(errorCodeOf(null)).toBeUndefined();
    expect(errorCodeOf(undefined)).toBeUndefined();
  });
});
