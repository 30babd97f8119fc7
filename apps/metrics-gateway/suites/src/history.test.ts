// The metrics gateway's run history against the real gateway process and a real PostgreSQL
// (the testbed's): what a project publishes with its key is stored, read back per project
// over /api/v1 and in SQL, survives a SIGTERM, and is refused (never dropped) when the
// database is down and the buffer is full.
import { down } from '@crucible/chaos';
import { createDb, createPool } from '@crucible/db';
import { createDatabase, discoverApps, startApp, startSut, type Sut } from '@crucible/testbed';
import { testServer } from '@crucible/testbed/testing';
import { describe, expect, it } from 'vitest';
import { drained, publishRun, twoProjects } from './history-fixtures.js';
import { checkHistoryIsolation } from './history-isolation.js';
import { HistoryPublisher, snapshot, type PublishAnswer } from './history-publisher.js';

const app = 'metrics-gateway';
const api = async (sut: Sut, key: string, path: string) => {
  const res = await fetch(`${sut.url(app)}${path}`, { headers: { authorization: `Bearer ${key}` } });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
};

describe('metrics gateway run history (real process, real PostgreSQL)', () => {
  it('stores each project’s runs, points and summaries, and a key reads only its own project’s, over /api/v1 and in SQL', async () => {
    await using sut = await startSut({ server: testServer(), apps: [app], env: { LOG_LEVEL: 'warn' } });
    const [alpha, beta] = await twoProjects(sut);
    const db = createDb(createPool({ connectionString: sut.databaseUrl, max: 2 }));
    try {
      const verdicts = await checkHistoryIsolation(sut.url(app), db, [alpha, beta], 3);
      expect(verdicts.map((v) => [v.checker, v.status, v.summary])).toEqual([
        ['api-isolation', 'pass', expect.any(String)],
        ['history-sql-isolation', 'pass', expect.any(String)],
      ]);
      // Rows the checks saw: 3 rounds × 2 projects × (3 listed + 3 trend) runs.
      expect(verdicts[0]!.counts['items']).toBe(36);
      const points = await db.selectFrom('gateway_points').select(['project_id', 'histogram']).where('run_id', '=', alpha.runs[0]!).execute();
      expect(points).toHaveLength(3);
      expect(points.every((p) => p.project_id === alpha.project && p.histogram?.startsWith('HISTFAKE'))).toBe(true);
    } finally {
      await db.destroy();
    }

    const key = alpha.apiKey;
    const listed = (await api(sut, key, '/api/v1/runs')).body['runs'] as { run_id: string; outcome: string; branch: string; commit: string }[];
    expect(listed.map((r) => r.run_id).sort()).toEqual([...alpha.runs].sort());
    expect((await api(sut, key, '/api/v1/runs?branch=feature')).body['runs'].map((r: { run_id: string }) => r.run_id)).toEqual([alpha.runs[2]]);
    expect((await api(sut, key, '/api/v1/runs?outcome=failed')).body['runs'].map((r: { run_id: string }) => r.run_id)).toEqual([alpha.runs[1]]);
    expect((await api(sut, key, '/api/v1/runs?scenario=nope')).body['runs']).toEqual([]);
    expect((await api(sut, key, `/api/v1/runs?since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).body['runs']).toEqual([]);

    const detail = await api(sut, key, `/api/v1/runs/${alpha.runs[1]}`);
    expect(detail.status).toBe(200);
    expect(detail.body['run']).toMatchObject({ project_id: alpha.project, commit: `c-${alpha.runs[1]}`, machine: 'ci-2cpu', profile: 'quick', outcome: 'failed', duration_s: 3 });
    expect(detail.body['scenarios']).toMatchObject([{ scenario: 'checkout', errors: 30, error_rate: 0.1, p99_ms: 50, passed: false, thresholds: [{ expression: 'p(99)<100', actual: 50 }] }]);
    expect(detail.body['points'].map((p: { t: number; p99_ms: number }) => [p.t, p.p99_ms])).toEqual([
      [1, 50],
      [2, 50],
      [3, 50],
    ]);
    expect((await api(sut, key, `/api/v1/runs/${beta.runs[0]}`)).status).toBe(404);
    expect((await api(sut, 'ck_not-a-key', '/api/v1/runs')).status).toBe(401);

    const trend = await api(sut, key, '/api/v1/trend?scenario=checkout&last=2');
    // Newest first: runs 2 and 1, with their own figures.
    expect(trend.body['runs'].map((r: { run_id: string; p50_ms: number; p95_ms: number; p99_ms: number; error_rate: number }) => [r.run_id, r.p50_ms, r.p95_ms, r.p99_ms, r.error_rate])).toEqual([
      [alpha.runs[2], 15, 30, 60, 0],
      [alpha.runs[1], 12.5, 25, 50, 0.1],
    ]);

    // A key cannot publish into another project's run.
    const intruder = await HistoryPublisher.connect(sut.url(app), beta.apiKey);
    const live = `${alpha.project}-live`;
    const owner = await HistoryPublisher.connect(sut.url(app), key);
    expect((await owner.publish({ type: 'snapshot', run_id: live, seq: 1, snapshot: snapshot(live, 'checkout', 1, 10) })).ok).toBe(true);
    expect(await intruder.publish({ type: 'snapshot', run_id: live, seq: 2, snapshot: snapshot(live, 'checkout', 2, 10) })).toMatchObject({ ok: false, code: 'forbidden' });
    owner.close();
    intruder.close();
  });

  it('does not start on a database without the history tables, naming the migration to run', async () => {
    await using empty = await createDatabase(testServer(), 'template0', 'gateway_unmigrated');
    const manifest = discoverApps().find((a) => a.name === app);
    if (!manifest) throw new Error('apps/metrics-gateway not found');
    await expect(startApp(manifest, { env: { CRUCIBLE_ADMIN_TOKEN: 'history-test-admin-token-0123', DATABASE_URL: empty.url } })).rejects.toThrow(
      /no run history tables \(gateway_runs\): run the migrations/,
    );
  });

  it('keeps every acknowledged point across a SIGTERM (the buffer is written before exit), and a SIGKILL shows the test can tell', async () => {
    // A flush interval and batch far past the test: nothing is written before the signal, so
    // the points are in the database only if the shutdown writes the buffer.
    const env = { LOG_LEVEL: 'warn', GATEWAY_STORE_FLUSH_MS: '60000', GATEWAY_STORE_BATCH_ROWS: '100000' };
    await using sut = await startSut({ server: testServer(), apps: [app], env });
    const { api_key } = await sut.createProject(`durable-${Math.random().toString(36).slice(2, 8)}`, app);
    const points = async (runId: string, n: number) => {
      const pub = await HistoryPublisher.connect(sut.url(app), api_key);
      const answers = await publishRun(pub, runId, { scenario: 'ingest', p99: 20, passed: true, branch: 'main', points: n });
      pub.close();
      return answers.filter((a) => a.ok).length;
    };
    const readBack = async (runId: string) => {
      const d = await api(sut, api_key, `/api/v1/runs/${runId}`);
      return d.status === 200 ? (d.body['points'] as unknown[]).length : 0;
    };

    expect(await points('term-run', 200)).toBe(202);
    await sut.apps[app]![0]!.stop();
    await sut.startReplica(app, env);
    // The stopped process leaves the list, so sut.url() is the restarted one's.
    sut.apps[app]!.splice(0, 1);
    expect(await readBack('term-run')).toBe(200);

    // The control: the same with SIGKILL (no shutdown) loses what was buffered, so the
    // assertion above could have failed.
    expect(await points('kill-run', 200)).toBe(202);
    await sut.apps[app]![0]!.kill();
    await sut.startReplica(app, env);
    sut.apps[app]!.splice(0, 1);
    expect(await readBack('kill-run')).toBe(0);
  });

  it('refuses publishes with database_unavailable once its buffer is full in a database outage (a real Toxiproxy cut), and takes them again after', async () => {
    const env = { LOG_LEVEL: 'error', GATEWAY_STORE_BUFFER_ROWS: '50', GATEWAY_STORE_FLUSH_MS: '50', DB_STATEMENT_TIMEOUT_MS: '1000' };
    await using sut = await startSut({ server: testServer(), apps: [app], env, chaos: true });
    const { api_key } = await sut.createProject(`outage-${Math.random().toString(36).slice(2, 8)}`, app);
    const pub = await HistoryPublisher.connect(sut.url(app), api_key);
    // The key is verified (and cached) before the cut.
    expect((await pub.publish({ type: 'run_start', run_id: 'outage-run', seq: 1, run: { branch: 'main' } })).ok).toBe(true);
    await drained(sut.url(app));

    const cut = await sut.chaos!.proxy(app).apply(down());
    const answers: PublishAnswer[] = [];
    for (let t = 1; t <= 80; t++) answers.push(await pub.publish({ type: 'snapshot', run_id: 'outage-run', seq: t + 1, snapshot: snapshot('outage-run', 'ingest', t, 20) }));
    const acked = answers.filter((a) => a.ok).length;
    const refused = answers.filter((a) => !a.ok);
    // The bound is 50 rows: 50 points are held (one more if a flush got in as the cut took
    // effect), then every publish is refused, each told why; none is acked and dropped.
    expect(acked).toBeGreaterThanOrEqual(50);
    expect(acked).toBeLessThanOrEqual(51);
    expect(answers.slice(0, acked).every((a) => a.ok)).toBe(true);
    expect(refused).toHaveLength(80 - acked);
    expect(refused[0]).toMatchObject({ ok: false, code: 'database_unavailable', details: { run_id: 'outage-run', buffered_rows: 50, buffer_rows: 50 } });
    await cut.remove();
    await drained(sut.url(app), 20_000);
    // The publisher resends what was refused; every point is then stored, none twice.
    for (let t = acked + 1; t <= 80; t++) expect((await pub.publish({ type: 'snapshot', run_id: 'outage-run', seq: t + 1, snapshot: snapshot('outage-run', 'ingest', t, 20) })).ok).toBe(true);
    await drained(sut.url(app));
    pub.close();
    const d = await api(sut, api_key, '/api/v1/runs/outage-run');
    expect((d.body['points'] as { t: number }[]).map((p) => p.t)).toEqual(Array.from({ length: 80 }, (_, i) => i + 1));
  });
});
