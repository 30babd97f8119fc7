import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

/** A real WebSocket echo service for the examples, counting the messages it answered. */
export interface EchoServer extends AsyncDisposable {
  /** `ws://127.0.0.1:<port>` */
  readonly url: string;
  messages(): number;
}

/**
 * Starts a WebSocket echo service at `/echo` on 127.0.0.1:0. With `crossEvery: n`, every n-th
 * message is answered with the message before it (a server that mixes up its replies), so the
 * sender gets a reply that is not its own — the defect the example's check catches.
 */
export async function startEchoServer(defects: { readonly crossEvery?: number } = {}): Promise<EchoServer> {
  const http = createServer();
  const wss = new WebSocketServer({ server: http, path: '/echo' });
  const open = new Set<WebSocket>();
  let count = 0;
  // The message before this one (from any client): what a server that mixes up replies sends back.
  let previous: string | undefined;
  wss.on('connection', (socket) => {
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    socket.on('message', (data) => {
      count += 1;
      const text = String(data);
      const reply = defects.crossEvery && count % defects.crossEvery === 0 && previous !== undefined ? previous : text;
      previous = text;
      socket.send(reply);
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}`,
    messages: () => count,
    async [Symbol.asyncDispose]() {
      for (const s of open) s.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
