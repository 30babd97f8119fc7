import { down } from '@crucible/chaos';
import { describe, expect, it } from 'vitest';
import { startSut } from './sut.js';
import { testServer } from './testing/index.js';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Polls `/health` until it answers `status`; returns how long that took. */
async function healthBecomes(url: string, status: number, withinMs: number): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(3000) }).catch(() => undefined);
    if (res?.status === status) return performance.now() - t0;
    if (performance.now() - t0 > withinMs) throw new Error(`${url}/health did not answer ${status} within ${withinMs} ms (last ${res?.status})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('startSut({ chaos: true })', () => {
  it('routes each app to PostgreSQL through its own proxy, and removes the server at the end', async () => {
    const sut = await startSut({ server: testServer(), apps: ['id-service', 'task-api'], chaos: true });
    const chaos = sut.chaos!;
    const pid = chaos.server.pid;
    try {
      expect([...chaos.proxies.keys()].sort()).toEqual(['id-service', 'task-api']);
      expect(sut.summary()['toxiproxy_url']).toBe(chaos.server.url);
      const idDb = chaos.proxy('id-service');
      expect(idDb.upstream).toBe(`${new URL(sut.databaseUrl).hostname}:${new URL(sut.databaseUrl).port}`);

      // Cutting the id-service's link shows in its /health, and only in its.
      const cut = await idDb.apply(down());
      expect(await healthBecomes(sut.url('id-service'), 503, 5000)).toBeLessThan(5000);
      expect((await fetch(`${sut.url('task-api')}/health`)).status).toBe(200);
      await cut.remove();
      expect(await healthBecomes(sut.url('id-service'), 200, 10_000)).toBeLessThan(10_000);
      expect(() => chaos.proxy('metrics-gateway')).toThrow(/no chaos proxy for "metrics-gateway"/);
    } finally {
      await sut.stop();
    }
    expect(alive(pid)).toBe(false);
  });
});
