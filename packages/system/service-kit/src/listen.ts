import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';

/**
 * Listens on `host:port` (0 = a free port) and resolves with the server and its base URL;
 * a taken or privileged port rejects with a message naming it.
 */
export async function listenHttp(app: Express, host: string, port: number): Promise<{ server: Server; url: string }> {
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(port, host);
    s.once('listening', () => resolve(s));
    s.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        err.code === 'EADDRINUSE'
          ? new Error(`PORT ${port} on ${host} is already in use`, { cause: err })
          : err.code === 'EACCES'
            ? new Error(`PORT ${port} on ${host} needs privileges this process lacks`, { cause: err })
            : err,
      );
    });
  });
  server.keepAliveTimeout = 65_000;
  const { port: actual } = server.address() as AddressInfo;
  return { server, url: `http://${host.includes(':') ? `[${host}]` : host}:${actual}` };
}
