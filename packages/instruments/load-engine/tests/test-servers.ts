import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A bare node:http server on 127.0.0.1:0 for engine tests; `await using` closes it. */
export interface TestServer extends AsyncDisposable {
  readonly url: string;
  readonly server: http.Server;
  /** Requests received. */
  readonly received: () => number;
  /** Largest number of requests in flight at once. */
  readonly maxInFlight: () => number;
}

/** Starts a server whose handler decides when (ms from now) and how to answer. */
export async function startTestServer(delayFor: (req: http.IncomingMessage, n: number) => number = () => 0, status = 200): Promise<TestServer> {
  let received = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  const server = http.createServer((req, res) => {
    const n = received++;
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    const reply = (): void => {
      inFlight--;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ n }));
    };
    const delay = delayFor(req, n);
    if (delay > 0) setTimeout(reply, delay);
    else reply();
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    received: () => received,
    maxInFlight: () => maxInFlight,
    async [Symbol.asyncDispose]() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * A server that, once `afterRequests` requests have arrived, stalls for `stallMs`: every
 * request arriving (or pending) during the stall is answered only when it ends — like a GC
 * pause or a lock on the server side.
 */
export async function startStallingServer(afterRequests: number, stallMs: number): Promise<TestServer> {
  let stallUntil = 0;
  return startTestServer((_req, n) => {
    const now = Date.now();
    if (n === afterRequests) stallUntil = now + stallMs;
    return Math.max(0, stallUntil - now);
  });
}

/** A port on 127.0.0.1 that was free a moment ago (for a server started as another process). */
export async function freePort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
