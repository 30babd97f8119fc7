import { randomBytes } from 'node:crypto';
import { Histogram, Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { baseApp } from './base-app.js';
import { listenHttp } from './listen.js';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

describe('baseApp request metrics', () => {
  it('labels every request no route took with one constant, so 1,000 random paths add at most one series', async () => {
    const registry = new Registry();
    const httpDuration = new Histogram({ name: 'http_request_duration_seconds', help: 'h', labelNames: ['method', 'route', 'status'], registers: [registry] });
    const app = baseApp({ httpDuration, isClosing: () => false });
    app.get('/items/:id', (_req, res) => void res.json({ ok: true }));
    // A middleware that answers before any route, as auth or a body parser does: not a 404.
    app.use('/private', (_req, res) => void res.status(401).json({ error: 'unauthorized' }));
    app.use((_req, res) => void res.status(404).json({ error: 'not_found' }));
    const { server, url } = await listenHttp(app, '127.0.0.1', 0);
    closers.push(() => new Promise((resolve) => server.close(() => resolve())));

    const series = async () => (await registry.metrics()).split('\n').filter((l) => l.startsWith('http_request_duration_seconds_count'));
    await fetch(`${url}/items/1`);
    await fetch(`${url}/nowhere`);
    await fetch(`${url}/private/x`);
    const before = (await series()).length;
    for (let i = 0; i < 1000; i++) {
      const path = i % 2 === 0 ? `/${randomBytes(8).toString('hex')}` : `/private/${randomBytes(8).toString('hex')}`;
      expect((await fetch(`${url}${path}`)).status).toBe(i % 2 === 0 ? 404 : 401);
    }
    const after = await series();
    expect(after.length - before).toBeLessThanOrEqual(1);
    const routes = new Set(after.map((l) => /route="([^"]*)"/.exec(l)?.[1]));
    expect([...routes].sort()).toEqual(['/items/:id', 'unmatched']);
  });
});
