/**
 * A WebSocket service under load: every virtual user keeps one socket open and makes request
 * → reply round trips on it; a reply must carry the request's own sequence number.
 *
 *   npx crucible run examples/websocket.ts --base-url ws://127.0.0.1:8080 --env WS_PATH=/echo --env RATE=200
 *
 * The iteration's latency is the round trip (from its intended send time). A reply that belongs to another request (a
 * server that mixes up its clients) fails the check; a socket that had to be reopened counts.
 */
import { constantArrivalRate, defineRun, WebSocketClient } from '@crucible/cli';
import type WebSocket from 'ws';

const path = process.env['WS_PATH'] ?? '/echo';
const rate = Number(process.env['RATE'] ?? 50);
const duration = process.env['DURATION'] ?? '5s';

interface Reply {
  readonly sent: number;
  readonly got: number | null;
}

export default defineRun({
  scenarios: {
    'echo round trip': {
      // Each virtual user holds one socket: at most maxVUs sockets, each doing one round trip at a time.
      executor: constantArrivalRate({ rate, duration, preAllocatedVUs: 5, maxVUs: 20 }),
      metrics: { reconnects: 'counter' },
      request: async (ctx): Promise<Reply> => {
        let socket = ctx.vars['socket'] as WebSocket | undefined;
        if (socket && socket.readyState !== socket.OPEN) {
          ctx.count('reconnects');
          socket = undefined;
        }
        socket ??= await ctx.ws.connect(path);
        ctx.vars['socket'] = socket;
        const sent = ctx.vu * 1_000_000 + ctx.iteration;
        const text = await WebSocketClient.roundTrip(socket, JSON.stringify({ seq: sent }), 2_000);
        return { sent, got: (JSON.parse(text) as { seq?: number }).seq ?? null };
      },
      checks: { 'reply is to this request': (r: Reply) => r.got === r.sent },
      thresholds: ['p(99)<250', 'reconnects: count==0', 'checks: rate==1'],
    },
  },
});
