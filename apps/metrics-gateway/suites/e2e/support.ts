import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { discoverApps, startApp, type RunningApp } from '@crucible/testbed';

/** The publish/admin token of the gateways these tests start. */
export const token = randomBytes(24).toString('base64url');

/** Starts the real gateway as a process (as the testbed starts every app). */
export async function startGateway(env: Record<string, string> = {}): Promise<RunningApp> {
  const manifest = discoverApps().find((a) => a.name === 'metrics-gateway');
  if (!manifest) throw new Error('apps/metrics-gateway is not discoverable');
  return startApp(manifest, { env: { CRUCIBLE_ADMIN_TOKEN: token, LOG_LEVEL: 'warn', ...env } });
}

/**
 * A small real HTTP server for the load engine to drive: `/` answers in 1–3 ms and fails
 * every 25th request with a 500; `/slow` answers after 20 ms.
 */
export async function startTarget(): Promise<{ url: string; close(): Promise<void> }> {
  let n = 0;
  const server = http.createServer((req, res) => {
    const slow = req.url?.startsWith('/slow');
    const fail = !slow && ++n % 25 === 0;
    setTimeout(
      () => {
        res.statusCode = fail ? 500 : 200;
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ ok: !fail }));
      },
      slow ? 20 : 1 + (n % 3),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
