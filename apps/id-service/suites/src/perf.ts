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
// database: a bare node:http server, a bare Express 5 app, and the service's own stack. Besides the rate, every scenario records the CPU each party
// spent per operation (service process, PostgreSQL backends, load generator) from /proc, a
// figure a busy shared machine disturbs far less than the rate. Writes
// reports/@crucible/id-service-suites/perf.{json,md} and prints the table.
import { execFile, spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import autocannon from 'autocannon';
import { workspaceRoot as findRoot } from '@crucible/instrument-kit';
import { startSut } from '@crucible/testbed';

const workspaceRoot = findRoot();
import pg from 'pg';

const run = promisify(execFile);

for (const a of process.argv.slice(2)) {
  if (!/^--(duration|repeat|pool|connections)=/.test(a)) throw new Error(`unknown option ${a}: use --duration=, --repeat=, --pool=, --connections=`);
}
function flag(name: string, fallback: number): number {
  const arg = process.argv.slice(2).find((a) => a.startsWith(`--${name}=`));
  if (!arg) return fallback;
  const v = Number(arg.split('=')[1]);
  if (!Number.isInteger(v) || v <= 0) throw new Error(`--${name} must be a positive whole number, got ${arg}`);
  return v;
}
const duration = flag('duration', 10);
const repeat = flag('repeat', 3);
const poolMax = flag('pool', 8);
const connections = flag('connections', 50);

const projects = ['perf1', 'perf2', 'perf3', 'perf4', 'perf5'];
const types = ['US', 'BUG'];
const upsert = (project: string, type: string) =>
  `INSERT INTO id_registry (project_id, artifact_type, last_assigned_id) VALUES (${project}, ${type}, 1)
  ON CONFLICT (project_id, artifact_type) DO UPDATE
  SET last_assigned_id = id_registry.last_assigned_id + EXCLUDED.last_assigned_id, updated_at = now()
  RETURNING last_assigned_id;`;

// ---- CPU accounting from /proc (seconds of user + system time) ----------------------------
const tick = 1 / 100; // USER_HZ on Linux
function stat(pid: number): { cpu: number; children: number; ppid: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(f[1]), cpu: (Number(f[11]) + Number(f[12])) * tick, children: (Number(f[13]) + Number(f[14])) * tick };
  } catch {
    return undefined; // the process is gone
  }
}
/** CPU of a process tree root's live children plus everything its reaped children used. */
function treeCpu(root: number): number {
  let sum = stat(root)?.children ?? 0;
  sum += stat(root)?.cpu ?? 0;
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const s = stat(pid);
    if (s?.ppid === root) sum += s.cpu;
  }
  return sum;
}
const selfCpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

interface Sample {
  scenario: string;
  rps: number;
  ops: number;
  p50_ms: number | null;
  p99_ms: number | null;
  errors: number;
  /** CPU µs per operation: the HTTP server process (service or bare), PostgreSQL, the load generator. */
  cpu_us: { server: number | null; postgres: number | null; client: number };
}

const median = (xs: number[]) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

// ---- the system under test ---------------------------------------------------------------
await using sut = await startSut({
  apps: ['id-service'],
  appEnv: { 'id-service': { DB_POOL_MAX: String(poolMax), LOG_LEVEL: 'warn', DB_ACQUIRE_TIMEOUT_MS: '5000' } },
});
const base = sut.url('id-service');
const servicePid = sut.apps['id-service']?.[0]?.pid ?? 0;
const keys: Record<string, string> = {};
for (const p of [...projects, 'pgbench']) keys[p] = (await sut.createProject(p)).api_key;
const tmp = await mkdtemp(path.join(os.tmpdir(), 'id-perf-'));
const db = new pg.Client({ connectionString: sut.databaseUrl });
await db.connect();
const backendPid = Number((await db.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]?.pid);
const postmasterPid = stat(backendPid)?.ppid ?? 0;

async function registryTotal(project: string, type?: string): Promise<number> {
  const { rows } = await db.query<{ n: string }>(
    `select coalesce(sum(last_assigned_id), 0)::text as n from id_registry where project_id = $1 and ($2::text is null or artifact_type = $2)`,
    [project, type ?? null],
  );
  return Number(rows[0]?.n);
}

/** Runs `fn`, returning the CPU seconds the server process, PostgreSQL and this process spent. */
async function measured<T>(serverPid: number | undefined, fn: () => Promise<T>): Promise<{ value: T; server: number | null; postgres: number; client: number }> {
  const s0 = serverPid ? stat(serverPid)?.cpu : undefined;
  const p0 = treeCpu(postmasterPid);
  const c0 = selfCpu();
  const value = await fn();
  const s1 = serverPid ? stat(serverPid)?.cpu : undefined;
  return {
    value,
    server: s0 !== undefined && s1 !== undefined ? s1 - s0 : null,
    postgres: treeCpu(postmasterPid) - p0,
    client: selfCpu() - c0,
  };
}

const perOp = (seconds: number | null, ops: number) => (seconds === null || ops === 0 ? null : (seconds * 1e6) / ops);

async function cannon(url: string, targets: { project: string; type: string }[], status = 200) {
  // One autocannon instance per sequence (connections split evenly), so each sends a fixed
  // request and the client does no per-request set-up work.
  const per = Math.max(1, Math.round(connections / targets.length));
  const results = await Promise.all(
    targets.map((t) =>
      autocannon({
        url,
        connections: per,
        duration,
        method: 'POST',
        headers: { authorization: `Bearer ${keys[t.project]}`, 'content-type': 'application/json' },
        body: JSON.stringify({ type: t.type, count: 1 }),
      }),
    ),
  );
  const answered = (r: autocannon.Result) => (status === 200 ? r['2xx'] : (r.statusCodeStats?.[`${status}`]?.count ?? 0));
  return {
    inFlightMax: per * targets.length,
    ok: results.reduce((a, r) => a + answered(r), 0),
    rps: results.reduce((a, r) => a + answered(r) / r.duration, 0),
    p50_ms: median(results.map((r) => r.latency.p50)),
    p99_ms: Math.max(...results.map((r) => r.latency.p99)),
    errors: results.reduce((a, r) => a + (status === 200 ? r.non2xx : r.non2xx - answered(r)) + r.errors, 0),
  };
}

/**
 * The service's own stack without the database: the same POST with a type the contract
 * rejects goes through HTTP, auth (cached), body parsing and validation, and answers 400
 * without touching PostgreSQL. Its rate bounds what the reservation path can reach.
 */
async function stackOnly(scenario: string): Promise<Sample> {
  const m = await measured(servicePid, () => cannon(`${base}/ids/reserve`, [{ project: 'perf1', type: 'not_a_type' }], 400));
  const r = m.value;
  return {
    scenario,
    rps: r.rps,
    ops: r.ok,
    p50_ms: r.p50_ms,
    p99_ms: r.p99_ms,
    errors: r.errors,
    cpu_us: { server: perOp(m.server, r.ok), postgres: perOp(m.postgres, r.ok), client: perOp(m.client, r.ok) ?? 0 },
  };
}

async function http(scenario: string, spread: boolean): Promise<Sample> {
  const targets = spread ? projects.flatMap((project) => types.map((type) => ({ project, type }))) : [{ project: 'perf1', type: 'US' }];
  const total = async () => {
    let sum = 0;
    for (const t of targets) sum += await registryTotal(t.project, t.type);
    return sum;
  };
  const before = await total();
  const m = await measured(servicePid, () => cannon(`${base}/ids/reserve`, targets));
  const r = m.value;
  const grown = (await total()) - before;
  // Every 200 handed out exactly one ID. autocannon stops counting with up to one request per
  // connection in flight, and the service completes those, so the registry may be ahead by at
  // most one per connection — never behind (a lost update) and never further ahead.
  if (grown < r.ok || grown > r.ok + r.inFlightMax) throw new Error(`${scenario}: ${r.ok} answers of 200 but the registry grew by ${grown}`);
  return {
    scenario,
    rps: r.rps,
    ops: r.ok,
    p50_ms: r.p50_ms,
    p99_ms: r.p99_ms,
    errors: r.errors,
    cpu_us: { server: perOp(m.server, r.ok), postgres: perOp(m.postgres, r.ok), client: perOp(m.client, r.ok) ?? 0 },
  };
}

async function pgbench(scenario: string, spread: boolean): Promise<Sample> {
  const script = path.join(tmp, `${spread ? 'spread' : 'hot'}.sql`);
  await writeFile(
    script,
    spread
      ? `\\set p random(1, ${projects.length})\n\\set t random(1, ${types.length})\n${upsert(`'perf' || :p`, `(array['US','BUG'])[:t]`)}\n`
      : `${upsert(`'pgbench'`, `'US'`)}\n`,
  );
  // The shell reaps pgbench, so its own children-CPU afterwards is pgbench's CPU.
  const m = await measured(undefined, () =>
    run('sh', ['-c', 'pgbench "$@" && cat /proc/$$/stat >&2', 'sh', '-n', '-c', String(connections), '-j', '2', '-T', String(duration), '-f', script, sut.databaseUrl], {
      maxBuffer: 1 << 24,
    }),
  );
  const { stdout, stderr } = m.value;
  const tps = Number(/tps = ([\d.]+)/.exec(stdout)?.[1]);
  const tx = Number(/number of transactions actually processed: (\d+)/.exec(stdout)?.[1]);
  if (!Number.isFinite(tps) || !Number.isFinite(tx)) throw new Error(`${scenario}: no tps in pgbench output:\n${stdout}`);
  const shStat = stderr.slice(stderr.lastIndexOf(')') + 2).split(' ');
  const pgbenchCpu = (Number(shStat[13]) + Number(shStat[14])) * tick;
  return {
    scenario,
    rps: tps,
    ops: tx,
    p50_ms: Number(/latency average = ([\d.]+) ms/.exec(stdout)?.[1] ?? Number.NaN),
    p99_ms: null,
    errors: Number(/number of failed transactions: (\d+)/.exec(stdout)?.[1] ?? 0),
    cpu_us: { server: null, postgres: perOp(m.postgres, tx), client: perOp(pgbenchCpu, tx) ?? 0 },
  };
}

// The floor of HTTP on this machine: a bare node:http process answering the same JSON with
// no framework, no auth and no database, loaded by the same autocannon.
const bareServer = `
const http = require('node:http');
const body = JSON.stringify({ project_id: 'perf1', type: 'US', ids: ['US-001'], first: 1, last: 1 });
const s = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
});
s.keepAliveTimeout = 65000;
s.listen(0, '127.0.0.1', () => console.log(s.address().port));`;

// The same with Express 5 and its JSON body parser: what the framework alone costs here.
const bareExpress = `
const express = require('express');
const app = express();
app.disable('x-powered-by');
app.set('etag', false);
app.use(express.json());
app.post('/ids/reserve', (req, res) => res.json({ project_id: 'perf1', type: req.body.type, ids: ['US-001'], first: 1, last: 1 }));
const s = app.listen(0, '127.0.0.1', () => console.log(s.address().port));
s.keepAliveTimeout = 65000;`;

async function bare(scenario: string, code = bareServer): Promise<Sample> {
  const child = spawn(process.execPath, ['-e', code], { cwd: import.meta.dirname, stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const port = await new Promise<string>((resolve, reject) => {
      child.stdout.once('data', (d: Buffer) => resolve(d.toString().trim()));
      child.once('exit', (code) => reject(new Error(`bare http server exited (${code})`)));
    });
    const m = await measured(child.pid, () => cannon(`http://127.0.0.1:${port}/ids/reserve`, [{ project: 'perf1', type: 'US' }]));
    const r = m.value;
    return {
      scenario,
      rps: r.rps,
      ops: r.ok,
      p50_ms: r.p50_ms,
      p99_ms: r.p99_ms,
      errors: r.errors,
      cpu_us: { server: perOp(m.server, r.ok), postgres: null, client: perOp(m.client, r.ok) ?? 0 },
    };
  } finally {
    child.kill('SIGTERM');
  }
}

const scenarios: [string, () => Promise<Sample>][] = [
  ['bare node:http, no DB', () => bare('bare node:http, no DB')],
  ['bare Express 5 + JSON parser, no DB', () => bare('bare Express 5 + JSON parser, no DB', bareExpress)],
  ['service stack, no DB (400)', () => stackOnly('service stack, no DB (400)')],
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
      process.stderr.write(`round ${round}/${repeat} ${name}: ${s.rps.toFixed(0)}/s, errors ${s.errors}, load ${os.loadavg()[0]?.toFixed(1)}\n`);
    }
  }
} finally {
  await db.end();
  await rm(tmp, { recursive: true, force: true });
}

const rows = scenarios.map(([name]) => {
  const mine = samples.filter((s) => s.scenario === name);
  const rps = mine.map((s) => s.rps);
  const cpu = (k: keyof Sample['cpu_us']) => median(mine.map((s) => s.cpu_us[k] ?? Number.NaN));
  return {
    scenario: name,
    median_rps: median(rps),
    min_rps: Math.min(...rps),
    max_rps: Math.max(...rps),
    runs: rps.map((r) => Math.round(r)),
    p50_ms: median(mine.map((s) => s.p50_ms ?? Number.NaN)),
    p99_ms: median(mine.map((s) => s.p99_ms ?? Number.NaN)),
    errors: mine.reduce((a, s) => a + s.errors, 0),
    cpu_us_per_op: { server: cpu('server'), postgres: cpu('postgres'), client: cpu('client') },
  };
});
const rowOf = (name: string) => rows.find((r) => r.scenario === name);
const ratio = (a: string, b: string) => (rowOf(a)?.median_rps ?? 0) / (rowOf(b)?.median_rps ?? 1);
const summary = {
  machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version, loadavg_end: os.loadavg() },
  settings: { connections, duration_s: duration, repeat, db_pool_max: poolMax, pgbench: `pgbench -n -c ${connections} -j 2 -T ${duration} -f <script>` },
  rows,
  service_over_pgbench: { hot: ratio('HTTP, 1 hot sequence', 'pgbench, 1 hot sequence'), spread: ratio('HTTP, 10 sequences', 'pgbench, 10 sequences') },
  service_over_bare_http: ratio('HTTP, 1 hot sequence', 'bare node:http, no DB'),
  service_over_stack_only: ratio('HTTP, 1 hot sequence', 'service stack, no DB (400)'),
};
const fmt = (v: number | null | undefined, digits = 2) => (v !== null && v !== undefined && Number.isFinite(v) ? v.toFixed(digits) : '–');
const md = [
  `# id-service reservations/s at ${connections} concurrent clients (${duration} s × ${repeat}, DB_POOL_MAX=${poolMax})`,
  '',
  '| scenario | median /s | min–max /s | p50 ms | p99 ms | errors | CPU µs/op server | PostgreSQL | load generator |',
  '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...rows.map(
    (r) =>
      `| ${r.scenario} | ${r.median_rps.toFixed(0)} | ${r.min_rps.toFixed(0)}–${r.max_rps.toFixed(0)} | ${fmt(r.p50_ms)} | ${fmt(r.p99_ms)} | ${r.errors} | ${fmt(r.cpu_us_per_op.server, 0)} | ${fmt(r.cpu_us_per_op.postgres, 0)} | ${fmt(r.cpu_us_per_op.client, 0)} |`,
  ),
  '',
  `Service / pgbench: hot ${(summary.service_over_pgbench.hot * 100).toFixed(0)} %, 10 sequences ${(summary.service_over_pgbench.spread * 100).toFixed(0)} %. Service / bare node:http: ${(summary.service_over_bare_http * 100).toFixed(0)} %. Service / its stack without DB: ${(summary.service_over_stack_only * 100).toFixed(0)} %.`,
  'pgbench: p50 column is its latency average; load generator = pgbench itself. CPU µs/op from /proc (user + system).',
  '',
].join('\n');
const dir = path.join(workspaceRoot, 'reports', '@crucible/id-service-suites');
await mkdir(dir, { recursive: true });
await writeFile(path.join(dir, 'perf.json'), `${JSON.stringify(summary, null, 2)}\n`);
await writeFile(path.join(dir, 'perf.md'), md);
process.stdout.write(md);
