// TCP helpers for the chaos tests: small real servers to put proxies in front of, and
// clients that measure what a toxic does to the bytes.
import net from 'node:net';

/** A TCP server on 127.0.0.1; closes its open sockets on dispose. */
export interface TcpServer extends AsyncDisposable {
  readonly port: number;
  readonly address: string;
}

/** Starts a TCP server whose connections are handled by `onSocket`. */
export async function tcpServer(onSocket: (socket: net.Socket) => void): Promise<TcpServer> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    s.once('close', () => sockets.delete(s));
    onSocket(s);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    address: `127.0.0.1:${port}`,
    async [Symbol.asyncDispose]() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

/** Echoes every byte back. */
export const echoServer = () => tcpServer((s) => s.pipe(s));

/** Sends `greeting` at once, then closes the connection. */
export const greetAndCloseServer = (greeting: string) => tcpServer((s) => s.end(greeting));

/** What a client saw on one connection. */
export interface Exchange {
  /** Bytes received. */
  readonly data: Buffer;
  /** Number of `data` events (how the bytes were cut). */
  readonly chunks: number;
  /** ms from connect until `expect` bytes arrived, or until the connection ended. */
  readonly ms: number;
  /** How the exchange ended: enough bytes, the peer closed, an error code, or our own deadline. */
  readonly outcome: 'complete' | 'closed' | 'deadline' | `error:${string}`;
}

/**
 * Connects to `port`, writes `payload`, and collects what comes back until `expect` bytes
 * arrived, the connection ends, or `deadlineMs` passes (nothing here can hang a test).
 */
export function exchange(port: number, payload: Buffer | string, expect: number, deadlineMs = 5000): Promise<Exchange> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const parts: Buffer[] = [];
    let received = 0;
    let chunks = 0;
    const socket = net.connect(port, '127.0.0.1');
    const finish = (outcome: Exchange['outcome']) => {
      clearTimeout(timer);
      socket.removeAllListeners();
      socket.on('error', () => {});
      socket.destroy();
      resolve({ data: Buffer.concat(parts), chunks, ms: performance.now() - t0, outcome });
    };
    const timer = setTimeout(() => finish('deadline'), deadlineMs);
    socket.once('connect', () => socket.write(payload));
    socket.on('data', (d: Buffer) => {
      parts.push(d);
      chunks++;
      received += d.length;
      if (received >= expect) finish('complete');
    });
    socket.once('end', () => finish('closed'));
    socket.once('error', (err: NodeJS.ErrnoException) => finish(`error:${err.code ?? err.message}`));
  });
}
