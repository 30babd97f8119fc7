// `npm run perf -w @crucible/id-service-suites` — reservations per second over HTTP at 50
// concurrent clients (autocannon against a real id-service process), next to pgbench
// running the same upsert on the same PostgreSQL: the database's own ceiling. Not part of
// CI: it saturates the machine for about three minutes.
//
//   npm run perf -w @crucible/id-service-suites -- [--duration=10] [--repeat=3] [--pool=8] [--connections=50]
//
// Seven scenarios, interleaved and repeated: one hot sequence (every request updates the same
// row, so they serialise on its row lock) and ten sequences (5 projects × 2 types, independent
// rows), each through the service and through pgbench; plus three HTTP floors without a
// database: a bare node:http server, a bare Express 5 app, and the service's own stack.
// Besides the rate, every scenario records the CPU each party spent per operation (service
// process, PostgreSQL backends, load generator) from /proc, a figure a busy shared machine
// disturbs far less than the rate. The workloads are in perf.workloads.ts, the summary and
// table in perf.report.ts. Writes reports/@crucible/id-service-suites/perf.{json,md} and
// prints the table.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { commandLineOrExit, wholeArg, workspaceRoot as findRoot } from '@crucible/instrument-kit';
import { startSut } from '@crucible/testbed';
import pg from 'pg';
import { stat } from '@crucible/benchmarks';
import { perfMarkdown, summarisePerf } from './perf.report.js';
import { perfScenarios, projects, type Sample } from './perf.workloads.js';

const settings = commandLineOrExit(
  process.argv.slice(2),
  {
    usage: 'npm run perf -w @crucible/id-service-suites --',
    flags: {
      duration: { type: 'string', value: '<s>', description: 'seconds per measurement (default 10)' },
      repeat: { type: 'string', value: '<n>', description: 'rounds of every scenario (default 3)' },
      pool: { type: 'string', value: '<n>', description: "the id-service's DB_POOL_MAX (default 8)" },
      connections: { type: 'string', value: '<n>', description: 'concurrent clients (default 50)' },
    },
    env: { DATABASE_URL: 'an external PostgreSQL instead of the embedded one' },
  },
  (values) => ({
    duration: wholeArg('--duration', values.duration, 10, 3600),
    repeat: wholeArg('--repeat', values.repeat, 3, 100),
    poolMax: wholeArg('--pool', values.pool, 8, 1000),
    connections: wholeArg('--connections', values.connections, 50, 10_000),
  }),
);

await using sut = await startSut({
  apps: ['id-service'],
  appEnv: { 'id-service': { DB_POOL_MAX: String(settings.poolMax), LOG_LEVEL: 'warn', DB_ACQUIRE_TIMEOUT_MS: '5000' } },
});
const keys: Record<string, string> = {};
for (const p of [...projects, 'pgbench']) keys[p] = (await sut.createProject(p)).api_key;
const tmp = await mkdtemp(path.join(os.tmpdir(), 'id-perf-'));
const db = new pg.Client({ connectionString: sut.databaseUrl });
await db.connect();
const backendPid = Number((await db.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]?.pid);

const scenarios = perfScenarios({
  base: sut.url('id-service'),
  servicePid: sut.apps['id-service']?.[0]?.pid ?? 0,
  postmasterPid: stat(backendPid)?.ppid ?? 0,
  databaseUrl: sut.databaseUrl,
  db,
  keys,
  tmp,
  connections: settings.connections,
  duration: settings.duration,
});
const samples: Sample[] = [];
try {
  // Interleaved rounds, so a burst of load from elsewhere on the machine hits every
  // scenario alike instead of one of them.
  for (let round = 1; round <= settings.repeat; round++) {
    for (const { name, run } of scenarios) {
      const s = await run();
      samples.push(s);
      process.stderr.write(`round ${round}/${settings.repeat} ${name}: ${s.rps.toFixed(0)}/s, errors ${s.errors}, load ${os.loadavg()[0]?.toFixed(1)}\n`);
    }
  }
} finally {
  await db.end();
  await rm(tmp, { recursive: true, force: true });
}

const summary = summarisePerf(
  scenarios.map((s) => s.name),
  samples,
  settings,
);
const md = perfMarkdown(summary);
const dir = path.join(findRoot(), 'reports', '@crucible/id-service-suites');
await mkdir(dir, { recursive: true });
await writeFile(path.join(dir, 'perf.json'), `${JSON.stringify(summary, null, 2)}\n`);
await writeFile(path.join(dir, 'perf.md'), md);
process.stdout.write(md);
