// WebSocket stress of the metrics gateway: `npx nx run @crucible/metrics-gateway-suites:stress`
// (`-- --profile=full` for 10,000 connections and 60 s; `CRUCIBLE_GATEWAY_RATE` for another
// publish rate). Starts the gateway as a process, opens the connections from this process,
// publishes small events with fan-out, drops every connection at once (reconnection storm),
// and checks ordering per subscriber. The workload is ./gateway-load.ts, the rows ./reports.ts.
import { percentileMs, wholeArg } from '@crucible/instrument-kit';
import { classifyGenerator, startGeneratorMonitor } from '@crucible/load-engine';
import { generatorReport } from '@crucible/reporting';
import { parseSuiteArgs, suiteMain, type SuiteArgs } from '@crucible/suite-kit';
import { ensureOpenFiles } from './fd-limit.js';
import { GatewayLoad, sleep, type GatewayProfile } from './gateway-load.js';
import { rssMb } from './proc-stats.js';
import { replicasStep } from './replicas-step.js';
import { connectRow, fanOutRow, goals, stormRow } from './reports.js';
import { nowMs } from './ws-load.js';

const profiles: Record<SuiteArgs['profile'], GatewayProfile> = {
  quick: { connections: 1000, channels: 50, subscribersPerChannel: 2, rate: 12_000, durationS: 10, tailS: 5, connectConcurrency: 100, stormDeadlineMs: 60_000 },
  full: { connections: 10_000, channels: 500, subscribersPerChannel: 2, rate: 12_000, durationS: 60, tailS: 10, connectConcurrency: 200, stormDeadlineMs: 120_000 },
};
/** The profile, with `CRUCIBLE_GATEWAY_RATE` for another publish rate (a malformed value exits 2 naming it). */
const profileOf = (args: SuiteArgs): GatewayProfile => ({
  ...profiles[args.profile],
  rate: wholeArg('CRUCIBLE_GATEWAY_RATE', process.env['CRUCIBLE_GATEWAY_RATE'] || undefined, profiles[args.profile].rate, 1_000_000),
});

// Each connection is one descriptor here and one in the gateway: raise the limit before anything
// starts. Arguments the kit will refuse are left to it, to report.
const requested = (() => {
  try {
    return parseSuiteArgs(process.argv.slice(2)).profile;
  } catch {
    return undefined;
  }
})();
const fdLimit = requested ? ensureOpenFiles(profiles[requested].connections + 1024, `the ${requested} profile`) : undefined;

interface Ctx {
  readonly load: GatewayLoad;
  readonly rssIdleMb: number;
}

suiteMain<Ctx>({
  name: 'metrics-gateway WebSocket stress',
  target: 'stress',
  project: '@crucible/metrics-gateway-suites',
  // The gateway keeps everything in memory: no database of its own (the testbed's PostgreSQL sits idle).
  sut: (args) => ({ apps: ['metrics-gateway'], env: { LOG_LEVEL: 'warn', GATEWAY_MAX_CONNECTIONS: String(profileOf(args).connections * 2) } }),
  // Its load is this suite's own WebSocket clients, not the load engine's: nothing to stream.
  live: false,
  variables: { CRUCIBLE_GATEWAY_RATE: `events published per second (default ${profiles.quick.rate})` },
  config: (args) => ({ ...profileOf(args), goals, fd_limit: fdLimit }),
  async setup(kit) {
    const profile = profileOf(kit.args);
    const gateway = kit.sut.apps['metrics-gateway']?.[0];
    if (!gateway) throw new Error('the metrics gateway did not start');
    kit.log(
      `${profile.connections} connections, ${profile.channels} channels × ${profile.subscribersPerChannel} subscribers, ${profile.rate} events/s for ${profile.durationS} s; gateway ${gateway.url} (pid ${gateway.pid})`,
    );
    await sleep(500);
    return { load: new GatewayLoad(profile, gateway, kit.sut.adminToken), rssIdleMb: rssMb(gateway.pid) };
  },
  steps: [
    {
      name: 'connect',
      async run({ load, rssIdleMb }, kit) {
        const c = await load.connectAll();
        kit.log(`connected ${c.connected}/${load.clients.length} in ${c.seconds.toFixed(1)} s`);
        return connectRow(load, c, rssIdleMb);
      },
    },
    {
      name: 'fan-out and reconnection storm',
      // It closes its connections and stops the gateway: a second attempt would measure nothing.
      rerunWhenStarved: false,
      async run({ load }, kit) {
        load.startSchedule();
        // The subscribers and publishers live on this thread: its own delay and CPU share say
        // whether the p99 below measured the gateway or a starved load generator.
        const monitor = startGeneratorMonitor();
        const steady = await load.steady();
        const generator = generatorReport(classifyGenerator(monitor.stop(null)));
        kit.log(
          `steady: ingested ${steady.ingestPerS.toFixed(0)}/s, delivered ${steady.deliveredPerS.toFixed(0)}/s, p99 ${percentileMs(steady.histogram, 99).toFixed(1)} ms, gateway RSS ${load.rssPeakMb.toFixed(0)} MB peak, CPU gateway ${steady.gatewayCores.toFixed(2)} / client ${steady.clientCores.toFixed(2)} cores, load average ${steady.loadAverage.toFixed(1)}`,
        );
        const storm = await load.dropAll(kit.sut.adminToken);
        kit.log(`storm: dropped ${storm.dropped}, recovered ${storm.recovered}/${load.clients.length} in ${Number.isFinite(storm.recoveryMs) ? storm.recoveryMs.toFixed(0) : '∞'} ms`);
        const tail = await load.tail();
        const ordering = await load.ordering();
        kit.log(
          `ordering: ${ordering.gaps} unannounced gaps, ${ordering.reportedGaps} reported lost, ${ordering.outOfOrder} out of order, ${ordering.missing} never arrived; gateway dropped ${ordering.finalHealth.messages.dropped}`,
        );
        await load.close();
        const stopStart = nowMs();
        await kit.sut.apps['metrics-gateway']?.[0]?.stop(15_000);
        return [fanOutRow(load, steady, ordering, generator), stormRow(load, storm, tail, ordering, nowMs() - stopStart)];
      },
    },
    // 2 gateway replicas on one Redis behind nginx, ordering and gaps judged across them (./replicas-step.ts).
    replicasStep<Ctx>(),
  ],
  teardown: ({ load }) => load.close(),
});
