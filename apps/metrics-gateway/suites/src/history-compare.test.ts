// The run history's comparison and error breakdown against the real gateway process and a
// real PostgreSQL: runs published with a project key, compared server side by the reports'
// noise-aware rule (a planted p99 regression flagged, a run within its noise not), the
// errors per scenario per hour summed from the points, and bad input refused naming the field.
import { startSut, type Sut } from '@crucible/testbed';
import { testServer } from '@crucible/testbed/testing';
import { describe, expect, it } from 'vitest';
import { drained } from './history-fixtures.js';
import { HistoryPublisher, snapshot, summary } from './history-publisher.js';

const app = 'metrics-gateway';
const api = async (sut: Sut, key: string, path: string) => {
  const res = await fetch(`${sut.url(app)}${path}`, { headers: { authorization: `Bearer ${key}` } });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
};

/** A run of 20 seconds whose p99 wobbles ±2 ms around `p99`, with `errors` errors each second on `scenario`. */
async function publish(pub: HistoryPublisher, runId: string, p99: number, errors = 0, scenario = 'checkout'): Promise<void> {
  let seq = 1;
  const answers = [await pub.publish({ type: 'run_start', run_id: runId, seq: seq++, run: { commit: `c-${runId}`, branch: 'main', machine: 'ci-2cpu' } })];
  for (let t = 1; t <= 20; t++) answers.push(await pub.publish({ type: 'snapshot', run_id: runId, seq: seq++, snapshot: snapshot(runId, scenario, t, p99 + ((t * 7) % 5) - 2, errors) }));
  answers.push(await pub.publish({ type: 'run_end', run_id: runId, seq: seq++, summary: summary(runId, scenario, p99, errors === 0) }));
  expect(answers.every((a) => a.ok)).toBe(true);
}

describe('run history: compare two runs and the error breakdown (real process, real PostgreSQL)', () => {
  it('flags a planted p99 regression and not a run within its noise, sums errors per scenario and hour, and refuses bad input naming the field', async () => {
    await using sut = await startSut({ server: testServer(), apps: [app], env: { LOG_LEVEL: 'warn' } });
    const suffix = Math.random().toString(36).slice(2, 8);
    const { api_key: key } = await sut.createProject(`cmp-${suffix}`, app);
    const { api_key: otherKey } = await sut.createProject(`cmp-other-${suffix}`, app);
    const pub = await HistoryPublisher.connect(sut.url(app), key);
    await publish(pub, `base-${suffix}`, 40);
    await publish(pub, `same-${suffix}`, 41);
    await publish(pub, `slow-${suffix}`, 80, 5);
    await publish(pub, `login-${suffix}`, 20, 2, 'login');
    pub.close();
    const other = await HistoryPublisher.connect(sut.url(app), otherKey);
    await publish(other, `foreign-${suffix}`, 40, 50);
    other.close();
    await drained(sut.url(app));

    const p99 = (c: { comparison: { figures: { figure: string; regressed: boolean; baseline: number; current: number }[] } }) => c.comparison.figures.find((f) => f.figure === 'latency_ms.p99');
    const same = await api(sut, key, `/api/v1/compare?base=base-${suffix}&run=same-${suffix}`);
    expect(same.status).toBe(200);
    expect(same.body['base']).toMatchObject({ run_id: `base-${suffix}`, points: 20 });
    expect(same.body['comparison'].regressed).toBe(false);
    expect(p99(same.body as never)).toMatchObject({ baseline: 40, current: 41, regressed: false });

    const slow = await api(sut, key, `/api/v1/compare?base=base-${suffix}&run=slow-${suffix}`);
    expect(slow.body['comparison'].regressed).toBe(true);
    expect(p99(slow.body as never)).toMatchObject({ baseline: 40, current: 80, regressed: true });
    expect(slow.body['comparison'].figures.find((f: { figure: string }) => f.figure === 'error_rate')).toMatchObject({ current: 0.05, regressed: true });
    expect(slow.body['comparison'].method).toMatch(/bootstrap/);

    // Another project's run is not found for this key, on either side.
    expect((await api(sut, key, `/api/v1/compare?base=base-${suffix}&run=foreign-${suffix}`)).status).toBe(404);
    expect((await api(sut, otherKey, `/api/v1/compare?base=foreign-${suffix}&run=base-${suffix}`)).status).toBe(404);

    const errors = await api(sut, key, '/api/v1/errors?bucket=hour');
    expect(errors.status).toBe(200);
    const byScenario = new Map<string, { requests: number; errors: number; runs: number; failed_runs: number }>();
    for (const s of errors.body['series'] as { scenario: string; requests: number; errors: number; runs: number; failed_runs: number }[]) {
      const row = byScenario.get(s.scenario) ?? { requests: 0, errors: 0, runs: 0, failed_runs: 0 };
      byScenario.set(s.scenario, { requests: row.requests + s.requests, errors: row.errors + s.errors, runs: row.runs + s.runs, failed_runs: row.failed_runs + s.failed_runs });
    }
    // 3 checkout runs × 20 s × 100 requests, 5 errors a second in one; login 20 s × 2 errors. The
    // other project's 1,000 errors are not in it.
    expect(Object.fromEntries(byScenario)).toEqual({
      checkout: { requests: 6000, errors: 100, runs: 3, failed_runs: 1 },
      login: { requests: 2000, errors: 40, runs: 1, failed_runs: 1 },
    });
    expect((await api(sut, key, '/api/v1/errors?scenario=login')).body['series']).toMatchObject([{ scenario: 'login', errors: 40, error_rate: 0.02 }]);

    for (const [path, field] of [
      [`/api/v1/compare?base=base-${suffix}`, 'query.run'],
      ['/api/v1/compare?base=&run=x', 'query.base'],
      [`/api/v1/compare?base=a&run=b&extra=1`, 'query.extra'],
      ['/api/v1/errors?bucket=minute', 'query.bucket'],
      ['/api/v1/errors?since=yesterday', 'query.since'],
      ['/api/v1/errors?since=2026-01-01T00:00:00Z&until=2025-01-01T00:00:00Z', 'query.since'],
      ['/api/v1/errors?since=2020-01-01T00:00:00Z&until=2026-01-01T00:00:00Z', 'query.since'],
    ] as const) {
      const bad = await api(sut, key, path);
      expect(bad.status, path).toBe(400);
      expect(bad.body['error'], path).toMatchObject({ code: 'validation_failed', message: expect.stringContaining(field) });
    }
  });
});
