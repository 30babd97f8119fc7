/**
 * The engine's closed-loop rate next to autocannon's and wrk's against the same bare
 * node:http server, interleaved (engine, autocannon, wrk, engine, …) so a busy spell of the
 * shared machine falls on every tool alike.
 *
 *   npm run perf -w @crucible/load-engine -- [--duration=5] [--connections=50] [--rounds=5] [--tools=engine,autocannon,wrk]
 *
 * The server runs in its own process; each tool uses one thread and the same connections,
 * latency from the send. Per round it records each tool's rate, its own CPU per request and
 * the 1-minute load average before and after, and the cores the rest of the machine took
 * meanwhile (all busy CPU less the tool's and the server's); a round in which others took
 * more than a quarter of a core during any run is marked "busy" (the machine has 2 cores: a
 * ratio from such a round may measure a starved competitor, not a faster engine). The load
 * average alone cannot tell: the benchmark's own two busy processes hold it near 2. Prints Markdown for
 * docs/performance.md. Not run in CI. (k6, which issue 12 names, is not used here: it is
 * under the AGPL, which this project's package policy excludes.)
 */
import os from 'node:os';
import { commandLineOrExit, wholeArg } from '@crucible/instrument-kit';
import { BARE_SERVER, load1, median, RAW_SERVER, startServer, viaAutocannon, viaEngine, viaWrk, type Figures } from './tools.js';

const TOOLS = { engine: viaEngine, autocannon: viaAutocannon, wrk: viaWrk } as const;
type Tool = keyof typeof TOOLS;
const LABEL: Record<Tool, string> = { engine: 'crucible load-engine', autocannon: 'autocannon 8', wrk: 'wrk 4.1 (C, -t1)' };
/** Cores others may take during a run before its round counts as busy. */
const BUSY = 0.25;

const { duration, connections, rounds, tools, raw } = commandLineOrExit(
  process.argv.slice(2),
  {
    usage: 'npm run perf -w @crucible/load-engine --',
    flags: {
      duration: { type: 'string', value: '<s>', description: 'seconds per measurement (default 5)' },
      connections: { type: 'string', value: '<n>', description: 'connections of every tool (default 50)' },
      rounds: { type: 'string', value: '<n>', description: 'turns of each tool (default 5)' },
      tools: { type: 'string', value: '<list>', description: 'comma-separated: engine, autocannon, wrk (default all three)' },
      server: { type: 'string', value: 'node|raw', description: 'node:http (default) or a raw TCP server that parses nothing, so the generators run out of CPU first' },
    },
  },
  (values) => {
    const list = (values.tools ?? 'engine,autocannon,wrk').split(',').map((t) => t.trim());
    for (const t of list) if (!(t in TOOLS)) throw new Error(`--tools: unknown tool "${t}" (engine, autocannon, wrk)`);
    return {
      duration: wholeArg('--duration', values.duration, 5, 3600),
      connections: wholeArg('--connections', values.connections, 50, 10_000),
      rounds: wholeArg('--rounds', values.rounds, 5, 100),
      tools: list as Tool[],
      raw: values.server === 'raw' ? true : values.server === undefined || values.server === 'node' ? false : (() => { throw new Error(`--server: "${values.server}" is not node or raw`); })(),
    };
  },
);

const fmt = (xs: number[], digits = 0): string => `${median(xs).toFixed(digits)} (${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)})`;
const loads = (f: Figures): string => `load ${f.loadBefore.toFixed(2)}→${f.loadAfter.toFixed(2)}, others ${f.othersCores.toFixed(2)} cores`;

const server = await startServer(raw ? RAW_SERVER : BARE_SERVER);
try {
  // A short warm-up of each so none pays for JIT and connection set-up in round 1.
  for (const t of tools) await TOOLS[t](server.url, connections, 2);
  const byTool = new Map<Tool, Figures[]>(tools.map((t) => [t, []]));
  const busyRounds: boolean[] = [];
  for (let i = 0; i < rounds; i++) {
    const line: string[] = [];
    let busy = false;
    for (const t of tools) {
      const f = await TOOLS[t](server.url, connections, duration);
      byTool.get(t)?.push(f);
      busy ||= f.othersCores > BUSY;
      line.push(`${t} ${f.rps.toFixed(0)}/s ${f.cpuUsPerReq.toFixed(1)} µs CPU/req (${loads(f)})`);
    }
    busyRounds.push(busy);
    process.stderr.write(`round ${i + 1}${busy ? ' (busy)' : ''}: ${line.join(', ')}\n`);
  }
  const engine = byTool.get('engine') ?? [];
  const out: string[] = [
    `${raw ? 'Raw TCP server answering a canned 200 without parsing' : 'Bare node:http server'} (own process), ${connections} connections, closed loop, ${duration} s × ${rounds} rounds interleaved (${tools.join(', ')}), one thread each; ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), Node ${process.version}; load average at the end ${load1().toFixed(2)}.`,
    '',
    '| tool | req/s median (min–max) | CPU µs/request median (min–max) | p50 ms | p99 ms |',
    '|---|---:|---:|---:|---:|',
  ];
  for (const t of tools) {
    const fs = byTool.get(t) ?? [];
    out.push(`| ${LABEL[t]} | ${fmt(fs.map((f) => f.rps))} | ${fmt(fs.map((f) => f.cpuUsPerReq), 1)} | ${fmt(fs.map((f) => f.p50), 2)} | ${fmt(fs.map((f) => f.p99), 2)} |`);
  }
  out.push('', `| round | ${tools.map((t) => `${t} req/s (load before→after, others' cores)`).join(' | ')} | ${tools.filter((t) => t !== 'engine').map((t) => `engine ÷ ${t}`).join(' | ')} |`);
  out.push(`|---|${tools.map(() => '---:').join('|')}|${tools.filter((t) => t !== 'engine').map(() => '---:').join('|')}|`);
  for (let i = 0; i < rounds; i++) {
    const cells = tools.map((t) => {
      const f = byTool.get(t)?.[i] as Figures;
      return `${f.rps.toFixed(0)} (${loads(f)})`;
    });
    const ratios = tools.filter((t) => t !== 'engine').map((t) => ((engine[i]?.rps ?? Number.NaN) / (byTool.get(t)?.[i]?.rps ?? Number.NaN)).toFixed(2));
    out.push(`| ${i + 1}${busyRounds[i] ? ' (busy)' : ''} | ${cells.join(' | ')} | ${ratios.join(' | ')} |`);
  }
  for (const t of tools.filter((x) => x !== 'engine')) {
    const quiet = engine.map((e, i) => (busyRounds[i] ? Number.NaN : e.rps / (byTool.get(t)?.[i]?.rps ?? Number.NaN))).filter((r) => Number.isFinite(r));
    const all = engine.map((e, i) => e.rps / (byTool.get(t)?.[i]?.rps ?? Number.NaN));
    out.push('', `engine ÷ ${t}: median ${median(all).toFixed(2)}× over all rounds; ${quiet.length ? `${median(quiet).toFixed(2)}× over the ${quiet.length} quiet ones (others ≤ ${BUSY} cores in every run)` : `no quiet round (others ≤ ${BUSY} cores in every run)`}; CPU per request ${(median(engine.map((f) => f.cpuUsPerReq)) / median((byTool.get(t) ?? []).map((f) => f.cpuUsPerReq))).toFixed(2)}× ${t}'s.`);
  }
  process.stdout.write(`${out.join('\n')}\n`);
} finally {
  server.stop();
}
