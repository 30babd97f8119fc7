import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { echoServer, exchange, type TcpServer } from '../tests/tcp.js';
import { ChaosProxy } from './client.js';
import { startToxiproxyServer, type ToxiproxyServer } from './server.js';
import { describeStep, phasesOf, runTimeline, TimelineError, withFaults } from './timeline.js';
import { down, latency, resetPeer } from './toxics.js';

let toxiproxy: ToxiproxyServer;
let echo: TcpServer;
let n = 0;
const proxyTo = (upstream: string) => toxiproxy.chaos.createProxy({ name: `timeline${++n}`, upstream });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  toxiproxy = await startToxiproxyServer();
  echo = await echoServer();
});
afterAll(async () => {
  await toxiproxy?.stop();
  await echo?.[Symbol.asyncDispose]();
});

describe('fault timelines', () => {
  it('reads like the plan', () => {
    const db = { name: 'postgres' };
    expect(describeStep({ at: 5000, for: 10_000, proxy: db, fault: latency(200, 50) })).toBe('at 5 s add latency 200±50 ms on postgres for 10 s');
    expect(describeStep({ at: 20_000, for: 5000, proxy: db, fault: down() })).toBe('at 20 s cut postgres for 5 s');
  });

  it('applies each step at its time, removes it when it ends, and records the phases', async () => {
    const proxy = await proxyTo(echo.address);
    const seen: Array<{ t: number; toxics: number; enabled: boolean }> = [];
    const sampler = (async () => {
      const t0 = performance.now();
      while (performance.now() - t0 < 1500) {
        const s = await proxy.state();
        seen.push({ t: performance.now() - t0, toxics: s.toxics.length, enabled: s.enabled });
        await sleep(25);
      }
    })();
    const run = await runTimeline([
      { at: 100, for: 900, proxy, fault: latency(100, 20) },
      { at: 400, for: 300, proxy, fault: down() },
    ]);
    await sampler;
    const [slow, cut] = run.steps;
    expect(slow?.error).toBeUndefined();
    expect(cut?.error).toBeUndefined();
    expect(slow!.appliedAt! - run.startedAt).toBeGreaterThanOrEqual(95);
    expect(slow!.removedAt! - slow!.appliedAt!).toBeGreaterThanOrEqual(890);
    expect(cut!.removedAt! - cut!.appliedAt!).toBeGreaterThanOrEqual(290);
    // The server saw: latency on, then also down, then up again, then nothing.
    expect(seen.some((s) => s.toxics === 1 && s.enabled)).toBe(true);
    expect(seen.some((s) => s.toxics === 1 && !s.enabled)).toBe(true);
    expect(seen.at(-1)).toMatchObject({ toxics: 0, enabled: true });
    const phases = phasesOf(slow!, run);
    expect(phases.map((p) => p.name)).toEqual(['before', 'during', 'after']);
    expect(phases[0]!.to).toBe(phases[1]!.from);
    expect(phases[1]!.to).toBe(phases[2]!.from);
    expect((await exchange(proxy.port, 'ok', 2)).outcome).toBe('complete');
  });

  it('removes every fault at once when the load throws, and passes the error on', async () => {
    const proxy = await proxyTo(echo.address);
    const t0 = performance.now();
    await expect(
      withFaults(
        [
          { at: 0, for: 30_000, proxy, fault: resetPeer() },
          { at: 0, for: 30_000, proxy, fault: down() },
        ],
        async () => {
          await sleep(300);
          throw new Error('load failed');
        },
      ),
    ).rejects.toThrow('load failed');
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(await proxy.state()).toMatchObject({ enabled: true, toxics: [] });
  });

  it('a step that cannot be applied aborts the load, fails the run, and leaves no other fault behind', async () => {
    const good = await proxyTo(echo.address);
    const gone = await proxyTo(echo.address);
    await gone.remove();
    let aborted = false;
    const failure = await withFaults(
      [
        { at: 0, for: 30_000, proxy: good, fault: latency(500) },
        { at: 200, for: 1000, proxy: gone, fault: latency(100) },
      ],
      async (signal) => {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 20_000);
          signal.addEventListener('abort', () => {
            aborted = true;
            clearTimeout(timer);
            resolve();
          });
        });
      },
    ).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(TimelineError);
    expect((failure as TimelineError).message).toMatch(/on timeline\d+ for 1 s: applying: .*404/);
    expect(aborted).toBe(true);
    expect(await good.state()).toMatchObject({ enabled: true, toxics: [] });
  });

  it('withFault removes its fault even when the body throws', async () => {
    const proxy = await proxyTo(echo.address);
    await expect(
      proxy.withFault(down(), async () => {
        expect((await exchange(proxy.port, 'x', 1)).outcome).toBe('error:ECONNREFUSED');
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect((await exchange(proxy.port, 'x', 1)).outcome).toBe('complete');
    expect(proxy).toBeInstanceOf(ChaosProxy);
  });
});
