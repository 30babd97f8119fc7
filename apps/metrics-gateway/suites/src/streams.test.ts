// Gateway replicas sharing run channels through Redis Streams: two real gateway processes on
// one real redis-server. Publishers on A, subscribers on B, judged by the stress suite's own
// delivery thresholds (unannounced gaps, out of order, never arrived, reported lost); a
// subscriber moving between replicas; trimming by length; Redis killed mid-stream; and the
// planted reader that skips an entry, which the no-gap verdict catches.
import { startRedis, type RedisServer } from '@crucible/testbed';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep } from './gateway-load.js';
import {
  closeAll,
  deliveryFigures,
  deliveryVerdicts,
  drained,
  lastSeqs,
  publishPaced,
  publisher,
  startReplicas,
  streamsHealth,
  subscriber,
  xlen,
  type Replicas,
} from './streams-replicas.js';
import type { LoadClient } from './ws-load.js';

const historySize = 256;
const failing = (v: ReturnType<typeof deliveryVerdicts>) => v.filter((t) => !t.passed).map((t) => t.expression);

/** `runs` runs, a publisher of each on A and `subsPerRun` subscribers of each on B; `perRun` events each at `rate`/s. */
async function acrossReplicas(r: Replicas, tag: string, runs: number, subsPerRun: number, perRun: number, rate: number) {
  const names = Array.from({ length: runs }, (_, i) => `${tag}-${i}`);
  const subs: LoadClient[] = [];
  for (const [i, run] of names.entries()) for (let k = 0; k < subsPerRun; k++) subs.push(await subscriber(r.b, run, i * 100 + k));
  const pubs = await Promise.all(names.map((run, i) => publisher(r.a, run, 1000 + i)));
  try {
    const skipped = await publishPaced(pubs, perRun, rate);
    await drained(subs);
    const published = await lastSeqs(r.a);
    return { names, skipped, published, subs, figures: deliveryFigures(subs, published) };
  } finally {
    await closeAll([...subs, ...pubs]);
  }
}

describe('gateway replicas on Redis Streams', () => {
  let redis: RedisServer;
  let r: Replicas;
  beforeAll(async () => {
    redis = await startRedis();
    // A second of command timeout: on this shared, loaded machine Redis can take a few hundred ms to answer.
    r = await startReplicas(redis, { GATEWAY_HISTORY_SIZE: String(historySize), REDIS_TIMEOUT_MS: '1000' });
  }, 60_000);
  afterAll(async () => {
    await r?.[Symbol.asyncDispose]();
    await redis?.stop();
  });

  it('a subscriber on B gets every message published on A, in order, with no gap (4 runs × 1,000 messages, 2 subscribers each)', async () => {
    const { names, skipped, published, subs, figures } = await acrossReplicas(r, 'cross', 4, 2, 1000, 2000);
    expect(skipped).toBe(0);
    for (const run of names) expect(published.get(run)).toBe(1000);
    // Every publish went through Redis (none given up on a timeout and delivered by A alone).
    expect(await streamsHealth(r.a)).toMatchObject({ state: 'up', outages: 0, unstreamed: 0 });
    expect(figures).toMatchObject({ received: 8000, unannounced_gaps: 0, out_of_order: 0, never_arrived: 0, reported_lost: 0 });
    expect(subs.every((s) => s.order.received === 1000 && s.lastSeq === 1000)).toBe(true);
    expect(failing(deliveryVerdicts(figures))).toEqual([]);
    // B delivered what it read from the streams, not what anybody published to it.
    const b = await streamsHealth(r.b);
    expect(b).toMatchObject({ state: 'up', outages: 0, unstreamed: 0, gap_messages: 0 });
    expect(b!.read).toBeGreaterThanOrEqual(4000);
    expect((await streamsHealth(r.a))!.appended).toBeGreaterThanOrEqual(4000);
  });

  it('a subscriber that reconnects to the other replica resumes from its last sequence, without loss', async () => {
    const run = 'resume-0';
    const pub = await publisher(r.a, run, 1);
    const first = await subscriber(r.a, run, 2);
    let second: LoadClient | undefined;
    try {
      const publishing = publishPaced([pub], 600, 400);
      while (first.lastSeq < 200) await sleep(20);
      await first.stop();
      // B has never seen this run: its channel is filled from the stream, read since the last id.
      second = await subscriber(r.b, run, 3, undefined, first.lastSeq);
      expect(await publishing).toBe(0);
      await drained([second]);
      const published = (await lastSeqs(r.a)).get(run)!;
      expect(published).toBe(600);
      expect(second.lastSeq).toBe(600);
      const together = deliveryFigures([first, second], new Map([[run, 600]]));
      // The first subscriber's stop leaves it behind by design; judge the pair as one reader.
      expect(first.order.received + second.order.received).toBe(600);
      expect(together.unannounced_gaps + together.out_of_order + together.reported_lost).toBe(0);
    } finally {
      await closeAll([pub, first, ...(second ? [second] : [])]);
    }
  });

  it('trims each run stream by length (MAXLEN ~ GATEWAY_HISTORY_SIZE)', async () => {
    const run = 'trim-0';
    const pub = await publisher(r.a, run, 1);
    try {
      expect(await publishPaced([pub], 3000, 3000)).toBe(0);
      const deadline = Date.now() + 10_000;
      while (((await lastSeqs(r.a)).get(run) ?? 0) < 3000 && Date.now() < deadline) await sleep(50);
      expect((await lastSeqs(r.a)).get(run)).toBe(3000);
    } finally {
      await closeAll([pub]);
    }
    const len = await xlen(redis, `${r.keyPrefix}run:${run}`);
    // `~` trims whole stream nodes (100 entries each by default): at least the history, at most a node more.
    expect(len).toBeGreaterThanOrEqual(historySize);
    expect(len).toBeLessThanOrEqual(historySize + 100);
  });

  // A's last sequence once came out 2001 after 2,000 publishes (reproduced 1 in 8 under two CPU
  // hogs): the publish in flight at the kill reached the stream, A's reader delivered it under
  // the sequence asked for, its reply was lost, and the local fallback delivered it again under
  // the next. Fixed in the hub (a lost-reply append already in the history is not delivered
  // again; 0 in 10 since). The retry stays until clean CI runs confirm it (each attempt on a run of its own).
  it('Redis killed mid-stream: A still delivers its own, B is told of the gap, and after the restart B gets the rest', { retry: 2, timeout: 60_000 }, async () => {
    const run = `outage-${Date.now().toString(36)}`;
    const before = (await streamsHealth(r.b))!;
    let worstLocalMs = 0;
    const onA = await subscriber(r.a, run, 1, (ms) => (worstLocalMs = Math.max(worstLocalMs, ms)));
    const onB = await subscriber(r.b, run, 2);
    const pub = await publisher(r.a, run, 3);
    try {
      const publishing = publishPaced([pub], 2000, 500);
      await sleep(1200);
      await redis.kill();
      await sleep(1000);
      const during = await streamsHealth(r.a);
      expect(during).toMatchObject({ state: 'down' });
      await redis.restart();
      expect(await publishing).toBe(0);
      await drained([onA, onB]);
      const published = (await lastSeqs(r.a)).get(run)!;
      expect(published).toBe(2000);
      const local = deliveryFigures([onA], new Map([[run, published]]));
      expect(local).toMatchObject({ received: 2000, unannounced_gaps: 0, out_of_order: 0, never_arrived: 0, reported_lost: 0 });
      // A publisher never waited on the dead Redis past the timeout (delivery latency on A stays bounded).
      expect(worstLocalMs).toBeLessThan(1000);
      const remote = deliveryFigures([onB], new Map([[run, published]]));
      // Not silent: what B missed arrives as a gap notice; then the stream carries it to the end.
      expect(remote.unannounced_gaps).toBe(0);
      expect(remote.out_of_order).toBe(0);
      expect(remote.reported_lost).toBeGreaterThan(0);
      expect(remote.never_arrived).toBe(0);
      expect(remote.received + remote.reported_lost).toBe(2000);
      expect(failing(deliveryVerdicts(remote))).toEqual(['reported_lost: count==0']);
      const a = await streamsHealth(r.a);
      const b = await streamsHealth(r.b);
      expect(a).toMatchObject({ state: 'up' });
      expect(a!.outages).toBeGreaterThanOrEqual(1);
      expect(a!.unstreamed).toBeGreaterThan(0);
      expect(b).toMatchObject({ state: 'up' });
      expect(b!.gap_messages - before.gap_messages).toBe(remote.reported_lost);
      expect(b!.outages).toBeGreaterThan(before.outages);
      const metrics = await (await fetch(`${r.b.url}/metrics`)).text();
      expect(metrics).toMatch(new RegExp(`^gateway_streams_gap_messages_total\\{[^}]*\\} ${b!.gap_messages}$`, 'm'));
      expect(metrics).toMatch(/^gateway_streams_up\{[^}]*\} 1$/m);
    } finally {
      await closeAll([onA, onB, pub]);
    }
  });
});

describe('the planted reader that skips a stream entry (gateway.streams.skip-entry)', () => {
  let redis: RedisServer;
  let r: Replicas;
  beforeAll(async () => {
    redis = await startRedis();
    r = await startReplicas(redis, { GATEWAY_HISTORY_SIZE: String(historySize), REDIS_TIMEOUT_MS: '1000' }, { CRUCIBLE_FAILPOINTS: 'gateway.streams.skip-entry=0.01' });
  }, 60_000);
  afterAll(async () => {
    await r?.[Symbol.asyncDispose]();
    await redis?.stop();
  });

  it('fails the no-gap verdict, naming the entries B never delivered', async () => {
    // 2,000 entries read at 1 %: the chance none is skipped is 0.99^2000 ≈ 2e-9.
    const { figures } = await acrossReplicas(r, 'skip', 2, 1, 1000, 2000);
    // Every message reached the stream: what B's subscribers lack, its reader lost.
    expect(await streamsHealth(r.a)).toMatchObject({ state: 'up', outages: 0, unstreamed: 0 });
    expect(figures.reported_lost).toBeGreaterThan(0);
    expect(failing(deliveryVerdicts(figures))).toContain('reported_lost: count==0');
    expect((await streamsHealth(r.b))!.gap_messages).toBeGreaterThan(0);
  });
});

describe('replicas whose Redis is down at start, then frozen (REDIS_TIMEOUT_MS=250)', () => {
  let redis: RedisServer;
  let r: Replicas;
  beforeAll(async () => {
    redis = await startRedis();
    await redis.kill();
    r = await startReplicas(redis, { GATEWAY_HISTORY_SIZE: String(historySize), REDIS_TIMEOUT_MS: '250' });
  }, 60_000);
  afterAll(async () => {
    await r?.[Symbol.asyncDispose]();
    await redis?.stop();
  });

  it('starts and serves its own subscribers, says so in /health, and shares its channels once Redis is there', async () => {
    const run = 'late-redis-0';
    const onA = await subscriber(r.a, run, 1);
    const onB = await subscriber(r.b, run, 2);
    const pub = await publisher(r.a, run, 3);
    try {
      expect(await publishPaced([pub], 100, 500)).toBe(0);
      await drained([onA]);
      expect(onA.order.received).toBe(100);
      expect(onB.order.received).toBe(0);
      expect(await streamsHealth(r.a)).toMatchObject({ state: 'down', unstreamed: 100 });
      await redis.restart();
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline && ((await streamsHealth(r.a))!.state !== 'up' || (await streamsHealth(r.b))!.state !== 'up')) await sleep(100);
      expect((await streamsHealth(r.b))!.state).toBe('up');
      expect(await publishPaced([pub], 100, 500)).toBe(0);
      await drained([onA, onB]);
      const published = new Map([[run, 200]]);
      expect(deliveryFigures([onA], published)).toMatchObject({ received: 200, unannounced_gaps: 0, out_of_order: 0, never_arrived: 0, reported_lost: 0 });
      // B subscribed while Redis was down: the 100 it never got are reported to it, not taken for old history.
      expect(deliveryFigures([onB], published)).toMatchObject({ received: 100, reported_lost: 100, unannounced_gaps: 0, out_of_order: 0, never_arrived: 0 });
    } finally {
      await closeAll([onA, onB, pub]);
    }
  }, 60_000);

  it('Redis frozen mid-stream: a publish waits for it at most REDIS_TIMEOUT_MS, and nothing is lost silently', async () => {
    const run = 'frozen-0';
    const gapsBefore = (await streamsHealth(r.b))!.gap_messages;
    const outagesBefore = (await streamsHealth(r.a))!.outages;
    let worstLocalMs = 0;
    const onA = await subscriber(r.a, run, 1, (ms) => (worstLocalMs = Math.max(worstLocalMs, ms)));
    const onB = await subscriber(r.b, run, 2);
    const pub = await publisher(r.a, run, 3);
    try {
      // 1,000 at 250/s (4 s), Redis frozen from 0.8 s for 2.5 s: a publish that waited for it
      // would show a 2.5 s delay, so the bound below tells a hang from a loaded machine's scheduling.
      const publishing = publishPaced([pub], 1000, 250);
      await sleep(800);
      await redis.freeze();
      await sleep(2500);
      await redis.thaw();
      expect(await publishing).toBe(0);
      await drained([onA, onB]);
      const published = new Map([[run, (await lastSeqs(r.a)).get(run)!]]);
      expect(published.get(run)).toBe(1000);
      expect(deliveryFigures([onA], published)).toMatchObject({ received: 1000, unannounced_gaps: 0, out_of_order: 0, never_arrived: 0, reported_lost: 0 });
      // 250 ms of timeout, plus a loaded machine's scheduling: well under the 2.5 s a hang would show.
      expect(worstLocalMs).toBeLessThan(2000);
      const remote = deliveryFigures([onB], published);
      // Whatever B missed while Redis was stuck, it was told so; nothing out of order, nothing silent.
      expect(remote).toMatchObject({ unannounced_gaps: 0, out_of_order: 0, never_arrived: 0 });
      expect(remote.received + remote.reported_lost).toBe(1000);
      expect((await streamsHealth(r.a))!.outages).toBeGreaterThan(outagesBefore);
      expect((await streamsHealth(r.b))!.gap_messages - gapsBefore).toBe(remote.reported_lost);
    } finally {
      await closeAll([onA, onB, pub]);
    }
  }, 60_000);
});
