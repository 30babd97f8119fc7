import type { Socket } from 'node:net';
import { WebSocket } from 'ws';
import type { SubscriberSocket, Subscription } from './channel.js';

/**
 * Coalesces the frames sent to one socket within an event-loop turn into one write: a
 * publish fans out to many sockets and a burst of publishes arrives in one turn, so this
 * saves a system call per frame where the load is highest.
 */
export class WriteBatcher {
  readonly #corked: Connection[] = [];
  #scheduled = false;

  /** Corks `connection`'s socket until the end of this turn (once per turn). */
  hold(connection: Connection, socket: Socket): void {
    socket.cork();
    connection.corked = true;
    this.#corked.push(connection);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#flush);
    }
  }

  readonly #flush = (): void => {
    this.#scheduled = false;
    for (const c of this.#corked.splice(0)) {
      c.corked = false;
      c.socket?.uncork();
    }
  };
}

const textFrame = { binary: false } as const;

/** One WebSocket connection of the hub: its role, liveness and subscriptions. */
export class Connection implements SubscriberSocket {
  /** Cleared at each ping, set by any pong or message; still clear at the next ping means dead. */
  alive = true;
  corked = false;
  readonly subs = new Map<string, Subscription>();
  constructor(
    readonly id: number,
    readonly ws: WebSocket,
    readonly publisher: boolean,
    readonly batcher: WriteBatcher,
    /** The project of the API key it connected with (a project publisher); undefined with the operator's publish token. */
    readonly project?: string,
  ) {}
  /** The TCP socket under the WebSocket (ws keeps it as `_socket`). */
  get socket(): Socket | undefined {
    return (this.ws as unknown as { _socket?: Socket })._socket;
  }
  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }
  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }
  send(data: string | Buffer): void {
    if (!this.corked) {
      const socket = this.socket;
      if (socket && !socket.destroyed) this.batcher.hold(this, socket);
    }
    // Bytes go as they are (ws writes a Buffer without copying it on a server socket); as a text frame.
    this.ws.send(data, textFrame);
  }
}
