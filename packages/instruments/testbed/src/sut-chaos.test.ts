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

  it('starts the ID service before the task API that needs it, through an id-service-from-task-api link a step can cut', async () => {
    // Only the task API is asked for: the ID service comes with it (crucible.needs).
    const sut = await startSut({ server: testServer(), apps: ['task-api'], chaos: true, env: { LOG_LEVEL: 'silent' } });
    try {
      expect(Object.keys(sut.apps).sort()).toEqual(['id-service', 'task-api']);
      const link = sut.chaos!.link('task-api', 'id-service');
      expect(link.upstream).toBe(new URL(sut.url('id-service')).host);
      // One database: a project created through the task API has its key accepted by the ID service.
      const { api_key } = await sut.createProject('linked');
      const auth = { authorization: `Bearer ${api_key}`, 'content-type': 'application/json' };
      const direct = await fetch(`${sut.url('id-service')}/ids/registry`, { headers: auth });
      expect(direct.status).toBe(200);
      const create = () => fetch(`${sut.url('task-api')}/tasks`, { method: 'POST', headers: auth, body: JSON.stringify({ title: 'generated' }) });
      const first = await create();
      expect(first.status).toBe(201);
      expect(((await first.json()) as { task_id: string }).task_id).toBe('TASK-001');
      // Cut the link: the task API's creates need a new block only after 32, so a fresh project shows it at once.
      const { api_key: other } = await sut.createProject('linked-cut');
      const cut = await link.apply(down());
      try {
        const refused = await fetch(`${sut.url('task-api')}/tasks`, { method: 'POST', headers: { ...auth, authorization: `Bearer ${other}` }, body: JSON.stringify({ title: 'x' }) });
        expect(refused.status).toBe(503);
        expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('dependency_unavailable');
        // The ID service itself is untouched: only the task API's way to it is cut.
        expect((await fetch(`${sut.url('id-service')}/health`)).status).toBe(200);
      } finally {
        await cut.remove();
      }
    } finally {
      await sut.stop();
    }
  });
});
