// What perf.reference.ts measures: the task API and a minimal reference handler (Express 5 +
// one node-postgres Pool of the same size, no auth, no metrics, no validation) side by side,
// both running exactly the statements the task API's repository builds (read from the task
// API's own hot queries), on the same database.
import { spawn, type ChildProcess } from 'node:child_process';
import { measured, perOp } from '@crucible/benchmarks';
import autocannon from 'autocannon';
import type pg from 'pg';

// The reference: one process, one pool, the compiled statements with the request's fields
// put where the repository puts them. It answers the row as PostgreSQL returned it.
const referenceServer = `
const express = require('express');
const pg = require('pg');
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.POOL_MAX) });
const next = JSON.parse(process.env.REF_NEXT);
const insert = JSON.parse(process.env.REF_INSERT);
const project = process.env.REF_CREATE_PROJECT;
const app = express();
app.disable('x-powered-by');
app.set('etag', false);
app.use(express.json());
app.get('/tasks/next', async (req, res) => {
  const { rows } = await pool.query(next.sql, next.parameters);
  if (rows.length === 0) res.status(404).json({ error: { code: 'no_task', message: 'no task' } });
  else res.json(rows[0]);
});
app.post('/tasks', async (req, res) => {
  const b = req.body;
  const values = insert.parameters.map((p) => (p.field === 'project' ? project : p.field ? (b[p.field] ?? p.value) : p.value));
  const { rows } = await pool.query(insert.sql, values);
  if (rows.length === 0) res.status(409).json({ error: { code: 'task_exists', message: 'task exists' } });
  else res.status(201).json(rows[0]);
});
const s = app.listen(0, '127.0.0.1', () => console.log(s.address().port));
s.keepAliveTimeout = 65000;`;

/** A compiled statement whose parameters are either fixed or taken from the request body (`field`, `value` the default). */
export interface Template {
  sql: string;
  parameters: ({ value: unknown } | { field: string; value?: unknown })[];
}

/** What `GET /admin/hot-queries` answers: each hot query's SQL and parameters, as the service compiles them. */
interface HotQueryText {
  title: string;
  sql: string;
  parameters: unknown[];
}

/**
 * The task API's `GET /tasks/next` statement for `nextProject` (status pending) and its
 * insert, as its repository builds them, read from the running task API (`GET
 * /admin/hot-queries`, its hot queries compiled). The insert's explain values (task
 * `explain-insert`, title `explain`, priority 0) mark where the body's fields go.
 */
export async function referenceStatements(base: string, adminToken: string, nextProject: string): Promise<{ next: { sql: string; parameters: readonly unknown[] }; insert: Template }> {
  const res = await fetch(`${base}/admin/hot-queries?project=${encodeURIComponent(nextProject)}`, { headers: { authorization: `Bearer ${adminToken}` } });
  if (res.status !== 200) throw new Error(`GET /admin/hot-queries: ${res.status} ${await res.text()}`);
  const { queries } = (await res.json()) as { queries: HotQueryText[] };
  const find = (title: string) => {
    const q = queries.find((x) => x.title.startsWith(title));
    if (!q) throw new Error(`the task API has no hot query "${title}" (it has ${queries.map((x) => x.title).join(', ')})`);
    return q;
  };
  const next = find('GET /tasks/next');
  const insert = find('POST /tasks insert');
  const markers = new Map<unknown, { field: string; value?: unknown }>([
    [nextProject, { field: 'project' }],
    ['explain-insert', { field: 'task_id' }],
    ['explain', { field: 'title' }],
    [0, { field: 'priority', value: 0 }],
  ]);
  const parameters = insert.parameters.map((v) => markers.get(v) ?? { value: v });
  for (const m of markers.values()) {
    const n = parameters.filter((p) => p === m).length;
    if (n !== 1) throw new Error(`the task API's insert has ${n} parameters for ${m.field} (expected 1): update the reference`);
  }
  return { next: { sql: next.sql, parameters: next.parameters }, insert: { sql: insert.sql, parameters } };
}

/** Starts the reference handler in its own process; resolves with its base URL and process. */
export async function startReference(o: {
  databaseUrl: string;
  poolMax: number;
  /** The task API the statements are read from, and its admin token. */
  taskApi: string;
  adminToken: string;
  nextProject: string;
  createProject: string;
}): Promise<{ url: string; child: ChildProcess }> {
  const { next, insert } = await referenceStatements(o.taskApi, o.adminToken, o.nextProject);
  const child = spawn(process.execPath, ['-e', referenceServer], {
    cwd: import.meta.dirname,
    env: { ...process.env, DATABASE_URL: o.databaseUrl, POOL_MAX: String(o.poolMax), REF_NEXT: JSON.stringify(next), REF_INSERT: JSON.stringify(insert), REF_CREATE_PROJECT: o.createProject },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<string>((resolve, reject) => {
    child.stdout?.once('data', (d: Buffer) => resolve(d.toString().trim()));
    child.once('exit', (code) => reject(new Error(`the reference handler exited (${code})`)));
  });
  return { url: `http://127.0.0.1:${port}`, child };
}

/** One autocannon run of one side. */
export interface Sample {
  side: string;
  rps: number;
  ok: number;
  p50_ms: number;
  /** p97.5: autocannon has no p95, and p95 ≤ p97.5, so a p95 goal is judged on this. */
  p97_5_ms: number;
  p99_ms: number;
  errors: number;
  /** CPU µs per answered request: the HTTP server process, PostgreSQL (every backend). */
  cpu_us: { server: number | null; postgres: number | null };
  /** POST only: the acknowledged task ids missing from SQL afterwards (must be 0). */
  lost?: number;
}

/** A side of the comparison: where it listens, its process, and the key it sends (none for the reference). */
export interface Side {
  name: string;
  url: string;
  pid: number;
  key?: string;
  /** POST only: send `task_id` (client ids) instead of letting the task API generate one. */
  clientIds?: boolean;
}

/** Loads `GET /tasks/next` on one side for `duration` s. */
export async function measureNext(side: Side, o: { postmasterPid: number; connections: number; duration: number }): Promise<Sample> {
  const headers: Record<string, string> = side.key ? { authorization: `Bearer ${side.key}` } : {};
  const m = await measured(o.postmasterPid, side.pid, () => autocannon({ url: `${side.url}/tasks/next`, connections: o.connections, duration: o.duration, headers }));
  return sampleOf(side.name, m);
}

/**
 * Loads `POST /tasks` on one side for `duration` s, then looks every acknowledged task up in
 * SQL (`db`, project `project`): an acknowledged create must be stored.
 */
export async function measureCreate(side: Side, o: { postmasterPid: number; connections: number; duration: number; db: pg.Client; project: string; run: string }): Promise<Sample> {
  const acked: string[] = [];
  let n = 0;
  const headers: Record<string, string> = { 'content-type': 'application/json', ...(side.key ? { authorization: `Bearer ${side.key}` } : {}) };
  const m = await measured(o.postmasterPid, side.pid, () =>
    autocannon({
      url: side.url,
      connections: o.connections,
      duration: o.duration,
      requests: [
        {
          method: 'POST',
          path: '/tasks',
          headers,
          setupRequest: (req) => {
            const i = n++;
            return { ...req, body: JSON.stringify(side.clientIds ? { task_id: `${o.run}-${i}`, title: 'perf', priority: i % 10 } : { title: 'perf', priority: i % 10 }) };
          },
          onResponse: (status, body) => {
            if (status !== 201) return;
            const id = /"task_id":"([^"]+)"/.exec(body)?.[1];
            if (id) acked.push(id);
          },
        },
      ],
    }),
  );
  const { rows } = await o.db.query<{ n: string }>('select count(*)::text as n from tasks where project_id = $1 and task_id = any($2::text[])', [o.project, acked]);
  const sample = sampleOf(side.name, m);
  // An acknowledged id not found, or a 201 whose body carried no id, is a lost write.
  return { ...sample, lost: sample.ok - Number(rows[0]?.n ?? 0) };
}

function sampleOf(side: string, m: Awaited<ReturnType<typeof measured<autocannon.Result>>>): Sample {
  const r = m.value;
  const ok = r['2xx'];
  return {
    side,
    rps: ok / r.duration,
    ok,
    p50_ms: r.latency.p50,
    p97_5_ms: r.latency.p97_5,
    p99_ms: r.latency.p99,
    errors: r.non2xx + r.errors + r.timeouts,
    cpu_us: { server: perOp(m.server, ok), postgres: perOp(m.postgres, ok) },
  };
}
