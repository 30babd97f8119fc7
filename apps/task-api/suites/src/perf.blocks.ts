// `npm run perf:blocks -w @crucible/task-api-suites` — what taking task ids from the ID service
// costs a create, side by side in one run: POST /tasks at C connections (autocannon) against
// three task-api replicas of one system that differ only in where ids come from —
//   client ids:  the client gives `task_id` (the ID service is never asked: the floor);
//   blocks of 32: generated ids, reserved 32 at a time and refilled ahead (the default);
//   blocks of 1:  generated ids, one reservation round trip per create (no blocks);
// in interleaved rounds (A, B, C, A, B, C …) so load on the shared machine falls on all three
// alike. Reports creates/s, p50/p99 and the ID service's reservation calls per 1,000 creates
// (read from its /metrics), with the load average. Not part of CI: it saturates the machine.
//
//   npm run perf:blocks -w @crucible/task-api-suites -- [--duration=5] [--rounds=3] [--connections=16]
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { commandLineOrExit, median, wholeArg, workspaceRoot } from '@crucible/instrument-kit';
import { startSut } from '@crucible/testbed';

const { duration, rounds, connections } = commandLineOrExit(
  process.argv.slice(2),
  {
    usage: 'npm run perf:blocks -w @crucible/task-api-suites --',
    flags: {
      duration: { type: 'string', value: '<s>', description: 'seconds per run (default 5)' },
      rounds: { type: 'string', value: '<n>', description: 'interleaved rounds of the three variants (default 3)' },
      connections: { type: 'string', value: '<n>', description: 'concurrent connections (default 16)' },
    },
  },
  (v) => ({ duration: wholeArg('--duration', v.duration, 5, 600), rounds: wholeArg('--rounds', v.rounds, 3, 50), connections: wholeArg('--connections', v.connections, 16, 1000) }),
);

const sut = await startSut({ apps: ['task-api'], env: { LOG_LEVEL: 'warn' } });
let exitCode = 0;
try {
  const variants = [
    { name: 'client ids (no ID service call)', env: {}, clientIds: true },
    { name: 'generated, blocks of 32 growing with demand (default)', env: { ID_BLOCK_SIZE: '32' }, clientIds: false },
    { name: 'generated, fixed blocks of 32', env: { ID_BLOCK_SIZE: '32', ID_BLOCK_MAX: '32' }, clientIds: false },
    { name: 'generated, blocks of 1 (a round trip per create)', env: { ID_BLOCK_SIZE: '1', ID_BLOCK_MAX: '1' }, clientIds: false },
  ];
  const replicas = await Promise.all(variants.map((v) => sut.startReplica('task-api', v.env)));
  const idService = sut.url('id-service');
  const reservations = async () => {
    const text = await (await fetch(`${idService}/metrics`)).text();
    return text.split('\n').filter((l) => l.startsWith('id_reservations_total')).reduce((a, l) => a + Number(l.split(' ').at(-1)), 0);
  };
  const results = variants.map(() => [] as { rps: number; p50: number; p99: number; callsPer1000: number; errors: number }[]);
  const loads: number[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const [i, v] of variants.entries()) {
      const project = `blocks-${round}-${i}-${Date.now().toString(36)}`;
      const key = (await sut.createProject(project)).api_key;
      let n = 0;
      const before = await reservations();
      loads.push(os.loadavg()[0] as number);
      const r = await autocannon({
        url: (replicas[i] as { url: string }).url,
        connections,
        duration,
        requests: [
          {
            method: 'POST',
            path: '/tasks',
            headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
            setupRequest: (req) => ({ ...req, body: JSON.stringify(v.clientIds ? { task_id: `own-${n++}`, title: 'perf' } : { title: 'perf' }) }),
          },
        ],
      });
      const calls = (await reservations()) - before;
      const ok = r['2xx'];
      results[i]?.push({ rps: Math.round(ok / r.duration), p50: r.latency.p50, p99: r.latency.p99, callsPer1000: ok ? Math.round((calls / ok) * 10_000) / 10 : 0, errors: r.non2xx + r.errors + r.timeouts });
      console.log(JSON.stringify({ round: round + 1, variant: v.name, ...results[i]?.at(-1) }));
    }
  }
  const summary = variants.map((v, i) => {
    const rs = results[i] ?? [];
    return { variant: v.name, median_rps: median(rs.map((r) => r.rps)), median_p50_ms: median(rs.map((r) => r.p50)), median_p99_ms: median(rs.map((r) => r.p99)), reservation_calls_per_1000_creates: median(rs.map((r) => r.callsPer1000)), errors: rs.reduce((a, r) => a + r.errors, 0) };
  });
  const report = { connections, duration_s: duration, rounds, load_average_1m: { min: Math.min(...loads), max: Math.max(...loads) }, summary, runs: results, at: new Date().toISOString(), cpus: os.cpus().length };
  const dir = path.join(workspaceRoot(), 'reports', '@crucible', 'task-api-suites');
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'perf-blocks.json'), `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\n| variant | creates/s | p50 ms | p99 ms | ID-service calls per 1,000 creates |\n|---|---|---|---|---|`);
  for (const s of summary) console.log(`| ${s.variant} | ${s.median_rps} | ${s.median_p50_ms} | ${s.median_p99_ms} | ${s.reservation_calls_per_1000_creates} |`);
  console.log(`\nmedians of ${rounds} interleaved rounds of ${duration} s at ${connections} connections; 1-min load average ${report.load_average_1m.min.toFixed(2)}–${report.load_average_1m.max.toFixed(2)} on ${report.cpus} cores`);
  if (summary.some((s) => s.errors > 0)) exitCode = 1;
} finally {
  await sut.stop();
}
process.exit(exitCode);
