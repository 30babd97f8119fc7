// `npm run perf -w @crucible/metrics-gateway-suites` — the gateway's two cost goals (issue 12,
// goal 5) side by side, in interleaved rounds so a burst of load from elsewhere on this shared
// machine falls on both alike:
//   ingest:  12,000 events/s from 900 publishers (50 channels × 2 subscribers, as the stress
//            suite's quick profile) in ≤ 0.25 cores of the gateway process (/proc);
//   fan-out: at saturation (a closed loop, one publisher, `--subscribers` on one channel),
//            messages delivered per second through the gateway ≥ 0.9× a bare `ws` broadcast
//            server (perf.raw-broadcast.mjs) measured in the same round.
// Prints the table with `uptime`, writes reports/@crucible/metrics-gateway-suites/perf.{json,md}.
// `--cpu-prof` instead samples the gateway's CPU during one ingest run and prints where it goes.
// Not part of CI: it saturates the machine for about a minute.
//
//   npm run perf -w @crucible/metrics-gateway-suites -- [--rounds=3] [--duration=10] [--subscribers=200] [--cpu-prof]
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { cpuProfileEnv, profileMarkdown, type CpuProfile } from '@crucible/benchmarks';
import { commandLineOrExit, wholeArg, workspaceRoot as findRoot } from '@crucible/instrument-kit';
import { startSut } from '@crucible/testbed';
import { ensureOpenFiles } from './fd-limit.js';
import { GatewayLoad, sleep, type GatewayProfile } from './gateway-load.js';
import { cpuSplitS, fanOutRound, startRawBroadcast, type FanOutFigures, type FanOutTarget } from './perf.fanout.js';
import { perfMarkdown, perfSummary, type IngestFigures } from './perf.report.js';
import { nowMs } from './ws-load.js';

const settings = commandLineOrExit(
  process.argv.slice(2),
  {
    usage: 'npm run perf -w @crucible/metrics-gateway-suites --',
    flags: {
      rounds: { type: 'string', value: '<n>', description: 'interleaved rounds of both comparisons (default 3)' },
      duration: { type: 'string', value: '<s>', description: 'measured seconds of each ingest and fan-out run (default 10)' },
      subscribers: { type: 'string', value: '<n>', description: 'subscribers of the fan-out channel (default 200)' },
      'cpu-prof': { type: 'boolean', description: "profile the gateway's CPU over one ingest run instead (V8 sampling profiler)" },
    },
  },
  (values) => ({
    rounds: wholeArg('--rounds', values.rounds, 3, 100),
    duration: wholeArg('--duration', values.duration, 10, 600),
    subscribers: wholeArg('--subscribers', values.subscribers, 200, 5000),
    cpuProf: values['cpu-prof'] === true,
  }),
);

const ingestProfile: GatewayProfile = { connections: 1000, channels: 50, subscribersPerChannel: 2, rate: 12_000, durationS: settings.duration, tailS: 0, connectConcurrency: 100, stormDeadlineMs: 0 };
ensureOpenFiles(ingestProfile.connections + settings.subscribers + 1024, 'the gateway benchmark');
const uptime = () => execFileSync('uptime', { encoding: 'utf8' }).trim();
const out = path.join(findRoot(), 'reports', '@crucible/metrics-gateway-suites');
await mkdir(out, { recursive: true });
const profileDir = settings.cpuProf ? await mkdtemp(path.join(os.tmpdir(), 'gateway-profile-')) : undefined;

const sut = await startSut({
  apps: ['metrics-gateway'],
  appEnv: { 'metrics-gateway': { LOG_LEVEL: 'warn', GATEWAY_MAX_CONNECTIONS: '5000', ...(profileDir ? await cpuProfileEnv(profileDir) : {}) } },
});
const gateway = sut.apps['metrics-gateway']?.[0];
if (!gateway) throw new Error('the metrics gateway did not start');

/**
 * One ingest run of the stress suite's quick workload (its clients, open-model schedule and
 * channels), without the storm, on `target`: one second of ramp, `--duration` measured.
 */
async function ingest(round: number, kind: IngestFigures['kind'], target: { readonly url: string; readonly pid: number }): Promise<IngestFigures> {
  const load = new GatewayLoad(ingestProfile, target, sut.adminToken);
  try {
    const c = await load.connectAll();
    if (c.connected !== load.clients.length) throw new Error(`ingest round ${round} (${kind}): ${c.connected}/${load.clients.length} connected`);
    load.startSchedule();
    await sleep(1000);
    const r0 = load.received();
    const cpu0 = cpuSplitS(target.pid);
    const t0 = nowMs();
    await sleep(settings.duration * 1000);
    const seconds = (nowMs() - t0) / 1000;
    const cpu1 = cpuSplitS(target.pid);
    const delivered = (load.received() - r0) / seconds;
    const user = (cpu1.user - cpu0.user) / seconds;
    const system = (cpu1.system - cpu0.system) / seconds;
    return { kind, ingestPerS: delivered / ingestProfile.subscribersPerChannel, deliveredPerS: delivered, cores: user + system, userCores: user, systemCores: system };
  } finally {
    await load.close();
  }
}

const log = (line: string) => process.stderr.write(`${line}\n`);
const startUptime = uptime();
log(`start: ${startUptime}`);
try {
  if (profileDir) {
    process.kill(gateway.pid, 'SIGUSR2');
    const s = await ingest(1, 'gateway', gateway);
    await sut.stop();
    const file = (await readdir(profileDir)).find((f) => f.endsWith('.cpuprofile'));
    if (!file) throw new Error(`the gateway wrote no .cpuprofile into ${profileDir}`);
    const md = profileMarkdown(JSON.parse(await readFile(path.join(profileDir, file), 'utf8')) as CpuProfile, {
      title: `metrics-gateway CPU profile: ${ingestProfile.rate} events/s from ${ingestProfile.connections - 100} publishers, 50 channels × 2 subscribers, ${settings.duration} s (connect and close included)`,
      answered: Math.round(s.ingestPerS * settings.duration),
      rps: s.ingestPerS,
      loadAverage: os.loadavg(),
      top: 30,
    });
    await writeFile(path.join(out, 'profile.md'), md);
    process.stdout.write(`${md}\ngateway ${s.cores.toFixed(3)} cores while profiled; ${uptime()}\n`);
  } else {
    const raw = await startRawBroadcast();
    const rawHub = await startRawBroadcast('channels');
    const targets: FanOutTarget[] = [
      { kind: 'gateway', publisherUrl: `${gateway.url.replace('http', 'ws')}/ws?token=${encodeURIComponent(sut.adminToken)}`, subscriberUrl: `${gateway.url.replace('http', 'ws')}/ws`, pid: gateway.pid },
      raw,
    ];
    const ingests: IngestFigures[][] = [];
    const fanOuts: FanOutFigures[][] = [];
    try {
      for (let round = 1; round <= settings.rounds; round++) {
        // Which server goes first alternates, so neither always meets the machine warmer.
        const first = round % 2 === 1;
        const ingestPair: IngestFigures[] = [];
        for (const [kind, t] of first ? ([['gateway', gateway], ['raw ws', rawHub]] as const) : ([['raw ws', rawHub], ['gateway', gateway]] as const)) {
          const s = await ingest(round, kind, { url: t.url, pid: t.pid });
          ingestPair.push(s);
          log(`round ${round} ingest ${kind}: ${s.ingestPerS.toFixed(0)}/s in, ${s.deliveredPerS.toFixed(0)}/s out, ${s.cores.toFixed(3)} cores (user ${s.userCores.toFixed(3)}, system ${s.systemCores.toFixed(3)}), load ${os.loadavg()[0]?.toFixed(1)}`);
          await sleep(500);
        }
        ingests.push(ingestPair);
        const order = first ? targets : [...targets].reverse();
        const pair: FanOutFigures[] = [];
        for (const t of order) {
          const f = await fanOutRound(t, { subscribers: settings.subscribers, window: 64, durationS: settings.duration }, `fan-${round}`);
          pair.push(f);
          log(`round ${round} fan-out ${f.kind}: ${f.deliveredPerS.toFixed(0)} deliveries/s, ${f.serverCores.toFixed(2)} cores, ${f.usPerDelivery.toFixed(2)} µs each, out of order ${f.outOfOrder}, load ${os.loadavg()[0]?.toFixed(1)}`);
        }
        fanOuts.push(pair);
      }
    } finally {
      await Promise.all([raw.stop(), rawHub.stop()]);
    }
    const summary = perfSummary(ingests, fanOuts, { ...settings, rate: ingestProfile.rate, publishers: ingestProfile.connections - ingestProfile.channels * ingestProfile.subscribersPerChannel }, [`start ${startUptime}`, `end ${uptime()}`]);
    const md = perfMarkdown(summary);
    await writeFile(path.join(out, 'perf.json'), `${JSON.stringify(summary, null, 2)}\n`);
    await writeFile(path.join(out, 'perf.md'), md);
    process.stdout.write(md);
  }
} finally {
  await sut.stop();
  if (profileDir) await rm(profileDir, { recursive: true, force: true });
}
