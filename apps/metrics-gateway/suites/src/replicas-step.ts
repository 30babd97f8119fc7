// The gateway stress across replicas: two gateway processes sharing run channels through one
// real Redis, behind a real nginx that proxies the WebSocket upgrade round robin. Every
// publisher and subscriber connects through nginx, so the balancer, not the test, decides
// where each lands; the welcome's `instance` says which replica it was. Judged by the
// fan-out's own delivery thresholds, summed over every subscriber on either replica.
import { gatewayHealthSchema, type GatewayHealth, type ScenarioReport } from '@crucible/contracts';
import { createLatencyHistogram, recordLatencyMs } from '@crucible/instrument-kit';
import type { SuiteKit, SuiteStep } from '@crucible/suite-kit';
import { startNginx, startRedis, type RunningApp } from '@crucible/testbed';
import { round, sleep } from './gateway-load.js';
import { deliveryThresholds, goals, row } from './reports.js';
import { closeAll, deliveryFigures, lastSeqs, publishPaced, replicaToken, startReplicas, streamsHealth } from './streams-replicas.js';
import { LoadClient, nowMs } from './ws-load.js';

/** The shape of the step: small, for a shared 2-core machine. */
export interface ReplicasProfile {
  readonly channels: number;
  readonly subscribersPerChannel: number;
  /** Events each channel's one publisher sends. */
  readonly perChannel: number;
  /** Events per second over all publishers (open schedule). */
  readonly rate: number;
}

/** Quick: 8 channels × (2 subscribers + 1 publisher), 400 events each at 1,600/s: 3,200 events in 2 s, 6,400 deliveries. */
export const replicasProfile: ReplicasProfile = { channels: 8, subscribersPerChannel: 2, perChannel: 400, rate: 1600 };

/** The thresholds of the step: the fan-out's delivery thresholds, across replicas that both served. */
export const replicasThresholds = [
  ...deliveryThresholds,
  'replica_a_connections: count>0',
  'replica_b_connections: count>0',
  'cross_replica_subscribers: count>0',
  `errors: rate<${goals.maxErrorRate}`,
] as const;

/** Options of {@link replicasBehindNginx}. */
export interface ReplicasOptions {
  /** Variables for replica B alone: a planted defect (`CRUCIBLE_FAILPOINTS`) on one replica. */
  readonly envB?: Record<string, string>;
  /**
   * nginx's round-robin weights for A and B (default even). Only a planted-defect test sets
   * them, to 100:1: a balancer that sends every one of the step's connections to A.
   */
  readonly weights?: readonly [number, number];
  readonly log?: (line: string) => void;
}

async function health(app: RunningApp): Promise<GatewayHealth> {
  return gatewayHealthSchema.parse(await (await fetch(`${app.url}/health`)).json());
}

/** Waits until every subscriber has its run's last sequence (delivered or reported lost), or its deliveries stop for 3 s. */
async function caughtUp(subscribers: readonly LoadClient[], published: () => Promise<Map<string, number>>): Promise<void> {
  const deadline = Date.now() + 20_000;
  let last = -1;
  let still = 0;
  while (Date.now() < deadline) {
    const want = await published();
    if (subscribers.every((s) => s.lastSeq >= (want.get(s.channel) ?? 0))) return;
    const now = subscribers.reduce((n, s) => n + s.order.received + s.order.reportedGaps, 0);
    still = now === last ? still + 1 : 0;
    // Counted in polls, not one quiet interval: a loaded machine can stall a few hundred ms.
    if (still >= 10) return;
    last = now;
    await sleep(300);
  }
}

/** Each run's last sequence on either replica (the publisher's replica holds every publish). */
async function lastSeqsOfBoth(a: RunningApp, b: RunningApp): Promise<Map<string, number>> {
  const [onA, onB] = await Promise.all([lastSeqs(a), lastSeqs(b)]);
  const out = new Map(onA);
  for (const [run, seq] of onB) out.set(run, Math.max(seq, out.get(run) ?? 0));
  return out;
}

/**
 * Starts a Redis, gateway replicas A and B on it and nginx in front of them (`websocket`),
 * connects every subscriber and then every publisher through nginx, publishes the profile's
 * events, and returns the report row: delivery figures across both replicas, the connection
 * split each replica's /health reports, and how many subscribers read a run published on the
 * other replica. Everything it started is stopped before it returns.
 */
export async function replicasBehindNginx(profile: ReplicasProfile = replicasProfile, options: ReplicasOptions = {}): Promise<ScenarioReport> {
  const log = options.log ?? (() => {});
  await using redis = await startRedis();
  // A second of Redis timeout: a loaded machine's Redis can take a few hundred ms to answer.
  await using r = await startReplicas(redis, { LOG_LEVEL: 'warn', GATEWAY_HISTORY_SIZE: '1024', REDIS_TIMEOUT_MS: '1000' }, options.envB ?? {});
  await using lb = await startNginx({ upstreams: [r.a.url, r.b.url], websocket: true, ...(options.weights ? { weights: options.weights } : {}) });
  const [ha, hb] = await Promise.all([health(r.a), health(r.b)]);
  const latency = createLatencyHistogram();
  const onLatency = (ms: number) => recordLatencyMs(latency, ms);
  const wsUrl = `${lb.url.replace('http', 'ws')}/ws`;
  const runs = Array.from({ length: profile.channels }, (_, i) => `replicas-${i}`);
  const subs = runs.flatMap((run, i) => Array.from({ length: profile.subscribersPerChannel }, (_, k) => new LoadClient(i * 100 + k, 'subscriber', run, wsUrl, replicaToken, onLatency)));
  const pubs = runs.map((run, i) => new LoadClient(10_000 + i, 'publisher', run, wsUrl, replicaToken, () => {}));
  try {
    // One at a time, subscribers first: every subscriber is there from sequence 1.
    for (const c of [...subs, ...pubs]) await c.connect(10_000);
    const [ca, cb] = await Promise.all([health(r.a), health(r.b)]);
    const side = (c: LoadClient) => (c.instance === ha.instance ? 'a' : c.instance === hb.instance ? 'b' : '?');
    const publisherSide = new Map(pubs.map((p) => [p.channel, side(p)]));
    const cross = subs.filter((s) => side(s) !== publisherSide.get(s.channel)).length;
    const split = (role: LoadClient[]) => `${role.filter((c) => side(c) === 'a').length}/${role.filter((c) => side(c) === 'b').length}`;
    log(`through nginx ${lb.url}: A ${ca.connections} connections, B ${cb.connections} (subscribers ${split(subs)}, publishers ${split(pubs)}); ${cross} of ${subs.length} subscribers read a run published on the other replica`);
    const startedAt = nowMs();
    const skipped = await publishPaced(pubs, profile.perChannel, profile.rate);
    await caughtUp(subs, () => lastSeqsOfBoth(r.a, r.b));
    const seconds = (nowMs() - startedAt) / 1000;
    const published = await lastSeqsOfBoth(r.a, r.b);
    const figures = deliveryFigures(subs, published);
    const [sa, sb] = await Promise.all([streamsHealth(r.a), streamsHealth(r.b)]);
    const total = profile.perChannel * profile.channels;
    log(
      `across replicas: ${figures.received} delivered, ${figures.unannounced_gaps} unannounced gaps, ${figures.out_of_order} out of order, ${figures.never_arrived} never arrived, ${figures.reported_lost} reported lost; streams appended A ${sa?.appended ?? 0} + B ${sb?.appended ?? 0}, read A ${sa?.read ?? 0} + B ${sb?.read ?? 0}, unstreamed ${(sa?.unstreamed ?? 0) + (sb?.unstreamed ?? 0)}`,
    );
    return row({
      name: 'replicas behind nginx',
      executor: `${profile.channels} runs × (${profile.subscribersPerChannel} subscribers + 1 publisher) through nginx (WebSocket upgrade, round robin) over 2 gateway replicas on one Redis; ${profile.perChannel} events per run at ${profile.rate}/s in all`,
      startedAt,
      duration_s: round(seconds),
      requests: total,
      successes: total - skipped,
      error_rate: round(skipped / total, 6),
      ...(skipped > 0 ? { errors: { 'event not sent (publisher disconnected or backed up)': skipped } } : {}),
      rps: { achieved: round(total / seconds), target: profile.rate },
      latency,
      metrics: {
        unannounced_gaps: figures.unannounced_gaps,
        out_of_order: figures.out_of_order,
        never_arrived: figures.never_arrived,
        reported_lost: figures.reported_lost,
        delivered: figures.received,
        replica_a_connections: ca.connections,
        replica_b_connections: cb.connections,
        replica_a_subscribers: subs.filter((s) => side(s) === 'a').length,
        replica_b_subscribers: subs.filter((s) => side(s) === 'b').length,
        cross_replica_subscribers: cross,
        streams_appended: (sa?.appended ?? 0) + (sb?.appended ?? 0),
        streams_read: (sa?.read ?? 0) + (sb?.read ?? 0),
        publishes_unstreamed: (sa?.unstreamed ?? 0) + (sb?.unstreamed ?? 0),
        streams_gap_messages: (sa?.gap_messages ?? 0) + (sb?.gap_messages ?? 0),
      },
      thresholds: [...replicasThresholds],
    });
  } finally {
    await closeAll([...subs, ...pubs]);
  }
}

/**
 * The step of the gateway stress suite. It starts its own replicas, Redis and nginx (the
 * suite's one gateway is not enough for it), so against a deployed `--target` it is left out.
 */
export function replicasStep<Ctx>(profile: ReplicasProfile = replicasProfile): SuiteStep<Ctx> {
  return {
    name: 'replicas behind nginx',
    rerunWhenStarved: false,
    async run(_ctx: Ctx, kit: SuiteKit) {
      if (kit.args.target) {
        kit.log('replicas behind nginx: left out against a deployed target (it starts gateway replicas, Redis and nginx of its own)');
        return [];
      }
      return replicasBehindNginx(profile, { log: (line) => kit.log(line) });
    },
  };
}
