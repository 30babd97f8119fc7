// The workloads perf.ts measures: reservations through the service (autocannon), the same
// allocation statement through pgbench, and three HTTP floors without a database. Each
// returns one Sample: its rate, latency, errors and the CPU each party spent per operation.
import { execFile, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { finiteMedian as median, measured, perOp, tick, type Measured } from '@crucible/benchmarks';
import { bumpSequence, compileOnlyDb } from '@crucible/db';
import autocannon from 'autocannon';
import type pg from 'pg';

const run = promisify(execFile);

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

/** The projects and types of the "10 sequences" scenarios (5 × 2 independent rows). */
export const projects = ['perf1', 'perf2', 'perf3', 'perf4', 'perf5'];
export const types = ['US', 'BUG'];

/** One run of one scenario. */
export interface Sample {
  scenario: string;
  rps: number;
  ops: number;
  p50_ms: number | null;
  p99_ms: number | null;
  errors: number;
  /** CPU µs per operation: the HTTP server process (service or bare), PostgreSQL, the load generator. */
  cpu_us: { server: number | null; postgres: number | null; client: number };
}

/** A named workload; `run` measures it once. */
export interface PerfScenario {
  name: string;
  run: () => Promise<Sample>;
}

/** The system the workloads run against, and how hard they push. */
export interface PerfTarget {
  /** Base URL of the id-service. */
  base: string;
  servicePid: number;
  /** The PostgreSQL server process, whose tree is PostgreSQL's CPU. */
  postmasterPid: number;
  databaseUrl: string;
  /** A connection of its own, for registry totals. */
  db: pg.Client;
  /** An API key per project (`projects` and `pgbench`). */
  keys: Readonly<Record<string, string>>;
  /** A folder for the pgbench scripts. */
  tmp: string;
  /** Concurrent clients per scenario. */
  connections: number;
  /** Seconds per run. */
  duration: number;
}

// Compiles only (no connection), to render the allocation statement.
const compiler = compileOnlyDb();

/**
 * The allocation statement of the service ({@link bumpSequence}, count 1) as a pgbench
 * script line: its parameters replaced by pgbench expressions for the project and type, so
 * pgbench runs exactly the SQL the service runs.
 */
export function pgbenchUpsert(projectExpr: string, typeExpr: string): string {
  const project = '\u0000project';
  const type = '\u0000type';
  const { sql, parameters } = bumpSequence(compiler, { projectId: project }, type, 1).compile();
  const text = sql.replace(/\$(\d+)/g, (_, n: string) => {
    const value = parameters[Number(n) - 1];
    if (value === project) return projectExpr;
    if (value === type) return typeExpr;
    if (typeof value === 'number') return String(value);
    throw new Error(`bumpSequence has a parameter pgbench cannot be given: ${String(value)}`);
  });
  return `${text};`;
}

/** The workloads, in the order they run in each round. */
export function perfScenarios(t: PerfTarget): PerfScenario[] {
  async function registryTotal(project: string, type?: string): Promise<number> {
    const { rows } = await t.db.query<{ n: string }>(
      `select coalesce(sum(last_assigned_id), 0)::text as n from id_registry where project_id = $1 and ($2::text is null or sequence_type = $2)`,
      [project, type ?? null],
    );
    return Number(rows[0]?.n);
  }

  async function cannon(url: string, targets: { project: string; type: string }[], status = 200) {
    // One autocannon instance per sequence (connections split evenly), so each sends a fixed
    // request and the client does no per-request set-up work.
    const per = Math.max(1, Math.round(t.connections / targets.length));
    const results = await Promise.all(
      targets.map((target) =>
        autocannon({
          url,
          connections: per,
          duration: t.duration,
          method: 'POST',
          headers: { authorization: `Bearer ${t.keys[target.project]}`, 'content-type': 'application/json' },
          body: JSON.stringify({ type: target.type, count: 1 }),
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
    const m = await measured(t.postmasterPid, t.servicePid, () => cannon(`${t.base}/ids/reserve`, [{ project: 'perf1', type: 'not_a_type' }], 400));
    return sampleOf(scenario, m);
  }

  async function http(scenario: string, spread: boolean): Promise<Sample> {
    const targets = spread ? projects.flatMap((project) => types.map((type) => ({ project, type }))) : [{ project: 'perf1', type: 'US' }];
    const total = async () => {
      let sum = 0;
      for (const target of targets) sum += await registryTotal(target.project, target.type);
      return sum;
    };
    const before = await total();
    const m = await measured(t.postmasterPid, t.servicePid, () => cannon(`${t.base}/ids/reserve`, targets));
    const r = m.value;
    const grown = (await total()) - before;
    // Every 200 handed out exactly one ID. autocannon stops counting with up to one request per
    // connection in flight, and the service completes those, so the registry may be ahead by at
    // most one per connection — never behind (a lost update) and never further ahead.
    if (grown < r.ok || grown > r.ok + r.inFlightMax) throw new Error(`${scenario}: ${r.ok} answers of 200 but the registry grew by ${grown}`);
    return sampleOf(scenario, m);
  }

  /** One autocannon measurement as a sample, CPU per answered request. */
  function sampleOf(scenario: string, m: Measured<Awaited<ReturnType<typeof cannon>>>): Sample {
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

  async function pgbench(scenario: string, spread: boolean): Promise<Sample> {
    const script = path.join(t.tmp, `${spread ? 'spread' : 'hot'}.sql`);
    await writeFile(
      script,
      spread
        ? `\\set p random(1, ${projects.length})\n\\set t random(1, ${types.length})\n${pgbenchUpsert(`'perf' || :p`, `(array['US','BUG'])[:t]`)}\n`
        : `${pgbenchUpsert(`'pgbench'`, `'US'`)}\n`,
    );
    // The shell reaps pgbench, so its own children-CPU afterwards is pgbench's CPU.
    const m = await measured(t.postmasterPid, undefined, () =>
      run(
        'sh',
        ['-c', 'pgbench "$@" && cat /proc/$$/stat >&2', 'sh', '-n', '-c', String(t.connections), '-j', '2', '-T', String(t.duration), '-f', script, t.databaseUrl],
        { maxBuffer: 1 << 24 },
      ),
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

  async function bare(scenario: string, code = bareServer): Promise<Sample> {
    const child = spawn(process.execPath, ['-e', code], { cwd: import.meta.dirname, stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const port = await new Promise<string>((resolve, reject) => {
        child.stdout.once('data', (d: Buffer) => resolve(d.toString().trim()));
        child.once('exit', (exitCode) => reject(new Error(`bare http server exited (${exitCode})`)));
      });
      const m = await measured(t.postmasterPid, child.pid, () => cannon(`http://127.0.0.1:${port}/ids/reserve`, [{ project: 'perf1', type: 'US' }]));
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

  const scenario = (name: string, measure: (name: string) => Promise<Sample>): PerfScenario => ({ name, run: () => measure(name) });
  return [
    scenario('bare node:http, no DB', (n) => bare(n)),
    scenario('bare Express 5 + JSON parser, no DB', (n) => bare(n, bareExpress)),
    scenario('service stack, no DB (400)', stackOnly),
    scenario('HTTP, 1 hot sequence', (n) => http(n, false)),
    scenario('pgbench, 1 hot sequence', (n) => pgbench(n, false)),
    scenario('HTTP, 10 sequences', (n) => http(n, true)),
    scenario('pgbench, 10 sequences', (n) => pgbench(n, true)),
  ];
}
