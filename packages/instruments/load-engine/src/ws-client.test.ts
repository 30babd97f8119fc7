import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import type { AddressInfo } from 'node:net';
import { constantVUs } from './executors.js';
import { run } from './runner.js';
import { scenario } from './scenario.js';
import { consoleSink } from './sinks/console-sink.js';
import { WebSocketClient } from './ws-client.js';
import type WebSocket from 'ws';

describe('WebSocket scenarios', () => {
  it('a VU keeps its socket across iterations, measures round trips, and the sockets close at the end', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
    let connections = 0;
    let open = 0;
    wss.on('connection', (socket) => {
      connections++;
      open++;
      socket.on('close', () => open--);
      socket.on('message', (m) => socket.send(`echo:${String(m)}`));
    });
    const { port } = wss.address() as AddressInfo;
    let progress = '';
    const out = new Writable({
      write(chunk: Buffer, _e, cb) {
        progress += chunk.toString();
        cb();
      },
    });
    const result = await run(
      scenario({
        name: 'echo',
        executor: constantVUs({ vus: 2, duration: '1s' }),
        request: async (ctx) => {
          ctx.vars['socket'] ??= await ctx.ws.connect('/live');
          return WebSocketClient.roundTrip(ctx.vars['socket'] as WebSocket, `vu${ctx.vu}-${ctx.iteration}`);
        },
        checks: { 'echoed': (reply) => reply.startsWith('echo:vu') },
      }),
      { baseUrl: `http://127.0.0.1:${port}`, sinks: [consoleSink({ out })] },
    );
    const s = result.scenarios[0];
    expect(s?.requests).toBeGreaterThan(20);
    expect(s?.successes).toBe(s?.requests);
    expect(s?.checks['echoed']?.fails).toBe(0);
    expect(connections).toBe(2);
    await new Promise((r) => setTimeout(r, 200));
    expect(open).toBe(0);
    // The console sink told a person what happened.
    expect(progress).toMatch(/▶ run .* echo \[constant-vus\]/);
    expect(progress).toMatch(/✔ echo: \d+ requests, 0 failed, 0 dropped/);
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  });
});
