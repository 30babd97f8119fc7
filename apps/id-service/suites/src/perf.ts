// `npm run perf -w @crucible/id-service-suites` — reservations per second over HTTP at 50
// concurrent clients (autocannon against a real id-service process), next to pgbench
// running the same upsert on the same PostgreSQL: the database's own ceiling. Not part of
// CI: it saturates the machine for about two minutes.
//
//   npm run perf -w @crucible/id-service-suites -- [--duration=10] [--repeat=3] [--pool=8] [--connections=50]
//
// Five scenarios, interleaved and repeated: one hot sequence (every request updates the same
// row, so they serialise on its row lock) and ten sequences (5 projects × 2 types, independent
// rows), each through the service and through pgbench, plus a bare node:http server as the
// floor of HTTP on this machine. Writes reports/@crucible/id-service-suites/perf.{json,md}
// and prints the table.
import { execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import autocannon from 'autocannon';
import { startSut, workspaceRoot } from '@crucible/testbed';
import pg from 'pg';

const run = promisify(execFile);

function flag(name: string, fallback: number): number {
  const arg = process.argv.slice(2).find((a) => a.startsWith(`--${name}=`));
  if (!arg) return fallback;
  const v = Number(arg.split('=')[1]);
  if (!Number.isInteger(v) || v <= 0) throw new Error(`--${name} must be a positive whole number, got ${arg}`);
  return v;
}
for (const a of process.argv.slice(2)) {
  if (!/^--(duration|repeat|pool|connections)=/.test(a)) throw new Error(`unknown option ${a}: use --duration=, --repeat=, --pool=, --connections=`);
}
const duration = flag('duration', 10);
const repeat = flag('repeat', 3);
const poolMax = flag('pool', 8);
const connections = flag('connections', 50);

const upsert = (project: string, type: string) =>
  `INSERT INTO id_registry (project_id, artifact_type, last_assigned_id) VALUES (${project}, ${type}, 1)
  ON CONFLICT (project_id, artifact_type) DO UPDATE
  SET last_assigned_id = id_registry.last_assigned_id + EXCLUDED.last_assigned_id, updated_at = now()
  RETURNING last_assigned_id;`;

const projects = ['perf1', 'perf2', 'perf3', 'perf4', 'perf5'];
const types = ['US', 'BUG'];

interface Sample {
  scenario: string;
  rps: number;
  p50_ms?: number;
  p99_ms?: number;
  errors: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

await using sut = await startSut({
  apps: ['id-service'],
  appEnv: { 'id-service': { DB_POOL_MAX: String(poolMax), LOG_LEVEL: 'warn', DB_ACQUIRE_TIMEOUT_MS: '5000' } },
});
const base = sut.url('id-service');
const keys: Record<string, string> = {};
for (const p of [...projects, 'pgbench']) keys[p] = (await sut.createProject(p)).api_key;
const tmp = await mkdtemp(path.join(os.tmpdir(), 'id-perf-'));
const db = new pg.Client({ connectionString: sut.databaseUrl });
await db.connect();

async function registryTotal(project: string, type?: string): Promise<number> {
  const { rows } = await db.query<{ n: string }>(
    `select coalesce(sum(last_assigned_id), 0)::text as n from id_registry where project_id = $1 and ($2::text is null or artifact_type = $2)`,
    [project, type ?? null],
  );
  return Number(rows[0]?.n);
}

async function http(scenario: string, spread: boolean): Promise<Sample> {
  const total = async () => {
    if (!spread) return registryTotal('perf1', 'US');
    let sum = 0;
    for (const p of projects) sum += await registryTotal(p);
    return sum;
  };
  const before = await total();
  // Ten sequences: one autocannon instance per sequence (connections split evenly), so each
  // sends a fixed request and the client does no per-request set-up work.
  const targets = spread ? projects.flatMap((project) => types.map((type) => ({ project, type }))) : [{ project: 'perf1', type: 'US' }];
  const per = Math.max(1, Math.round(connections / targets.length));
  const results = await Promise.all(
    targets.map((t) =>
      autocannon({
        url: `${base}/ids/reserve`,
        connections: per,
        duration,
        method: 'POST',
        headers: { authorization: `Bearer ${keys[t.project]}`, 'content-type': 'application/json' },
        body: JSON.stringify({ type: t.type, count: 1 }),
      }),
    ),
  );
  const after = await total();
  const ok = results.reduce((a, r) => a + r['2xx'], 0);
  // Every 200 handed out exactly one ID. autocannon stops counting with up to one request per
  // connection still in flight, and the service completes those, so the registry may be ahead
  // by at most one per connection — never behind (a lost update) and never further ahead.
  const extra = after - before - ok;
  if (extra < 0 || extra > per * targets.length) throw new Error(`${scenario}: ${ok} answers of 200 but the registry grew by ${after - before}`);
  return {
    scenario,
    rps: results.reduce((a, r) => a + r['2xx'] / r.duration, 0),
    p50_ms: median(results.map((r) => r.latency.p50)),
    p99_ms: Math.max(...results.map((r) => r.latency.p99)),
    errors: results.reduce((a, r) => a + r.non2xx + r.errors, 0),
  };
}

async function pgbench(scenario: string, spread: boolean): Promise<Sample> {
  const script = path.join(tmp, `${spread ? 'spread' : 'hot'}.sql`);
  await writeFile(
    script,
    spread ? `\\set p random(1, ${projects.length})\n\\set t random(1, ${types.length})\n${upsert(`'perf' || :p`, `(array['US','BUG'])[:t]`)}\n` : `${upsert(`'pgbench'`, `'US'`)}\n`,
  );
  const { stdout } = await run('pgbench', ['-n', '-c', String(connections), '-j', '2', '-T', String(duration), '-f', script, sut.databaseUrl], {
    maxBuffer: 1 << 24,
  });
  const tps = /tps = ([\d.]+)/.exec(stdout)?.[1];
  const latency = /latency average = ([\d.]+) ms/.exec(stdout)?.[1];
  const failed = /number of failed transactions: (\d+)/.exec(stdout)?.[1];
  if (!tps) throw new Error(`${scenario}: no tps in pgbench output:\n${stdout}`);
  return { scenario, rps: Number(tps), ...(latency ? { p50_ms: Number(latency) } : {}), errors: Number(failed ?? 0) };
}

// The floor of HTTP on this machine: a bare node:http process answering the same JSON with
// no framework, no auth and no database, loaded by the same autocannon. The service cannot
// beat it, so it bounds what "half of pgbench" can mean here.
const bareServer = `
const http = require('node:http');
const body = JSON.stringify({ project_id: 'perf1', type: 'US', ids: ['US-001'], first: 1, last: 1 });
const s = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
});
s.keepAliveTimeout = 65000;
s.listen(0, '127.0.0.1', () => console.log(s.address().port));`;

async function bare(scenario: string): Promise<Sample> {
  const child = spawn(process.execPath, ['-e', bareServer], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const port = await new Promise<string>((resolve, reject) => {
      child.stdout.once('data', (d: Buffer) => resolve(d.toString().trim()));
      child.once('exit', (code) => reject(new Error(`bare http server exited (${code})`)));
    });
    const result = await autocannon({
      url: `http://127.0.0.1:${port}/ids/reserve`,
      connections,
      duration,
      method: 'POST',
      headers: { authorization: `Bearer ${keys['perf1']}`, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'US', count: 1 }),
    });
    return { scenario, rps: result['2xx'] / result.duration, p50_ms: result.latency.p50, p99_ms: result.latency.p99, errors: result.non2xx + result.errors };
  } finally {
    child.kill('SIGTERM');
  }
}

const scenarios: [string, () => Promise<Sample>][] = [
  ['bare node:http, no DB', () => bare('bare node:http, no DB')],
  ['HTTP, 1 hot sequence', () => http('HTTP, 1 hot sequence', false)],
  ['pgbench, 1 hot sequence', () => pgbench('pgbench, 1 hot sequence', false)],
  ['HTTP, 10 sequences', () => http('HTTP, 10 sequences', true)],
  ['pgbench, 10 sequences', () => pgbench('pgbench, 10 sequences', true)],
];
const samples: Sample[] = [];
try {
  // Interleaved rounds, so a burst of load from elsewhere on the machine hits every
  // scenario alike instead of one of them.
  for (let round = 1; round <= repeat; round++) {
    for (const [name, go] of scenarios) {
      const s = await go();
      samples.push(s);
      process.stderr.write(`round ${round}/${repeat} ${name}: ${s.rps.toFixed(0)}/s, errors ${s.errors}\n`);
    }
  }
} finally {
  await db.end();
  await rm(tmp, { recursive: true, force: true });
}

const rows = scenarios.map(([name]) => {
  const mine = samples.filter((s) => s.scenario === name);
  const rps = mine.map((s) => s.rps);
  return {
    scenario: name,
    median_rps: median(rps),
    min_rps: Math.min(...rps),
    max_rps: Math.max(...rps),
    runs: rps.map((r) => Math.round(r)),
    p50_ms: median(mine.map((s) => s.p50_ms ?? Number.NaN)),
    p99_ms: median(mine.map((s) => s.p99_ms ?? Number.NaN)),
    errors: mine.reduce((a, s) => a + s.errors, 0),
  };
});
const ratio = (h: string, p: string) => (rows.find((r) => r.scenario === h)?.median_rps ?? 0) / (rows.find((r) => r.scenario === p)?.median_rps ?? 1);
const summary = {
  machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version },
  settings: { connections, duration_s: duration, repeat, db_pool_max: poolMax, pgbench: `pgbench -n -c ${connections} -j 2 -T ${duration} -f <script>` },
  rows,
  service_over_pgbench: { hot: ratio('HTTP, 1 hot sequence', 'pgbench, 1 hot sequence'), spread: ratio('HTTP, 10 sequences', 'pgbench, 10 sequences') },
  service_over_bare_http: ratio('HTTP, 1 hot sequence', 'bare node:http, no DB'),
};
const fmt = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : '–');
const md = [
  `# id-service reservations/s at ${connections} concurrent clients (${duration} s × ${repeat}, DB_POOL_MAX=${poolMax})`,
  '',
  '| scenario | median /s | min–max /s | p50 ms | p99 ms | errors |',
  '|---|---:|---:|---:|---:|---:|',
  ...rows.map((r) => `| ${r.scenario} | ${r.median_rps.toFixed(0)} | ${r.min_rps.toFixed(0)}–${r.max_rps.toFixed(0)} | ${fmt(r.p50_ms)} | ${fmt(r.p99_ms)} | ${r.errors} |`),
  '',
  `Service / pgbench: hot ${(summary.service_over_pgbench.hot * 100).toFixed(0)} %, 10 sequences ${(summary.service_over_pgbench.spread * 100).toFixed(0)} %. Service / bare node:http: ${(summary.service_over_bare_http * 100).toFixed(0)} %.`,
  'pgbench p50 column is its latency average.',
  '',
].join('\n');
const dir = path.join(workspaceRoot, 'reports', '@crucible/id-service-suites');
await mkdir(dir, { recursive: true });
await writeFile(path.join(dir, 'perf.json'), `${JSON.stringify(summary, null, 2)}\n`);
await writeFile(path.join(dir, 'perf.md'), md);
process.stdout.write(md);
