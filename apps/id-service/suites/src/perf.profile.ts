// `npm run perf:profile -w @crucible/id-service-suites` — where the id-service spends its CPU
// per request: a real id-service process sampled by V8's profiler (@crucible/benchmarks' cpuProfileEnv), loaded for
// `--duration` seconds by autocannon (50 clients, `POST /ids/reserve` on one hot sequence,
// as perf.ts), then stopped so V8 writes the profile. Prints (and writes to
// reports/@crucible/id-service-suites/profile.md) the top self-time functions and packages,
// each as a share of the profile and as µs per answered request.
//
//   npm run perf:profile -w @crucible/id-service-suites -- [--duration=10] [--connections=50] [--top=25]
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { cpuProfileEnv, profileMarkdown, type CpuProfile } from '@crucible/benchmarks';
import { commandLineOrExit, wholeArg, workspaceRoot as findRoot } from '@crucible/instrument-kit';
import { startSut } from '@crucible/testbed';
import autocannon from 'autocannon';

const settings = commandLineOrExit(
  process.argv.slice(2),
  {
    usage: 'npm run perf:profile -w @crucible/id-service-suites --',
    flags: {
      duration: { type: 'string', value: '<s>', description: 'seconds of load (default 10)' },
      connections: { type: 'string', value: '<n>', description: 'concurrent clients (default 50)' },
      top: { type: 'string', value: '<n>', description: 'rows of the function table (default 25)' },
    },
    env: { DATABASE_URL: 'an external PostgreSQL instead of the embedded one' },
  },
  (values) => ({
    duration: wholeArg('--duration', values.duration, 10, 3600),
    connections: wholeArg('--connections', values.connections, 50, 10_000),
    top: wholeArg('--top', values.top, 25, 1000),
  }),
);

const dir = await mkdtemp(path.join(os.tmpdir(), 'id-profile-'));
let answered = 0;
let rps = 0;
try {
  {
    await using sut = await startSut({
      apps: ['id-service'],
      appEnv: { 'id-service': { DB_POOL_MAX: '8', LOG_LEVEL: 'warn', DB_ACQUIRE_TIMEOUT_MS: '5000', ...(await cpuProfileEnv(dir)) } },
    });
    const { api_key } = await sut.createProject('profile');
    process.kill(sut.apps['id-service']?.[0]?.pid ?? 0, 'SIGUSR2');
    const r = await autocannon({
      url: `${sut.url('id-service')}/ids/reserve`,
      connections: settings.connections,
      duration: settings.duration,
      method: 'POST',
      headers: { authorization: `Bearer ${api_key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'US', count: 1 }),
    });
    answered = r['2xx'];
    rps = answered / r.duration;
    // Leaving the block stops the service (SIGTERM, a clean exit), and V8 writes the profile.
  }
  const file = (await readdir(dir)).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`the id-service wrote no .cpuprofile into ${dir}`);
  const md = profileMarkdown(JSON.parse(await readFile(path.join(dir, file), 'utf8')) as CpuProfile, {
    title: `id-service CPU profile: POST /ids/reserve, ${settings.connections} clients, one hot sequence, ${settings.duration} s`,
    answered,
    rps,
    loadAverage: os.loadavg(),
    top: settings.top,
  });
  const out = path.join(findRoot(), 'reports', '@crucible/id-service-suites');
  await mkdir(out, { recursive: true });
  await writeFile(path.join(out, 'profile.md'), md);
  process.stdout.write(md);
} finally {
  await rm(dir, { recursive: true, force: true });
}
