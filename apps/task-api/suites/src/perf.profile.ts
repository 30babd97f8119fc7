// `npm run perf:profile -w @crucible/task-api-suites` — where the task API spends its CPU per
// request: a real task-api process sampled by V8's profiler (@crucible/benchmarks'
// cpuProfileEnv), loaded for `--duration` s by autocannon (`GET /tasks/next` on 1,000 seeded
// tasks, or `POST /tasks` with generated ids), then stopped so V8 writes the profile. Prints
// (and writes to reports/@crucible/task-api-suites/profile-<endpoint>.md) the top self-time
// functions and packages, as shares of the profile and as µs per answered request.
//
//   npm run perf:profile -w @crucible/task-api-suites -- [--endpoint=next|create] [--duration=10] [--connections=50] [--top=30]
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { cpuProfileEnv, profileMarkdown, type CpuProfile } from '@crucible/benchmarks';
import { commandLineOrExit, InstrumentError, wholeArg, workspaceRoot } from '@crucible/instrument-kit';
import { startSut } from '@crucible/testbed';
import autocannon from 'autocannon';

const settings = commandLineOrExit(
  process.argv.slice(2),
  {
    usage: 'npm run perf:profile -w @crucible/task-api-suites --',
    flags: {
      endpoint: { type: 'string', value: '<next|create>', description: 'GET /tasks/next (default) or POST /tasks' },
      duration: { type: 'string', value: '<s>', description: 'seconds of load (default 10)' },
      connections: { type: 'string', value: '<n>', description: 'concurrent clients (default 50)' },
      top: { type: 'string', value: '<n>', description: 'rows of the function table (default 30)' },
    },
    env: { DATABASE_URL: 'an external PostgreSQL instead of the embedded one' },
  },
  (v) => {
    const endpoint = v.endpoint ?? 'next';
    if (endpoint !== 'next' && endpoint !== 'create') throw new InstrumentError('bad_argument', `--endpoint must be next or create, not ${endpoint}`);
    return {
      endpoint,
      duration: wholeArg('--duration', v.duration, 10, 3600),
      connections: wholeArg('--connections', v.connections, 50, 10_000),
      top: wholeArg('--top', v.top, 30, 1000),
    };
  },
);

const dir = await mkdtemp(path.join(os.tmpdir(), 'task-profile-'));
let answered = 0;
let rps = 0;
try {
  {
    await using sut = await startSut({ apps: ['task-api'], appEnv: { 'task-api': { LOG_LEVEL: 'warn', DB_ACQUIRE_TIMEOUT_MS: '5000', ...(await cpuProfileEnv(dir)) } } });
    const { api_key } = await sut.createProject('profile');
    const base = sut.url('task-api');
    const headers = { authorization: `Bearer ${api_key}`, 'content-type': 'application/json' };
    if (settings.endpoint === 'next') {
      for (let i = 0; i < 1000; i += 20) {
        await Promise.all(Array.from({ length: 20 }, (_, j) => fetch(`${base}/tasks`, { method: 'POST', headers, body: JSON.stringify({ title: `t${i + j}`, priority: (i + j) % 10 }) })));
      }
    }
    process.kill(sut.apps['task-api']?.[0]?.pid ?? 0, 'SIGUSR2');
    const r = await autocannon(
      settings.endpoint === 'next'
        ? { url: `${base}/tasks/next`, connections: settings.connections, duration: settings.duration, headers }
        : { url: `${base}/tasks`, method: 'POST', connections: settings.connections, duration: settings.duration, headers, body: JSON.stringify({ title: 'perf', priority: 3 }) },
    );
    answered = r['2xx'];
    rps = answered / r.duration;
    // Leaving the block stops the task API (SIGTERM, a clean exit), and V8 writes the profile.
  }
  const file = (await readdir(dir)).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`the task-api wrote no .cpuprofile into ${dir}`);
  const md = profileMarkdown(JSON.parse(await readFile(path.join(dir, file), 'utf8')) as CpuProfile, {
    title: `task-api CPU profile: ${settings.endpoint === 'next' ? 'GET /tasks/next' : 'POST /tasks'}, ${settings.connections} clients, ${settings.duration} s`,
    answered,
    rps,
    loadAverage: os.loadavg(),
    top: settings.top,
  });
  const out = path.join(workspaceRoot(), 'reports', '@crucible/task-api-suites');
  await mkdir(out, { recursive: true });
  await writeFile(path.join(out, `profile-${settings.endpoint}.md`), md);
  process.stdout.write(md);
} finally {
  await rm(dir, { recursive: true, force: true });
}
process.exit(0);
