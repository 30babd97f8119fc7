// WebSocket stress of the metrics gateway (`nx run @crucible/metrics-gateway-suites:stress`,
// `-- --profile=full` for 10,000 connections and 60 s). Starts the gateway as a process,
// opens the connections from this process, publishes small events with fan-out, drops
// every connection at once (reconnection storm), and writes the report through
// @crucible/reporting; exits non-zero when a goal fails.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { gatewayHealthSchema, gatewayRunSchema, runReportSchema, type GatewayHealth, type ScenarioReport, type SeriesPoint } from '@crucible/contracts';
import { createLatencyHistogram, encodeHistogram, percentileMs, recordLatencyMs, summarizeHistogram, type LatencyHistogram } from '@crucible/instrument-kit';
import { finalizeScenario, finishRun, runMetadata } from '@crucible/reporting';
import { discoverApps, startApp } from '@crucible/testbed';
import { z } from 'zod';
import { LoadClient, nowMs, pool } from './ws-load.js';

const profiles = {
  quick: { connections: 1000, channels: 50, subscribersPerChannel: 2, rate: 12_000, durationS: 10, tailS: 5, connectConcurrency: 100 },
  full: { connections: 10_000, channels: 500, subscribersPerChannel: 2, rate: 12_000, durationS: 60, tailS: 10, connectConcurrency: 200 },
} as const;
/** Goals from the issue. */
const goals = { connectSuccess: 0.999, ingestPerS: 10_000, p99Ms: 100, recoveryMs: 30_000 };

const profileName = (process.argv.find((a) => a.startsWith('--profile='))?.split('=')[1] ?? process.env['CRUCIBLE_PROFILE'] ?? 'quick') as keyof typeof profiles;
const rateArg = process.argv.find((a) => a.startsWith('--rate='))?.split('=')[1];
const profile = profiles[profileName] ? { ...profiles[profileName], ...(rateArg ? { rate: Number(rateArg) } : {}) } : undefined;
if (!profile) {
  console.error(`unknown --profile=${profileName}; use quick or full`);
  process.exit(2);
}
const log = (line: string) => process.stderr.write(`[gateway stress] ${line}\n`);

// Each connection is one descriptor here and one in the gateway (a child with the same limits).
const neededFds = profile.connections + 1024;
const softLimit = Number(spawnSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).stdout.trim());
if (Number.isFinite(softLimit) && softLimit < neededFds) {
  const hard = spawnSync('sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).stdout.trim();
  const hardN = hard === 'unlimited' ? Infinity : Number(hard);
  if (hardN < neededFds || process.env['CRUCIBLE_FD_RAISED']) {
    console.error(`the ${profileName} profile needs ${neededFds} open files but the limit is ${softLimit} (hard ${hard}); raise it (ulimit -n ${neededFds}) and rerun`);
    process.exit(2);
  }
  log(`raising the open-file limit from ${softLimit} to ${neededFds} and restarting`);
  const args = [...process.execArgv, ...process.argv.slice(1)].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const r = spawnSync('sh', ['-c', `ulimit -n ${neededFds} && exec '${process.execPath}' ${args}`], { stdio: 'inherit', env: { ...process.env, CRUCIBLE_FD_RAISED: '1' } });
  process.exit(r.status ?? 1);
}

/** CPU seconds (user + system) a process has used so far. */
const cpuS = (pid: number): number => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
};
const rssMb = (pid: number): number => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
};
const round = (n: number, d = 2) => Math.round(n * 10 ** d) / 10 ** d;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const token = randomBytes(24).toString('base64url');
const manifest = discoverApps().find((a) => a.name === 'metrics-gateway');
if (!manifest) throw new Error('apps/metrics-gateway not found');
const startedAt = new Date();
const gateway = await startApp(manifest, {
  env: { CRUCIBLE_ADMIN_TOKEN: token, LOG_LEVEL: 'warn', GATEWAY_MAX_CONNECTIONS: String(profile.connections * 2) },
});
const health = async (): Promise<GatewayHealth> => gatewayHealthSchema.parse(await (await fetch(`${gateway.url}/health`)).json());
const wsUrl = `${gateway.url.replace('http', 'ws')}/ws`;
log(`profile ${profileName}: ${profile.connections} connections, ${profile.channels} channels × ${profile.subscribersPerChannel} subscribers, ${profile.rate} events/s for ${profile.durationS} s; gateway ${gateway.url} (pid ${gateway.pid})`);
await sleep(500);
const rssIdle = rssMb(gateway.pid);

// Latency: the steady phase (the goal) and everything after the storm, kept apart.
let phaseHist: LatencyHistogram = createLatencyHistogram();
let secondHist: LatencyHistogram = createLatencyHistogram();
const onLatency = (ms: number) => {
  recordLatencyMs(phaseHist, ms);
  recordLatencyMs(secondHist, ms);
};

const subscriberCount = profile.channels * profile.subscribersPerChannel;
const clients: LoadClient[] = [];
for (let i = 0; i < profile.connections; i++) {
  const sub = i < subscriberCount;
  const channel = `load-${(sub ? Math.floor(i / profile.subscribersPerChannel) : i) % profile.channels}`;
  clients.push(new LoadClient(i, sub ? 'subscriber' : 'publisher', channel, wsUrl, token, onLatency, (c) => onClose(c)));
}
const subscribers = clients.filter((c) => c.role === 'subscriber');
const publishers = clients.filter((c) => c.role === 'publisher');

// Every client reopens a dropped connection at once (subscribers resume from their last
// sequence); a failed attempt retries with backoff. Drops are counted by phase: in the storm
// they are the point, elsewhere they are the gateway (or this overloaded process) failing.
let phase: 'connect' | 'steady' | 'storm' | 'tail' = 'connect';
const drops = { connect: 0, steady: 0, storm: 0, tail: 0 };
const stormFailures: Record<string, number> = {};
let stormAttempts = 0;
let stormFirstTryOk = 0;
let stormReconnects = 0;
const reconnect = async (c: LoadClient) => {
  if (c.reconnecting) return;
  c.reconnecting = true;
  const inStorm = phase === 'storm';
  if (inStorm) stormReconnects++;
  for (let attempt = 0; !c.stopped; attempt++) {
    if (inStorm) stormAttempts++;
    try {
      await c.connect(10_000);
      if (inStorm && attempt === 0) stormFirstTryOk++;
      break;
    } catch (err) {
      if (inStorm) {
        const kind = (err as Error).message.replace(/\d+/g, 'N').slice(0, 60);
        stormFailures[kind] = (stormFailures[kind] ?? 0) + 1;
      }
      await sleep(Math.min(2000, 50 * 2 ** attempt) * (0.5 + Math.random() / 2));
    }
  }
  c.reconnecting = false;
};
const onClose = (client: LoadClient) => {
  drops[phase]++;
  void reconnect(client);
};

// Phase 1: connect everyone (subscribers first, so they see every event from seq 1).
const connectHist = createLatencyHistogram();
const connectErrors: Record<string, number> = {};
const t1 = nowMs();
await pool(clients, profile.connectConcurrency, async (c) => {
  const t = nowMs();
  try {
    await c.connect(10_000);
    recordLatencyMs(connectHist, nowMs() - t);
  } catch (err) {
    c.connectFailures++;
    const kind = (err as Error).message.replace(/\d+/g, 'N').slice(0, 60);
    connectErrors[kind] = (connectErrors[kind] ?? 0) + 1;
  }
});
const connectS = (nowMs() - t1) / 1000;
const connected = clients.filter((c) => c.ready).length;
log(`connected ${connected}/${clients.length} in ${connectS.toFixed(1)} s`);
await sleep(1000);
const rssConnected = rssMb(gateway.pid);

// The open-model schedule: `rate` events per second spread round-robin over publishers;
// an event due for a publisher that is not connected (storm) is counted as skipped.
let scheduled = 0;
let skipped = 0;
let skippedSteady = 0;
let cursor = 0;
const scheduleStart = nowMs();
const tick = setInterval(() => {
  const due = Math.floor(((nowMs() - scheduleStart) / 1000) * profile.rate) - scheduled;
  for (let i = 0; i < due; i++) {
    const p = publishers[cursor++ % publishers.length]!;
    if (!p.publish(scheduled)) skipped++;
    scheduled++;
  }
}, 5);

const received = () => subscribers.reduce((n, s) => n + s.order.received, 0);
const series: SeriesPoint[] = [];
let rssPeak = rssConnected;
const sampler = (() => {
  let lastReceived = received();
  let lastScheduled = scheduled;
  let t = 0;
  return setInterval(() => {
    t++;
    const r = received();
    rssPeak = Math.max(rssPeak, rssMb(gateway.pid));
    series.push({
      t,
      requests: scheduled - lastScheduled,
      errors: 0,
      rps: r - lastReceived,
      p50: round(percentileMs(secondHist, 50), 3),
      p95: round(percentileMs(secondHist, 95), 3),
      p99: round(percentileMs(secondHist, 99), 3),
      dropped: 0,
    });
    secondHist.destroy();
    secondHist = createLatencyHistogram();
    lastReceived = r;
    lastScheduled = scheduled;
  }, 1000);
})();

// Phase 2: steady fan-out load (the first second is ramp-up and not measured).
phase = 'steady';
await sleep(1000);
const skipped0 = skipped;
const h0 = await health();
const r0 = received();
const cpu0 = { gateway: cpuS(gateway.pid), client: process.cpuUsage() };
const steadyStart = nowMs();
phaseHist.reset();
await sleep(profile.durationS * 1000);
const h1 = await health();
const r1 = received();
const steadyS = (nowMs() - steadyStart) / 1000;
skippedSteady = skipped - skipped0;
const gatewayCores = (cpuS(gateway.pid) - cpu0.gateway) / steadyS;
const clientCpu = process.cpuUsage(cpu0.client);
const clientCores = (clientCpu.user + clientCpu.system) / 1e6 / steadyS;
const loadAverage = (await import('node:os')).loadavg()[0]!;
const ingestPerS = (h1.messages.ingested - h0.messages.ingested) / steadyS;
const deliveredPerS = (r1 - r0) / steadyS;
const steadyHist = phaseHist;
phaseHist = createLatencyHistogram();
log(`steady: ingested ${ingestPerS.toFixed(0)}/s, delivered ${deliveredPerS.toFixed(0)}/s, p99 ${percentileMs(steadyHist, 99).toFixed(1)} ms, gateway RSS ${rssPeak.toFixed(0)} MB peak, CPU gateway ${gatewayCores.toFixed(2)} / client ${clientCores.toFixed(2)} cores, load average ${loadAverage.toFixed(1)}`);

// Phase 3: reconnection storm: every client reopens at once when dropped.
phase = 'storm';
const stormStart = nowMs();
const drop = await fetch(`${gateway.url}/admin/drop-connections`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
const dropBody = await drop.text();
if (drop.status !== 200) throw new Error(`POST /admin/drop-connections answered ${drop.status}: ${dropBody}`);
const dropped = z.object({ dropped: z.number() }).parse(JSON.parse(dropBody)).dropped;
const stormDeadline = stormStart + (profileName === 'full' ? 120_000 : 60_000);
while (clients.some((c) => !c.ready || c.readyAt < stormStart) && nowMs() < stormDeadline) await sleep(20);
const recovered = clients.filter((c) => c.ready && c.readyAt >= stormStart).length;
const recoveryMs = Math.max(...clients.map((c) => (c.readyAt >= stormStart ? c.readyAt - stormStart : Infinity)));
const stormHist = createLatencyHistogram();
for (const c of clients) if (c.readyAt >= stormStart) recordLatencyMs(stormHist, c.readyAt - stormStart);
log(`storm: dropped ${dropped}, recovered ${recovered}/${clients.length} in ${Number.isFinite(recoveryMs) ? recoveryMs.toFixed(0) : '∞'} ms`);

// After recovery: more load, then let deliveries drain.
phase = 'tail';
await sleep(profile.tailS * 1000);
clearInterval(tick);
let last = -1;
for (let i = 0; i < 50 && received() !== last; i++) {
  last = received();
  await sleep(200);
}
clearInterval(sampler);
const tailHist = phaseHist;

// Ordering per subscriber against the gateway's own count of each channel.
const runs = z.object({ runs: z.array(gatewayRunSchema) }).parse(await (await fetch(`${gateway.url}/runs`)).json()).runs;
const lastSeqOf = new Map(runs.map((r) => [r.run_id, r.last_seq]));
let gaps = 0;
let reportedGaps = 0;
let outOfOrder = 0;
let missing = 0;
for (const s of subscribers) {
  gaps += s.order.gaps;
  reportedGaps += s.order.reportedGaps;
  outOfOrder += s.order.outOfOrder;
  missing += Math.max(0, (lastSeqOf.get(s.channel) ?? 0) - s.lastSeq);
}
const finalHealth = await health();
log(`ordering: ${gaps} unannounced gaps, ${reportedGaps} reported lost, ${outOfOrder} out of order, ${missing} never arrived; gateway dropped ${finalHealth.messages.dropped}`);

await pool(clients, 500, (c) => c.stop());
const stopStart = nowMs();
await gateway.stop(15_000);
const shutdownMs = nowMs() - stopStart;
const finishedAt = new Date();

const scenario = (s: Omit<ScenarioReport, 'tags' | 'errors' | 'series' | 'metrics' | 'thresholds' | 'verdicts' | 'evidence' | 'checks' | 'segment' | 'passed' | 'source' | 'dropped_iterations' | 'latency_basis'> & {
  errors?: Record<string, number>;
  series?: SeriesPoint[];
  metrics: Record<string, number>;
  thresholds: string[];
  dropped_iterations?: number;
}): ScenarioReport =>
  finalizeScenario(
    runReportSchema.shape.scenarios.element.parse({
      ...s,
      tags: { target: 'metrics-gateway', transport: 'websocket' },
      thresholds: s.thresholds.map((expression) => ({ expression, metric: '', actual: null, passed: false })),
      latency_basis: 'actual',
    }),
  );

const connectFailed = clients.length - connected;
const scenarios: ScenarioReport[] = [
  scenario({
    name: 'connect',
    executor: `${profile.connections} connections, ${profile.connectConcurrency} opening at a time`,
    started_at: new Date(performance.timeOrigin + t1).toISOString(),
    duration_s: round(connectS),
    requests: clients.length,
    successes: connected,
    error_rate: round(connectFailed / clients.length, 6),
    errors: connectErrors,
    rps: { achieved: round(clients.length / connectS), target: null },
    latency_ms: summarizeHistogram(connectHist),
    histogram: encodeHistogram(connectHist),
    metrics: {
      connection_success_rate: round(connected / clients.length, 6),
      gateway_rss_idle_mb: round(rssIdle, 1),
      gateway_rss_connected_mb: round(rssConnected, 1),
      gateway_rss_mb_per_1000_connections: round((rssConnected - rssIdle) / (profile.connections / 1000), 2),
    },
    thresholds: [`connection_success_rate: value>${goals.connectSuccess}`],
  }),
  scenario({
    name: 'fan-out',
    executor: `open model: ${profile.rate} events/s over ${publishers.length} publishers into ${profile.channels} channels, ${profile.subscribersPerChannel} subscribers each`,
    started_at: new Date(performance.timeOrigin + steadyStart).toISOString(),
    duration_s: round(steadyS),
    requests: h1.messages.ingested - h0.messages.ingested,
    successes: h1.messages.ingested - h0.messages.ingested,
    error_rate: 0,
    rps: { achieved: round(ingestPerS), target: profile.rate },
    latency_ms: summarizeHistogram(steadyHist),
    histogram: encodeHistogram(steadyHist),
    series,
    metrics: {
      ingested_per_s: round(ingestPerS),
      delivered_per_s: round(deliveredPerS),
      gateway_rss_peak_mb: round(rssPeak, 1),
      gateway_cpu_cores: round(gatewayCores),
      load_client_cpu_cores: round(clientCores),
      machine_load_average_1m: round(loadAverage, 1),
      unannounced_gaps: gaps,
      out_of_order: outOfOrder,
      never_arrived: missing,
      reported_lost: reportedGaps,
      slow_subscriber_events: finalHealth.slow_subscriber_events,
      events_not_sent_backpressure_or_disconnected: skippedSteady,
      connections_dropped_during_load: drops.steady,
    },
    thresholds: [
      `p(99)<${goals.p99Ms}`,
      `ingested_per_s: value>=${goals.ingestPerS}`,
      'unannounced_gaps: count==0',
      'out_of_order: count==0',
      'never_arrived: count==0',
      'reported_lost: count==0',
    ],
  }),
  scenario({
    name: 'reconnection storm',
    executor: `all ${dropped} connections dropped at once (1012), every client reconnects immediately; subscribers resume from their last sequence`,
    started_at: new Date(performance.timeOrigin + stormStart).toISOString(),
    duration_s: round((Number.isFinite(recoveryMs) ? recoveryMs : 60_000) / 1000),
    requests: clients.length,
    successes: recovered,
    error_rate: round((clients.length - recovered) / clients.length, 6),
    errors: stormFailures,
    rps: { achieved: round(recovered / ((Number.isFinite(recoveryMs) ? recoveryMs : 60_000) / 1000)), target: null },
    latency_ms: summarizeHistogram(stormHist),
    histogram: encodeHistogram(stormHist),
    metrics: {
      recovery_ms: Number.isFinite(recoveryMs) ? round(recoveryMs) : -1,
      reconnect_attempts: stormAttempts,
      reconnections: stormReconnects,
      first_attempt_success_rate: round(stormFirstTryOk / Math.max(1, stormReconnects), 6),
      events_skipped_while_disconnected: skipped,
      // Includes the events replayed to resuming subscribers, whose wait while disconnected counts.
      post_storm_latency_p99_ms: round(percentileMs(tailHist, 99), 2),
      gateway_shutdown_ms: round(shutdownMs),
      heartbeat_terminations: finalHealth.heartbeat_terminations,
      connections_dropped_after_recovery: drops.tail,
    },
    thresholds: ['errors: rate==0', `recovery_ms: value<${goals.recoveryMs}`, 'recovery_ms: value>=0'],
  }),
];

const report = runReportSchema.parse({
  schema_version: 1,
  run: runMetadata({
    suite: 'metrics-gateway WebSocket stress',
    project: process.env['NX_TASK_TARGET_PROJECT'] ?? '@crucible/metrics-gateway-suites',
    target: 'stress',
    profile: profileName,
    startedAt,
    finishedAt,
    config: { ...profile, goals, fd_limit: softLimit },
  }),
  scenarios,
  passed: scenarios.every((s) => s.passed),
});
const code = await finishRun(report);
// Sockets of clients still retrying (a storm that never recovered) must not keep the process alive.
process.exit(code);
