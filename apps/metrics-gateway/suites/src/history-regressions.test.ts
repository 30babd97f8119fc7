// Regression detection across the run history, against the real gateway process and a real
// PostgreSQL: each run of a scenario is compared with its last K ended runs on the same
// machine class by the reports' noise-aware rule. Three clean runs, one within their noise
// (not flagged) and one with a planted p99 regression (flagged, by how much and the bound);
// another machine class's and another project's runs are never its baseline; bad input is
// refused naming the field; the history page is served self-contained.
import { startSut, type Sut } from '@crucible/testbed';
import { testServer } from '@crucible/testbed/testing';
import { describe, expect, it } from 'vitest';
import { drained, publishRun } from './history-fixtures.js';
import { HistoryPublisher } from './history-publisher.js';

const app = 'metrics-gateway';
const api = async (sut: Sut, key: string, path: string) => {
  const res = await fetch(`${sut.url(app)}${path}`, { headers: { authorization: `Bearer ${key}` } });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
};

interface TrendRun {
  run_id: string;
  p99_ms: number;
  regression: { judged: boolean; regressed: boolean; baseline_runs: string[]; figures: { metric: string; baseline: number; current: number; by: number; bound: number }[] } | null;
}

describe('run history: regressions against the last K runs of a scenario on its machine class (real process, real PostgreSQL)', () => {
  it('flags a planted p99 regression and not a run within the noise, compares like with like, and refuses bad input naming the field', async () => {
    await using sut = await startSut({ server: testServer(), apps: [app], env: { LOG_LEVEL: 'warn' } });
    const suffix = Math.random().toString(36).slice(2, 8);
    const { api_key: key } = await sut.createProject(`reg-${suffix}`, app);
    const { api_key: otherKey } = await sut.createProject(`reg-other-${suffix}`, app);
    const t0 = Date.now() - 3_600_000;
    let minute = 0;
    const pub = await HistoryPublisher.connect(sut.url(app), key);
    const publish = async (runId: string, p99: number, machine: string) => {
      const answers = await publishRun(pub, runId, { scenario: 'checkout', p99, passed: true, branch: 'main', machine, startedAt: new Date(t0 + 60_000 * minute++) });
      expect(answers.every((a) => a.ok), runId).toBe(true);
    };
    // Interleaved in time: the slow machine class's runs sit between the 2-core ones.
    const clean = [`clean-1-${suffix}`, `clean-2-${suffix}`, `clean-3-${suffix}`];
    await publish(clean[0]!, 40, 'ci-2cpu');
    await publish(`big-1-${suffix}`, 200, 'arm-1cpu');
    await publish(clean[1]!, 42, 'ci-2cpu');
    await publish(`big-2-${suffix}`, 205, 'arm-1cpu');
    await publish(clean[2]!, 39, 'ci-2cpu');
    await publish(`big-3-${suffix}`, 198, 'arm-1cpu');
    await publish(`noise-${suffix}`, 43, 'ci-2cpu');
    await publish(`planted-${suffix}`, 80, 'ci-2cpu');
    await publish(`big-4-${suffix}`, 202, 'arm-1cpu');
    pub.close();
    // Another project's fast runs on the same machine class and scenario: never a baseline here.
    const other = await HistoryPublisher.connect(sut.url(app), otherKey);
    for (let i = 0; i < 3; i++) await publishRun(other, `foreign-${i}-${suffix}`, { scenario: 'checkout', p99: 5, passed: true, branch: 'main', startedAt: new Date(t0 + 60_000 * 7.5) });
    other.close();
    await drained(sut.url(app));

    const trend = await api(sut, key, '/api/v1/trend?scenario=checkout&last=20');
    expect(trend.status).toBe(200);
    expect(trend.body['k']).toBe(5);
    const byId = new Map((trend.body['runs'] as TrendRun[]).map((r) => [r.run_id, r]));
    expect(byId.size).toBe(9);
    // Fewer than 3 earlier runs of the scenario on the machine class: no verdict (not a pass).
    for (const id of [...clean, `big-1-${suffix}`, `big-2-${suffix}`, `big-3-${suffix}`]) expect(byId.get(id)?.regression, id).toMatchObject({ judged: false, regressed: false });
    expect(byId.get(clean[2]!)?.regression?.baseline_runs).toEqual([clean[1], clean[0]]);
    // 43 ms against 40, 42, 39: within the noise.
    expect(byId.get(`noise-${suffix}`)?.regression).toEqual({ judged: true, regressed: false, baseline_runs: [clean[2], clean[1], clean[0]], figures: [], unjudged: [] });
    // The planted regression: 80 ms against a median of 41 (40, 42, 39, 43), past the bound.
    const planted = byId.get(`planted-${suffix}`)?.regression;
    expect(planted).toMatchObject({ judged: true, regressed: true, baseline_runs: [`noise-${suffix}`, clean[2], clean[1], clean[0]] });
    const p99 = planted?.figures.find((f) => f.metric === 'latency_ms.p99');
    expect(p99).toMatchObject({ baseline: 41, current: 80, by: 39 });
    expect(p99!.bound).toBeGreaterThan(2);
    expect(p99!.bound).toBeLessThan(39);
    // The 1-core machine class is compared with itself only (≈200 ms is its normal).
    expect(byId.get(`big-4-${suffix}`)?.regression).toMatchObject({ judged: true, regressed: false, baseline_runs: [`big-3-${suffix}`, `big-2-${suffix}`, `big-1-${suffix}`] });

    // K bounds the baseline: the last 3 runs of the machine class.
    const k3 = await api(sut, key, '/api/v1/trend?scenario=checkout&last=1&k=3');
    expect(k3.body['runs']).toMatchObject([{ run_id: `big-4-${suffix}`, regression: { baseline_runs: [`big-3-${suffix}`, `big-2-${suffix}`, `big-1-${suffix}`] } }]);
    const plantedK3 = await api(sut, key, `/api/v1/runs/planted-${suffix}/regressions?k=3`);
    expect(plantedK3.status).toBe(200);
    expect(plantedK3.body).toMatchObject({ run_id: `planted-${suffix}`, machine: 'ci-2cpu', k: 3, regressed: true, scenarios: [{ scenario: 'checkout', judged: true, regressed: true, baseline_runs: [`noise-${suffix}`, clean[2], clean[1]] }] });
    expect(plantedK3.body['scenarios'][0].figures.map((f: { metric: string }) => f.metric)).toContain('latency_ms.p99');
    expect((await api(sut, key, `/api/v1/runs/noise-${suffix}/regressions`)).body).toMatchObject({ regressed: false, k: 5, scenarios: [{ judged: true, regressed: false }] });
    // Another project's run is not found for this key.
    expect((await api(sut, otherKey, `/api/v1/runs/planted-${suffix}/regressions`)).status).toBe(404);

    for (const [path, field] of [
      ['/api/v1/trend?scenario=checkout&k=2', 'query.k'],
      ['/api/v1/trend?scenario=checkout&k=51', 'query.k'],
      ['/api/v1/trend?scenario=checkout&k=five', 'query.k'],
      [`/api/v1/runs/planted-${suffix}/regressions?k=0`, 'query.k'],
      [`/api/v1/runs/planted-${suffix}/regressions?base=x`, 'query.base'],
      ['/history?k=100', 'query.k'],
      ['/history?last=1', 'query.last'],
      ['/history?project=x', 'query.project'],
    ] as const) {
      const bad = await api(sut, key, path);
      expect(bad.status, path).toBe(400);
      expect(bad.body['error'], path).toMatchObject({ code: 'validation_failed', message: expect.stringContaining(field) });
    }

    // The page: self-contained (its own inline script and style by hash, nothing external).
    const page = await fetch(`${sut.url(app)}/history?scenario=checkout`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toMatch(/default-src 'none'; script-src 'sha256-[^']+'; style-src 'sha256-[^']+'; connect-src 'self'/);
    const html = await page.text();
    expect(html).toContain('"scenario":"checkout"');
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=/);
  });
});
