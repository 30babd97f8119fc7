import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { echoServer, exchange, greetAndCloseServer, type TcpServer } from '../tests/tcp.js';
import type { ChaosProxy } from './client.js';
import { resolveToxiproxyServer, startToxiproxyServer, type ToxiproxyServer } from './server.js';
import { bandwidth, latency, limitData, resetPeer, slicer, slowClose, timeout } from './toxics.js';

// A real toxiproxy-server in front of real TCP servers. Without the binary this fails in
// beforeAll with a message naming tools/install-toxiproxy.sh.
let toxiproxy: ToxiproxyServer;
let echo: TcpServer;
let n = 0;
const proxyTo = (upstream: string) => toxiproxy.chaos.createProxy({ name: `t${++n}`, upstream });
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

beforeAll(async () => {
  toxiproxy = await startToxiproxyServer();
  echo = await echoServer();
});
afterAll(async () => {
  await toxiproxy?.stop();
  await echo?.[Symbol.asyncDispose]();
});

describe('toxiproxy-server', () => {
  it('runs the pinned version, and a missing binary fails naming the install script', async () => {
    expect(await toxiproxy.chaos.version()).toBe('2.12.0');
    expect(() => resolveToxiproxyServer({ TOXIPROXY_SERVER: '/nonexistent/toxiproxy-server' })).toThrow(
      /toxiproxy-server not found at \/nonexistent\/toxiproxy-server.*bash tools\/install-toxiproxy\.sh/,
    );
  });

  it('proxies bytes unchanged on a port of its own choosing', async () => {
    const proxy = await proxyTo(echo.address);
    expect(proxy.port).toBeGreaterThan(0);
    const payload = randomBytes(64 * 1024);
    const r = await exchange(proxy.port, payload, payload.length);
    expect(r.outcome).toBe('complete');
    expect(r.data.equals(payload)).toBe(true);
  });
});

describe('every toxic acts on real traffic', () => {
  let proxy: ChaosProxy;
  beforeAll(async () => {
    proxy = await proxyTo(echo.address);
  });

  it('latency with jitter delays each answer by latency ± jitter, and removing it restores speed', async () => {
    const baseline = median(await Promise.all(Array.from({ length: 5 }, () => exchange(proxy.port, 'ping', 4).then((r) => r.ms))));
    const samples: number[] = [];
    {
      await using _slow = await proxy.addToxic(latency(200, 50));
      for (let i = 0; i < 8; i++) samples.push((await exchange(proxy.port, 'ping', 4)).ms);
    }
    const after = median(await Promise.all(Array.from({ length: 5 }, () => exchange(proxy.port, 'ping', 4).then((r) => r.ms))));
    // 200 ± 50 ms per answer; generous upper bound for a loaded machine.
    for (const ms of samples) expect(ms).toBeGreaterThanOrEqual(145);
    expect(median(samples)).toBeLessThan(600);
    expect(Math.max(...samples) - Math.min(...samples)).toBeGreaterThan(5);
    // Without the toxic, faster than the toxic could ever answer (its floor is 150 ms): on a
    // loaded machine a bare loopback exchange has taken 123 ms, so no tighter absolute bound.
    expect(baseline).toBeLessThan(145);
    expect(after).toBeLessThan(145);
    expect(await proxy.toxics()).toEqual([]);
  });

  it('bandwidth caps throughput at the rate', async () => {
    const payload = randomBytes(150 * 1024);
    const free = await exchange(proxy.port, payload, payload.length);
    await using _capped = await proxy.addToxic(bandwidth(100));
    const capped = await exchange(proxy.port, payload, payload.length, 15_000);
    expect(capped.outcome).toBe('complete');
    expect(capped.data.equals(payload)).toBe(true);
    // 150 KB at 100 KB/s ≈ 1.5 s; without the toxic, milliseconds.
    expect(capped.ms).toBeGreaterThan(1200);
    expect(free.ms).toBeLessThan(500);
  });

  it('timeout stalls the connection silently (data dropped), and its removal closes the connection', async () => {
    const silent = await proxy.addToxic(timeout(0));
    const pending = exchange(proxy.port, 'hello', 5, 10_000);
    await new Promise((r) => setTimeout(r, 800));
    await silent.remove();
    const r = await pending;
    expect(r.outcome === 'closed' || r.outcome.startsWith('error:')).toBe(true);
    expect(r.data.length).toBe(0);
    expect(r.ms).toBeGreaterThanOrEqual(750);
    expect((await exchange(proxy.port, 'hello', 5)).data.toString()).toBe('hello');
  });

  it('timeout with a duration closes the connection after it, with no data', async () => {
    await using _t = await proxy.addToxic(timeout(300));
    const r = await exchange(proxy.port, 'hello', 5, 5000);
    expect(r.outcome === 'closed' || r.outcome.startsWith('error:')).toBe(true);
    expect(r.data.length).toBe(0);
    expect(r.ms).toBeGreaterThanOrEqual(250);
  });

  it('reset_peer resets the connection', async () => {
    await using _reset = await proxy.addToxic(resetPeer(0));
    const r = await exchange(proxy.port, 'hello', 5, 5000);
    expect(r.outcome).toBe('error:ECONNRESET');
    expect(r.data.length).toBe(0);
  });

  it('slicer cuts the answer into small pieces and keeps every byte in order', async () => {
    const payload = randomBytes(2000);
    await using _sliced = await proxy.addToxic(slicer(50, 20, 2000));
    const r = await exchange(proxy.port, payload, payload.length, 10_000);
    expect(r.outcome).toBe('complete');
    expect(r.data.equals(payload)).toBe(true);
    expect(r.chunks).toBeGreaterThanOrEqual(10);
  });

  it('limit_data cuts the connection after the byte limit', async () => {
    const payload = randomBytes(1000);
    await using _limited = await proxy.addToxic(limitData(100));
    const r = await exchange(proxy.port, payload, payload.length, 5000);
    expect(r.outcome === 'closed' || r.outcome.startsWith('error:')).toBe(true);
    expect(r.data.length).toBe(100);
    expect(r.data.equals(payload.subarray(0, 100))).toBe(true);
  });

  it('a toxic can act upstream only and on a share of connections', async () => {
    await using _half = await proxy.addToxic(limitData(0, { stream: 'upstream', toxicity: 0.5 }));
    const results = await Promise.all(Array.from({ length: 20 }, () => exchange(proxy.port, 'hello', 5, 3000)));
    const ok = results.filter((r) => r.outcome === 'complete').length;
    // Binomial(20, 0.5): 1..19 passes with overwhelming probability.
    expect(ok).toBeGreaterThan(0);
    expect(ok).toBeLessThan(20);
    expect((await proxy.toxics())[0]).toMatchObject({ type: 'limit_data', stream: 'upstream', toxicity: 0.5 });
  });

  it('update changes a toxic in place over PATCH', async () => {
    await using slow = await proxy.addToxic(latency(50));
    await slow.update({ latency: 400 });
    expect((await proxy.toxics())[0]?.attributes).toMatchObject({ latency: 400 });
    expect((await exchange(proxy.port, 'ping', 4)).ms).toBeGreaterThanOrEqual(380);
  });
});

describe('slow_close and down', () => {
  it('slow_close delays the close the upstream asked for', async () => {
    await using bye = await greetAndCloseServer('bye');
    const proxy = await proxyTo(bye.address);
    const quick = await exchange(proxy.port, '', 100);
    await using _slow = await proxy.addToxic(slowClose(700));
    const slow = await exchange(proxy.port, '', 100);
    expect(quick.outcome).toBe('closed');
    expect(slow.outcome).toBe('closed');
    expect(slow.data.toString()).toBe('bye');
    expect(quick.ms).toBeLessThan(300);
    expect(slow.ms).toBeGreaterThanOrEqual(650);
  });

  it('down refuses new connections and cuts open ones; up serves again on the same port', async () => {
    const proxy = await proxyTo(echo.address);
    const port = proxy.port;
    const open = exchange(port, Buffer.alloc(0), 1, 5000);
    await new Promise((r) => setTimeout(r, 100));
    const cut = await proxy.down();
    expect((await open).outcome).not.toBe('deadline');
    expect((await exchange(port, 'x', 1)).outcome).toBe('error:ECONNREFUSED');
    expect((await proxy.state()).enabled).toBe(false);
    await cut.remove();
    const r = await exchange(port, 'again', 5);
    expect(r.outcome).toBe('complete');
    expect(proxy.port).toBe(port);
  });
});
