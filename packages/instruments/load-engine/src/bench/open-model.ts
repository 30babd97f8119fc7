/**
 * Can the open model hold a rate, and on how many cores? A constant arrival rate against the
 * bare node:http server (own process), in one process and split over `--workers` processes
 * (execution segments, `runParallel`), latency from the intended start.
 *
 *   npm run perf:open -w @crucible/load-engine -- [--rate=20000] [--duration=10] [--workers=2] [--max-vus=200]
 *
 * Reports the achieved rate, the dropped iterations (< 1 % is the bar of issue 12), p50/p99,
 * the start-lag p99 (how late the generator itself was) and the load average before and
 * after. The generator, the server and whatever else runs share the 2 cores: the server's
 * CPU is reported too, so a reader can see who had the cores. Not run in CI.
 */
import { commandLineOrExit, decodeHistogram, wholeArg } from '@crucible/instrument-kit';
import { runParallel } from '../parallel.js';
import type { ScenarioResult } from '../result.js';
import { BARE_SERVER, cpuOfPid, load1, startServer } from './tools.js';

const { rate, duration, workers, maxVUs } = commandLineOrExit(
  process.argv.slice(2),
  {
    usage: 'npm run perf:open -w @crucible/load-engine --',
    flags: {
      rate: { type: 'string', value: '<n/s>', description: 'arrivals per second (default 20000)' },
      duration: { type: 'string', value: '<s>', description: 'measured seconds (default 10)' },
      workers: { type: 'string', value: '<n>', description: 'generator processes of the split run (default 2)' },
      'max-vus': { type: 'string', value: '<n>', description: 'VUs (and connections) in all (default 200)' },
    },
  },
  (values) => ({
    rate: wholeArg('--rate', values.rate, 20_000, 1_000_000),
    duration: wholeArg('--duration', values.duration, 10, 3600),
    workers: wholeArg('--workers', values.workers, 2, 16),
    maxVUs: wholeArg('--max-vus', values['max-vus'], 200, 100_000),
  }),
);


function line(label: string, s: ScenarioResult | undefined, load: string, serverCpu: number): string {
  if (!s) return `| ${label} | — |`;
  const h = decodeHistogram(s.histogram as string);
  const lag = s.lagHistogram ? decodeHistogram(s.lagHistogram) : undefined;
  const scheduled = s.requests + s.dropped;
  const out = `| ${label} | ${(s.requests / s.durationS).toFixed(0)} | ${s.dropped} (${((100 * s.dropped) / Math.max(1, scheduled)).toFixed(2)} %) | ${s.requests - s.successes} | ${(h.getValueAtPercentile(50) / 1000).toFixed(2)} | ${(h.getValueAtPercentile(99) / 1000).toFixed(2)} | ${lag ? (lag.getValueAtPercentile(99) / 1000).toFixed(2) : '—'} | ${(serverCpu / s.durationS).toFixed(2)} | ${load} |`;
  h.destroy();
  lag?.destroy();
  return out;
}

const server = await startServer(BARE_SERVER);
const module = new URL('./open-scenarios.ts', import.meta.url);
try {
  const rows: string[] = [];
  for (const w of [1, workers]) {
    const before = load1();
    const cpu0 = cpuOfPid(server.child.pid as number);
    const result = await runParallel({ module, params: { rate, durationS: duration, maxVUs: Math.ceil(maxVUs / w) }, workers: w, mode: 'process', baseUrl: server.url });
    // The server's CPU over warm-up and measurement, per measured second (roughly: +1 s warm-up).
    const serverCpu = ((cpuOfPid(server.child.pid as number) - cpu0) * duration) / (duration + 1);
    rows.push(line(`${w} process${w > 1 ? 'es' : ''}, ${maxVUs} VUs in all`, result.scenarios[0], `${before.toFixed(2)}→${load1().toFixed(2)}`, serverCpu));
  }
  process.stdout.write(
    [
      `Open model, constant arrival rate ${rate}/s for ${duration} s (+1 s warm-up), bare node:http server in its own process, body skipped.`,
      '',
      '| generator | achieved req/s | dropped | failed | p50 ms | p99 ms | start lag p99 ms | server cores | load before→after |',
      '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
      ...rows,
      '',
    ].join('\n'),
  );
} finally {
  server.stop();
}
