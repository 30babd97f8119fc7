import { InstrumentError } from '@crucible/instrument-kit';
import WebSocket from 'ws';

/** Opens WebSockets relative to the scenario's base URL and closes them when the VU stops. */
export class WebSocketClient {
  readonly #base: string;
  readonly #open = new Set<WebSocket>();

  constructor(baseUrl: string | undefined) {
    this.#base = baseUrl ? baseUrl.replace(/^http/, 'ws') : '';
  }

  /**
   * Connects (a path is resolved against the base URL, `http` → `ws`) and resolves once open.
   *
   * @example const socket = await ctx.ws.connect('/ws?role=publisher');
   */
  connect(pathOrUrl: string, options: { headers?: Record<string, string>; timeoutMs?: number } = {}): Promise<WebSocket> {
    const url = /^wss?:\/\//.test(pathOrUrl) ? pathOrUrl : this.#base + pathOrUrl;
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, { ...(options.headers ? { headers: options.headers } : {}), handshakeTimeout: options.timeoutMs ?? 10_000 });
      this.#open.add(socket);
      socket.once('close', () => this.#open.delete(socket));
      socket.once('open', () => resolve(socket));
      socket.once('error', (e) => {
        this.#open.delete(socket);
        reject(e);
      });
    });
  }

  /** Sends `data` and resolves with the next message received (a request/response round trip); rejects with `ws_timeout` after `timeoutMs`. */
  static roundTrip(socket: WebSocket, data: string, timeoutMs = 10_000): Promise<string> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new InstrumentError('ws_timeout', `websocket round trip timed out after ${timeoutMs} ms`)), timeoutMs);
      socket.once('message', (msg) => {
        clearTimeout(timer);
        resolve(String(msg));
      });
      socket.send(data);
    });
  }

  /** Closes every socket this client opened. */
  closeAll(): void {
    for (const s of this.#open) s.terminate();
    this.#open.clear();
  }
}
