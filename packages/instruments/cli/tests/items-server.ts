import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Defects the items server can be started with, to show a threshold failing on them. */
export interface ItemsServerDefects {
  /** Every n-th `GET /items` answers 500 (deterministic, so the run surely meets it). */
  readonly failEvery?: number;
  /** Every n-th `GET /items` answers 200 with an empty page although items exist. */
  readonly emptyEvery?: number;
  /** Every `GET /items` answers this much later (a slower release, for a regression). */
  readonly delayMs?: number;
  /** After this many requests, every request answers 503 (the service went away mid-run; counted, not timed, so a slow start of the client changes nothing). */
  readonly failAfterRequests?: number;
}

/** A real HTTP server the examples run against, counting every request it answered. */
export interface ItemsServer extends AsyncDisposable {
  readonly url: string;
  /** Requests answered, by `METHOD /path`. */
  readonly counts: Map<string, number>;
  total(): number;
}

/**
 * Starts the user's service of the examples on 127.0.0.1:0: `GET /items` (a JSON array) and
 * `POST /items` (201), behind `Bearer dev-token`; `defects` plant the bugs the thresholds catch.
 */
export async function startItemsServer(defects: ItemsServerDefects = {}): Promise<ItemsServer> {
  const items: Array<{ id: number; name: string }> = [{ id: 1, name: 'first' }];
  const counts = new Map<string, number>();
  let lists = 0;
  let received = 0;
  const server: Server = createServer((req, res) => {
    const route = `${req.method} ${(req.url ?? '').split('?')[0]}`;
    counts.set(route, (counts.get(route) ?? 0) + 1);
    received += 1;
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.headers.authorization !== 'Bearer dev-token') return send(401, { error: 'unauthorized' });
    if (defects.failAfterRequests !== undefined && received > defects.failAfterRequests) return send(503, { error: 'planted outage' });
    if (route === 'GET /items') {
      lists += 1;
      if (defects.failEvery && lists % defects.failEvery === 0) return send(500, { error: 'planted failure' });
      const page = defects.emptyEvery && lists % defects.emptyEvery === 0 ? [] : items.slice(-20);
      if (defects.delayMs) return void setTimeout(() => send(200, page), defects.delayMs);
      return send(200, page);
    }
    if (route === 'POST /items') {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const item = { id: items.length + 1, name: String((JSON.parse(body || '{}') as { name?: unknown }).name ?? '') };
        items.push(item);
        send(201, item);
      });
      return;
    }
    send(404, { error: 'not found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    counts,
    total: () => [...counts.values()].reduce((a, b) => a + b, 0),
    async [Symbol.asyncDispose]() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
