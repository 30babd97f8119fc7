import { fork, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { constantArrivalRate, run, scenario } from '@crucible/load-engine';
import { describe, expect, it } from 'vitest';
import { EXIT, exitCodeFor } from './exit-codes.js';
import { buildReport } from './from-run.js';

// A real HTTP server in its own process, as the system under test is: every 40th answer is
// wrong (the planted defect the correctness threshold exists to catch).
const SERVER = `
const http = require('node:http');
let n = 0;
const s = http.createServer((_req, res) => res.end(++n % 40 === 0 ? 'wrong' : 'ok'));
s.listen(0, '127.0.0.1', () => process.send(s.address().port));
`;

async function startServer(): Promise<{ url: string; child: ChildProcess } & AsyncDisposable> {
  const child = fork('-e', [SERVER], { execArgv: [], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  child.unref();
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m) => resolve(Number(m)));
    child.once('error', reject);
  });
  return { url: `http://127.0.0.1:${port}`, child, [Symbol.asyncDispose]: async () => void child.kill() };
}

/**
 * A CPU hog: busy-loop worker threads, three per core on this 2-core machine, each stopping by
 * itself after `ms` (and terminated at dispose), so the generator's thread gets a small share.
 */
function startHog(threads: number, ms: number): AsyncDisposable {
  const workers = Array.from({ length: threads }, () => new Worker(`const end = Date.now() + ${ms}; while (Date.now() < end) {}`, { eval: true }));
  return { [Symbol.asyncDispose]: async () => void (await Promise.all(workers.map((w) => w.terminate()))) };
}

/** Raises this thread's priority (nice −10) when allowed (root or CAP_SYS_NICE); undefined otherwise. */
function raisePriority(): { restore(): void } | undefined {
  const before = os.getPriority();
  try {
    os.setPriority(-10);
  } catch {
    return undefined;
  }
  return { restore: () => os.setPriority(before) };
}

// 200/s for 2 s: enough CPU asked for (≈ 0.2 core) that its share is a figure, a few seconds in all.
const THRESHOLDS = ['p(99)<1000', 'requests: rate>=150', 'errors: rate<0.01', 'wrong_answers: count==0'];
async function measure(url: string) {
  const result = await run(
    scenario({
      name: 'answers',
      executor: constantArrivalRate({ rate: 200, duration: '2s', preAllocatedVUs: 20, maxVUs: 200 }),
      metrics: { wrong_answers: 'counter' },
      thresholds: THRESHOLDS,
      request: async (ctx) => {
        const res = await ctx.http.request({ path: '/' });
        if (res.body !== 'ok') ctx.count('wrong_answers');
        return res;
      },
    }),
    { baseUrl: url },
  );
  return buildReport(result, { suite: 'starved generator' });
}

const statuses = (r: Awaited<ReturnType<typeof measure>>) => Object.fromEntries(r.scenarios[0]?.thresholds.map((t) => [t.expression, t.status]) ?? []);

describe('a starved load generator on a real run', { timeout: 60_000 }, () => {
  it('under a CPU hog on both cores: latency and throughput inconclusive, the correctness thresholds still judged', async () => {
    await using server = await startServer();
    const cores = 2;
    let report;
    {
      await using _hog = startHog(cores * 3, 8000);
      await new Promise((r) => setTimeout(r, 200)); // let the hog take the cores
      report = await measure(server.url);
    }
    const s = report.scenarios[0];
    expect(s?.generator?.starved, JSON.stringify(s?.generator)).toBe(true);
    expect(statuses(report)).toEqual({ 'p(99)<1000': 'inconclusive', 'requests: rate>=150': 'inconclusive', 'errors: rate<0.01': 'pass', 'wrong_answers: count==0': 'fail' });
    expect(s?.thresholds[0]?.message).toMatch(/^inconclusive: load generator starved \(event-loop delay p99 [\d.]+ ms, lag p99 [\d.]+ ms, (CPU share \d+ %, )?load [\d.]+ per core\)/);
    // The planted wrong answers are a real failure: it wins over inconclusive.
    expect(s?.status).toBe('fail');
    expect(exitCodeFor(report)).toBe(EXIT.failed);
  });

  it('without the hog: every threshold judged (latency passes, the wrong answers fail)', async ({ skip }) => {
    await using server = await startServer();
    // Other work on a shared machine (parallel test tasks, CI) can starve the generator too.
    // So the generator's thread asks for a higher priority (Linux nice is per thread: the
    // server and everything else keep theirs) where it may, and, as the suite kit does, looks
    // again (up to three runs) before judging: one unstarved run is required.
    const raised = raisePriority();
    let report;
    try {
      report = await measure(server.url);
      for (let i = 0; i < 2 && report.scenarios[0]?.generator?.starved; i++) report = await measure(server.url);
    } finally {
      raised?.restore();
    }
    const g = report.scenarios[0]?.generator;
    // Still starved with the machine already over-full (more than two runnable tasks per core
    // from other work): this test cannot show an unstarved run here, and says so (skipped,
    // with the figures) rather than fail on others' load or pass without judging anything.
    if (g?.starved && g.load_per_core > 2) skip(`machine loaded by other work (${g.load_per_core} per core): ${g.reason}`);
    expect(g?.starved, JSON.stringify(g)).toBe(false);
    expect(statuses(report)).toEqual({ 'p(99)<1000': 'pass', 'requests: rate>=150': 'pass', 'errors: rate<0.01': 'pass', 'wrong_answers: count==0': 'fail' });
  });
});
