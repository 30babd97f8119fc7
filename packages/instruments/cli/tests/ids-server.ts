import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A user's own id endpoint for the ID-checker example: `POST /ids {count}` → `{first, last}`. */
export interface IdsServer extends AsyncDisposable {
  readonly url: string;
  /** Ids handed out (every range answered). */
  issued(): number;
}

/**
 * Starts it on 127.0.0.1:0. `racy` plants the classic defect: the counter is read, the
 * request waits a moment (as for a database round trip), then the counter is written back —
 * two concurrent calls read the same value and hand out the same range.
 */
export async function startIdsServer(options: { readonly racy?: boolean } = {}): Promise<IdsServer> {
  let next = 1;
  let issued = 0;
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const send = (status: number, value: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
      if (req.method !== 'POST' || req.url !== '/ids') {
        send(404, { error: 'not found' });
        return;
      }
      const count = Number((JSON.parse(body || '{}') as { count?: unknown }).count ?? 1);
      if (!Number.isInteger(count) || count < 1 || count > 100) {
        send(400, { error: 'count: 1-100' });
        return;
      }
      if (!options.racy) {
        const first = next;
        next += count;
        issued += count;
        send(200, { first, last: first + count - 1 });
        return;
      }
      const first = next;
      setTimeout(() => {
        next = first + count;
        issued += count;
        send(200, { first, last: first + count - 1 });
      }, 2);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    issued: () => issued,
    async [Symbol.asyncDispose]() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
