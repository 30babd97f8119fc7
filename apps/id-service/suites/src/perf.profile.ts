// `npm run perf:profile -w @crucible/id-service-suites` — where the id-service spends its CPU
// per request: a real id-service process sampled by V8's profiler (perf.cpu-profile.mjs), loaded for
// `--duration` seconds by autocannon (50 clients, `POST /ids/reserve` on one hot sequence,
// as perf.ts), then stopped so V8 writes the profile. Prints (and writes to
// reports/@crucible/id-service-suites/profile.md) the top self-time functions and packages,
// each as a share of the profile and as µs per answered request.
//
//   npm run perf:profile -w @crucible/id-service-suites -- [--duration=10] [--connections=50] [--top=25]
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
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

/** The part of a V8 `.cpuprofile` the summary reads. */
interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }[];
  startTime: number;
  endTime: number;
  samples: number[];
}

/** Who owns a script: an npm package, Node itself, or Crucible's own sources. */
export function ownerOf(url: string): string {
  if (url === '') return '(V8: gc, idle, native)';
  if (url.startsWith('node:')) return 'node (core)';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const [scope = '', name = ''] = url.slice(nm + '/node_modules/'.length).split('/');
    return scope.startsWith('@') ? `${scope}/${name}` : scope;
  }
  const m = /\/(apps|packages)\/(.+?)\/src\//.exec(url);
  return m ? `crucible ${m[1]}/${m[2]}` : url;
}

/** Self time (ms) per function and per owner, from a profile's sample counts. */
export function selfTimes(profile: CpuProfile): { functions: Map<string, number>; owners: Map<string, number>; totalMs: number } {
  const totalMs = (profile.endTime - profile.startTime) / 1000;
  const perSample = profile.samples.length > 0 ? totalMs / profile.samples.length : 0;
  const hits = new Map<number, number>();
  for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
  const functions = new Map<string, number>();
  const owners = new Map<string, number>();
  for (const node of profile.nodes) {
    const n = hits.get(node.id) ?? 0;
    if (n === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const owner = ownerOf(url);
    const where = url ? `${owner === url ? path.basename(url) : `${owner}: ${path.basename(url)}`}:${lineNumber + 1}` : owner;
    const name = `${functionName || '(anonymous)'} — ${where}`;
    functions.set(name, (functions.get(name) ?? 0) + n * perSample);
    owners.set(owner, (owners.get(owner) ?? 0) + n * perSample);
  }
  return { functions, owners, totalMs };
}

const dir = await mkdtemp(path.join(os.tmpdir(), 'id-profile-'));
const profiler = path.join(import.meta.dirname, 'perf.cpu-profile.mjs');
let answered = 0;
let rps = 0;
try {
  {
    await using sut = await startSut({
      apps: ['id-service'],
      appEnv: { 'id-service': { DB_POOL_MAX: '8', LOG_LEVEL: 'warn', DB_ACQUIRE_TIMEOUT_MS: '5000', NODE_OPTIONS: `--import=${profiler}`, CRUCIBLE_CPU_PROFILE_DIR: dir } },
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
  const { functions, owners, totalMs } = selfTimes(JSON.parse(await readFile(path.join(dir, file), 'utf8')) as CpuProfile);
  const row = ([name, ms]: [string, number]) => `| ${name.replaceAll('|', '\\|')} | ${ms.toFixed(0)} | ${((100 * ms) / totalMs).toFixed(1)} | ${((1000 * ms) / Math.max(1, answered)).toFixed(1)} |`;
  const byTime = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]);
  const busyMs = [...functions].filter(([name]) => !name.startsWith('(idle)')).reduce((a, [, ms]) => a + ms, 0);
  const md = [
    `# id-service CPU profile: POST /ids/reserve, ${settings.connections} clients, one hot sequence, ${settings.duration} s`,
    '',
    `${answered} answered (${rps.toFixed(0)}/s), load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}; profile ${totalMs.toFixed(0)} ms, ` +
      `of it not idle ${busyMs.toFixed(0)} ms = ${((1000 * busyMs) / Math.max(1, answered)).toFixed(0)} µs per answered request.`,
    '',
    '| function (self time) | ms | % of profile | µs / request |',
    '|---|---:|---:|---:|',
    ...byTime(functions).slice(0, settings.top).map(row),
    '',
    '| owner (self time) | ms | % of profile | µs / request |',
    '|---|---:|---:|---:|',
    ...byTime(owners).slice(0, 15).map(row),
    '',
  ].join('\n');
  const out = path.join(findRoot(), 'reports', '@crucible/id-service-suites');
  await mkdir(out, { recursive: true });
  await writeFile(path.join(out, 'profile.md'), md);
  process.stdout.write(md);
} finally {
  await rm(dir, { recursive: true, force: true });
}
