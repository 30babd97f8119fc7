// The WebSocket workload of the gateway stress: publishers and subscribers on many channels,
// an open-model publish schedule, and every client reconnecting when dropped.
import { loadavg } from 'node:os';
import { gatewayHealthSchema, gatewayRunSchema, type GatewayHealth, type SeriesPoint } from '@crucible/contracts';
import { createLatencyHistogram, percentileMs, recordLatencyMs, type LatencyHistogram } from '@crucible/instrument-kit';
import { z } from 'zod';
import { cpuS, rssMb } from './proc-stats.js';
import { LoadClient, nowMs, pool } from './ws-load.js';

/** The shape of one run of the workload. */
export interface GatewayProfile {
  readonly connections: number;
  readonly channels: number;
  readonly subscribersPerChannel: number;
  /** Events published per second (open model). */
  readonly rate: number;
  readonly durationS: number;
  readonly tailS: number;
  readonly connectConcurrency: number;
  /** Longest wait for every client to be back after the storm. */
  readonly stormDeadlineMs: number;
}

/** The gateway process under load. */
export interface GatewayProcess {
  readonly url: string;
  readonly pid: number;
}

export const round = (n: number, d = 2): number => Math.round(n * 10 ** d) / 10 ** d;
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const errorKind = (err: unknown) => (err as Error).message.replace(/\d+/g, 'N').slice(0, 60);

/** What the connect phase measured. */
export interface ConnectFigures {
  readonly startedAt: number;
  readonly seconds: number;
  readonly connected: number;
  readonly errors: Record<string, number>;
  readonly histogram: LatencyHistogram;
  readonly rssConnectedMb: number;
}

/** What the steady phase measured (the first second of load is ramp-up and not measured). */
export interface SteadyFigures {
  readonly startedAt: number;
  readonly seconds: number;
  readonly ingested: number;
  readonly ingestPerS: number;
  readonly deliveredPerS: number;
  readonly histogram: LatencyHistogram;
  readonly gatewayCores: number;
  readonly clientCores: number;
  readonly loadAverage: number;
  /** Events due in the measured window (the open model's schedule). */
  readonly scheduled: number;
  /** Events due that a publisher could not send (disconnected, or its socket backed up). */
  readonly skipped: number;
  /** Client messages the gateway answered with an error in the window, by error code. */
  readonly rejected: Record<string, number>;
}

/** What the reconnection storm measured. */
export interface StormFigures {
  readonly startedAt: number;
  readonly dropped: number;
  readonly recovered: number;
  /** Until the last client was back; `Infinity` when some never came back in time. */
  readonly recoveryMs: number;
  readonly histogram: LatencyHistogram;
}

/** Ordering per subscriber against the gateway's own count of each channel, at the end. */
export interface OrderingFigures {
  readonly gaps: number;
  readonly reportedGaps: number;
  readonly outOfOrder: number;
  readonly missing: number;
  readonly finalHealth: GatewayHealth;
}

type Phase = 'connect' | 'steady' | 'storm' | 'tail';

/**
 * The clients and the schedule, phase by phase. Every client reopens a dropped connection at
 * once (subscribers resume from their last sequence); a failed attempt retries with backoff.
 * Drops are counted by phase: in the storm they are the point, elsewhere they are the gateway
 * (or this overloaded process) failing.
 */
export class GatewayLoad {
  readonly clients: LoadClient[] = [];
  readonly subscribers: LoadClient[];
  readonly publishers: LoadClient[];
  readonly drops: Record<Phase, number> = { connect: 0, steady: 0, storm: 0, tail: 0 };
  readonly storm = { failures: {} as Record<string, number>, attempts: 0, firstTryOk: 0, reconnects: 0 };
  /** Per second while the schedule runs: events scheduled, events delivered, latency. */
  readonly series: SeriesPoint[] = [];
  rssPeakMb = 0;
  /** Events due that could not be sent, over the whole schedule. */
  skipped = 0;
  #phase: Phase = 'connect';
  // Latency: the current phase's, and the current second's.
  #phaseHist: LatencyHistogram = createLatencyHistogram();
  #secondHist: LatencyHistogram = createLatencyHistogram();
  #scheduled = 0;
  #timers: NodeJS.Timeout[] = [];

  constructor(
    readonly profile: GatewayProfile,
    readonly gateway: GatewayProcess,
    token: string,
  ) {
    const wsUrl = `${gateway.url.replace('http', 'ws')}/ws`;
    const onLatency = (ms: number) => {
      recordLatencyMs(this.#phaseHist, ms);
      recordLatencyMs(this.#secondHist, ms);
    };
    const subscriberCount = profile.channels * profile.subscribersPerChannel;
    for (let i = 0; i < profile.connections; i++) {
      const sub = i < subscriberCount;
      const channel = `load-${(sub ? Math.floor(i / profile.subscribersPerChannel) : i) % profile.channels}`;
      this.clients.push(new LoadClient(i, sub ? 'subscriber' : 'publisher', channel, wsUrl, token, onLatency, (c) => this.#onClose(c)));
    }
    this.subscribers = this.clients.filter((c) => c.role === 'subscriber');
    this.publishers = this.clients.filter((c) => c.role === 'publisher');
  }

  async health(): Promise<GatewayHealth> {
    return gatewayHealthSchema.parse(await (await fetch(`${this.gateway.url}/health`)).json());
  }

  /** Events delivered to subscribers so far. */
  received(): number {
    return this.subscribers.reduce((n, s) => n + s.order.received, 0);
  }

  /** Client messages the gateway refused so far, by error code, over every client. */
  rejected(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const c of this.clients) for (const [code, n] of Object.entries(c.rejected)) out[code] = (out[code] ?? 0) + n;
    return out;
  }

  #rejectedCount(): number {
    return this.clients.reduce((n, c) => n + c.rejectedCount, 0);
  }

  #onClose(client: LoadClient): void {
    this.drops[this.#phase]++;
    void this.#reconnect(client);
  }

  async #reconnect(c: LoadClient): Promise<void> {
    if (c.reconnecting) return;
    c.reconnecting = true;
    const inStorm = this.#phase === 'storm';
    if (inStorm) this.storm.reconnects++;
    for (let attempt = 0; !c.stopped; attempt++) {
      if (inStorm) this.storm.attempts++;
      try {
        await c.connect(10_000);
        if (inStorm && attempt === 0) this.storm.firstTryOk++;
        break;
      } catch (err) {
        if (inStorm) this.storm.failures[errorKind(err)] = (this.storm.failures[errorKind(err)] ?? 0) + 1;
        await sleep(Math.min(2000, 50 * 2 ** attempt) * (0.5 + Math.random() / 2));
      }
    }
    c.reconnecting = false;
  }

  /** Connects everyone, `connectConcurrency` at a time (subscribers first, so they see every event from seq 1). */
  async connectAll(): Promise<ConnectFigures> {
    const histogram = createLatencyHistogram();
    const errors: Record<string, number> = {};
    const startedAt = nowMs();
    await pool(this.clients, this.profile.connectConcurrency, async (c) => {
      const t = nowMs();
      try {
        await c.connect(10_000);
        recordLatencyMs(histogram, nowMs() - t);
      } catch (err) {
        c.connectFailures++;
        errors[errorKind(err)] = (errors[errorKind(err)] ?? 0) + 1;
      }
    });
    const seconds = (nowMs() - startedAt) / 1000;
    const connected = this.clients.filter((c) => c.ready).length;
    await sleep(1000);
    const rssConnectedMb = rssMb(this.gateway.pid);
    this.rssPeakMb = rssConnectedMb;
    return { startedAt, seconds, connected, errors, histogram, rssConnectedMb };
  }

  /**
   * Starts the open-model schedule: `rate` events per second spread round-robin over the
   * publishers (an event due for a publisher that is not connected is counted as skipped),
   * and the per-second sampler.
   */
  startSchedule(): void {
    const { rate } = this.profile;
    let cursor = 0;
    const start = nowMs();
    this.#timers.push(
      setInterval(() => {
        const due = Math.floor(((nowMs() - start) / 1000) * rate) - this.#scheduled;
        for (let i = 0; i < due; i++) {
          const p = this.publishers[cursor++ % this.publishers.length] as LoadClient;
          if (!p.publish(this.#scheduled)) this.skipped++;
          this.#scheduled++;
        }
      }, 5),
    );
    let lastReceived = this.received();
    let lastScheduled = this.#scheduled;
    let lastSkipped = this.skipped;
    let lastRejected = this.#rejectedCount();
    let t = 0;
    this.#timers.push(
      setInterval(() => {
        t++;
        const r = this.received();
        this.rssPeakMb = Math.max(this.rssPeakMb, rssMb(this.gateway.pid));
        const h = this.#secondHist;
        const rejected = this.#rejectedCount();
        // Errors of the second: events due and not sent (also its `dropped`) and refused publishes.
        const notSent = this.skipped - lastSkipped;
        this.series.push({
          t,
          requests: this.#scheduled - lastScheduled,
          errors: notSent + rejected - lastRejected,
          rps: r - lastReceived,
          p50: round(percentileMs(h, 50), 3),
          p95: round(percentileMs(h, 95), 3),
          p99: round(percentileMs(h, 99), 3),
          dropped: notSent,
        });
        h.destroy();
        this.#secondHist = createLatencyHistogram();
        lastReceived = r;
        lastScheduled = this.#scheduled;
        lastSkipped = this.skipped;
        lastRejected = rejected;
      }, 1000),
    );
  }

  /** Steady fan-out load for the profile's duration, after one second of ramp-up. */
  async steady(): Promise<SteadyFigures> {
    this.#phase = 'steady';
    await sleep(1000);
    const skipped0 = this.skipped;
    const scheduled0 = this.#scheduled;
    const rejected0 = this.rejected();
    const h0 = await this.health();
    const r0 = this.received();
    const cpu0 = { gateway: cpuS(this.gateway.pid), client: process.cpuUsage() };
    const startedAt = nowMs();
    this.#phaseHist.reset();
    await sleep(this.profile.durationS * 1000);
    const h1 = await this.health();
    const r1 = this.received();
    const scheduled = this.#scheduled - scheduled0;
    const rejected = Object.fromEntries(
      Object.entries(this.rejected())
        .map(([code, n]) => [code, n - (rejected0[code] ?? 0)] as const)
        .filter(([, n]) => n > 0),
    );
    const seconds = (nowMs() - startedAt) / 1000;
    const clientCpu = process.cpuUsage(cpu0.client);
    const ingested = h1.messages.ingested - h0.messages.ingested;
    const histogram = this.#phaseHist;
    this.#phaseHist = createLatencyHistogram();
    return {
      startedAt,
      seconds,
      ingested,
      ingestPerS: ingested / seconds,
      deliveredPerS: (r1 - r0) / seconds,
      histogram,
      gatewayCores: (cpuS(this.gateway.pid) - cpu0.gateway) / seconds,
      clientCores: (clientCpu.user + clientCpu.system) / 1e6 / seconds,
      loadAverage: loadavg()[0] ?? 0,
      scheduled,
      skipped: this.skipped - skipped0,
      rejected,
    };
  }

  /** The reconnection storm: the gateway drops every connection at once; every client reopens at once. */
  async dropAll(adminToken: string): Promise<StormFigures> {
    this.#phase = 'storm';
    const startedAt = nowMs();
    const res = await fetch(`${this.gateway.url}/admin/drop-connections`, { method: 'POST', headers: { authorization: `Bearer ${adminToken}` } });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`POST /admin/drop-connections answered ${res.status}: ${text}`);
    const dropped = z.object({ dropped: z.number() }).parse(JSON.parse(text)).dropped;
    const back = (c: LoadClient) => c.ready && c.readyAt >= startedAt;
    const deadline = startedAt + this.profile.stormDeadlineMs;
    while (!this.clients.every(back) && nowMs() < deadline) await sleep(20);
    const histogram = createLatencyHistogram();
    for (const c of this.clients) if (c.readyAt >= startedAt) recordLatencyMs(histogram, c.readyAt - startedAt);
    const recoveryMs = Math.max(...this.clients.map((c) => (c.readyAt >= startedAt ? c.readyAt - startedAt : Infinity)));
    return { startedAt, dropped, recovered: this.clients.filter(back).length, recoveryMs, histogram };
  }

  /** More load after recovery, then the schedule stops and deliveries drain; the latency of this phase. */
  async tail(): Promise<LatencyHistogram> {
    this.#phase = 'tail';
    await sleep(this.profile.tailS * 1000);
    clearInterval(this.#timers[0]);
    let last = -1;
    for (let i = 0; i < 50 && this.received() !== last; i++) {
      last = this.received();
      await sleep(200);
    }
    this.#stopTimers();
    return this.#phaseHist;
  }

  /** Every subscriber's sequence bookkeeping, and what never arrived against each channel's last sequence. */
  async ordering(): Promise<OrderingFigures> {
    const runs = z.object({ runs: z.array(gatewayRunSchema) }).parse(await (await fetch(`${this.gateway.url}/runs`)).json()).runs;
    const lastSeqOf = new Map(runs.map((r) => [r.run_id, r.last_seq]));
    const o = { gaps: 0, reportedGaps: 0, outOfOrder: 0, missing: 0 };
    for (const s of this.subscribers) {
      o.gaps += s.order.gaps;
      o.reportedGaps += s.order.reportedGaps;
      o.outOfOrder += s.order.outOfOrder;
      o.missing += Math.max(0, (lastSeqOf.get(s.channel) ?? 0) - s.lastSeq);
    }
    return { ...o, finalHealth: await this.health() };
  }

  #stopTimers(): void {
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
  }

  /** Stops the schedule and closes every client for good (no reconnect). */
  async close(): Promise<void> {
    this.#stopTimers();
    await pool(this.clients, 500, (c) => c.stop());
  }
}
