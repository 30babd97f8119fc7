import { gatewayServerMessageSchema, type GatewayServerMessage } from '@crucible/contracts';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { loadGatewayConfig } from './config.js';
import { createGateway, type Gateway } from './gateway.js';

// The defect: subscribing created a channel, needed no token, one socket could watch 256
// runs and watched channels were never evicted, so a few anonymous sockets filled every
// channel slot and each new publish was refused.

const token = 'test-publish-token-0123456789';
const gateways: Gateway[] = [];
const sockets: WebSocket[] = [];

afterEach(async () => {
  for (const ws of sockets.splice(0)) ws.terminate();
  await Promise.all(gateways.splice(0).map((g) => g.close()));
});

async function start(env: Record<string, string>): Promise<{ gateway: Gateway; ws: string }> {
  const gateway = createGateway(loadGatewayConfig({ CRUCIBLE_ADMIN_TOKEN: token, LOG_LEVEL: 'silent', ...env }), { logger: pino({ level: 'silent' }) });
  gateways.push(gateway);
  const url = await gateway.listen();
  return { gateway, ws: `${url.replace('http', 'ws')}/ws` };
}

/** A connected socket and every message it got. */
async function open(url: string, publishToken?: string): Promise<{ ws: WebSocket; got: GatewayServerMessage[]; until: (pred: (m: GatewayServerMessage) => boolean) => Promise<GatewayServerMessage> }> {
  const ws = new WebSocket(url, { headers: publishToken ? { authorization: `Bearer ${publishToken}` } : {} });
  sockets.push(ws);
  const got: GatewayServerMessage[] = [];
  const waiters = new Set<() => void>();
  ws.on('message', (data) => {
    got.push(gatewayServerMessageSchema.parse(JSON.parse(data.toString())));
    for (const w of waiters) w();
  });
  await new Promise<void>((resolve, reject) => ws.once('open', () => resolve()).once('error', reject));
  const until = (pred: (m: GatewayServerMessage) => boolean) =>
    new Promise<GatewayServerMessage>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching message in 5 s; got ${JSON.stringify(got.slice(-3))}`)), 5000);
      const check = () => {
        const m = got.find(pred);
        if (!m) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve(m);
      };
      waiters.add(check);
      check();
    });
  return { ws, got, until };
}

const event = (run: string, seq: number) => JSON.stringify({ type: 'event', run_id: run, seq, event: { name: 'x', value: seq } });

describe('channel slots', () => {
  it('forty anonymous sockets watching every run they may cannot stop a publisher', async () => {
    const { gateway, ws } = await start({ GATEWAY_MAX_CHANNELS: '8' });
    const anonymous = await Promise.all(Array.from({ length: 40 }, () => open(ws)));
    // Each asks for 256 runs: the old per-socket limit, 40 × 256 far beyond the 8 slots.
    for (const [i, a] of anonymous.entries()) for (let r = 0; r < 256; r++) a.ws.send(JSON.stringify({ type: 'subscribe', run_id: `squat-${i}-${r}` }));
    await Promise.all(anonymous.map((a) => a.until((m) => m.type === 'error' && /at most 16 runs/.test(m.error.message))));
    await Promise.all(anonymous.map((a) => a.until(() => a.got.filter((m) => m.type === 'subscribed' || m.type === 'error').length === 256)));
    expect(anonymous.every((a) => a.got.filter((m) => m.type === 'subscribed').length === 16)).toBe(true);
    expect(gateway.hub.stats().channels).toBe(0);

    const publisher = await open(ws, token);
    for (let r = 0; r < 20; r++) publisher.ws.send(event(`real-${r}`, 1));
    await publisher.until(() => publisher.got.filter((m) => m.type === 'ack' || m.type === 'error').length === 20);
    expect(publisher.got.filter((m) => m.type === 'error')).toEqual([]);
    expect(publisher.got.filter((m) => m.type === 'ack')).toHaveLength(20);
    expect(gateway.hub.stats().channels).toBe(8);
  });

  it('a subscriber that comes before its publisher still gets every event; at the limit a watched channel yields its slot and keeps its watcher', async () => {
    const { ws } = await start({ GATEWAY_MAX_CHANNELS: '2', GATEWAY_HISTORY_SIZE: '4' });
    const watcher = await open(ws);
    watcher.ws.send(JSON.stringify({ type: 'subscribe', run_id: 'early' }));
    await watcher.until((m) => m.type === 'subscribed');
    const publisher = await open(ws, token);
    publisher.ws.send(event('early', 1));
    await watcher.until((m) => m.type === 'event' && m.seq === 1);

    // Two more runs take both slots; 'early' (watched, least recently active) loses its slot.
    publisher.ws.send(event('other-a', 1));
    publisher.ws.send(event('other-b', 1));
    await publisher.until(() => publisher.got.filter((m) => m.type === 'ack').length === 3);
    for (let seq = 2; seq <= 3; seq++) publisher.ws.send(event('early', seq));
    await watcher.until((m) => m.type === 'event' && m.seq === 3);
    expect(watcher.got.filter((m) => m.type === 'event').map((m) => (m.type === 'event' ? m.seq : 0))).toEqual([1, 2, 3]);
    expect(publisher.got.filter((m) => m.type === 'error')).toEqual([]);
  });
});
