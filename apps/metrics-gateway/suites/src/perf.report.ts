// The gateway benchmark's summary (perf.json) and table (perf.md): medians over the rounds,
// with every round's figure beside them, and the two goals judged on the medians.
import type { FanOutFigures } from './perf.fanout.js';

/** What one ingest run measured (perf.ts), on the gateway or on the bare `channels` reference. */
export interface IngestFigures {
  readonly kind: 'gateway' | 'raw ws';
  /** Events delivered per second over 2 (each event goes to 2 subscribers): what was ingested. */
  readonly ingestPerS: number;
  readonly deliveredPerS: number;
  /** Server CPU per second of the run (/proc), all, user, system. */
  readonly cores: number;
  readonly userCores: number;
  readonly systemCores: number;
}

/** Issue 12, goal 5: the ingest budget and the fan-out floor. */
export const perfGoals = { ingestCores: 0.25, fanOutRatio: 0.9 } as const;

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? NaN : s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const r = (n: number, d = 3) => Math.round(n * 10 ** d) / 10 ** d;

/** What perf.json holds. */
export interface PerfSummary {
  readonly settings: Readonly<Record<string, unknown>>;
  readonly uptime: readonly string[];
  readonly ingest: {
    readonly rounds: readonly {
      ingest_per_s: number;
      gateway_cores: number;
      gateway_user_cores: number;
      gateway_system_cores: number;
      gateway_us_per_event: number;
      raw_ingest_per_s: number;
      raw_cores: number;
      raw_user_cores: number;
      raw_system_cores: number;
      cpu_ratio: number;
    }[];
    readonly median_gateway_cores: number;
    readonly median_raw_cores: number;
    readonly median_ingest_per_s: number;
    readonly goal_cores: number;
    readonly met: boolean;
  };
  readonly fan_out: {
    readonly rounds: readonly { gateway_per_s: number; raw_per_s: number; ratio: number; gateway_us_per_delivery: number; raw_us_per_delivery: number; out_of_order: number }[];
    readonly median_ratio: number;
    readonly goal_ratio: number;
    readonly met: boolean;
  };
}

/** Medians and verdicts of the rounds. */
export function perfSummary(ingests: readonly (readonly IngestFigures[])[], fanOuts: readonly (readonly FanOutFigures[])[], settings: Readonly<Record<string, unknown>>, uptime: readonly string[]): PerfSummary {
  const ingestRounds = ingests.map((pair) => {
    const g = pair.find((f) => f.kind === 'gateway');
    const w = pair.find((f) => f.kind === 'raw ws');
    return {
      ingest_per_s: r(g?.ingestPerS ?? NaN, 0),
      gateway_cores: r(g?.cores ?? NaN),
      gateway_user_cores: r(g?.userCores ?? NaN),
      gateway_system_cores: r(g?.systemCores ?? NaN),
      gateway_us_per_event: r(((g?.cores ?? NaN) * 1e6) / Math.max(1, g?.ingestPerS ?? 0), 1),
      raw_ingest_per_s: r(w?.ingestPerS ?? NaN, 0),
      raw_cores: r(w?.cores ?? NaN),
      raw_user_cores: r(w?.userCores ?? NaN),
      raw_system_cores: r(w?.systemCores ?? NaN),
      // Per ingested event, so a round where one side's schedule caught up on a stall compares fairly.
      cpu_ratio: r(((g?.cores ?? NaN) / (g?.ingestPerS ?? NaN)) / ((w?.cores ?? NaN) / (w?.ingestPerS ?? NaN)), 2),
    };
  });
  const fanRounds = fanOuts.map((pair) => {
    const g = pair.find((f) => f.kind === 'gateway');
    const w = pair.find((f) => f.kind === 'raw ws');
    return {
      gateway_per_s: r(g?.deliveredPerS ?? NaN, 0),
      raw_per_s: r(w?.deliveredPerS ?? NaN, 0),
      ratio: r((g?.deliveredPerS ?? NaN) / (w?.deliveredPerS ?? NaN)),
      gateway_us_per_delivery: r(g?.usPerDelivery ?? NaN, 2),
      raw_us_per_delivery: r(w?.usPerDelivery ?? NaN, 2),
      out_of_order: g?.outOfOrder ?? 0,
    };
  });
  const cores = median(ingestRounds.map((x) => x.gateway_cores));
  const ingested = median(ingestRounds.map((x) => x.ingest_per_s));
  const ratio = median(fanRounds.map((x) => x.ratio));
  return {
    settings,
    uptime,
    ingest: { rounds: ingestRounds, median_gateway_cores: r(cores), median_raw_cores: r(median(ingestRounds.map((x) => x.raw_cores))), median_ingest_per_s: ingested, goal_cores: perfGoals.ingestCores, met: cores <= perfGoals.ingestCores && ingested >= 0.99 * Number(settings['rate']) },
    fan_out: { rounds: fanRounds, median_ratio: r(ratio), goal_ratio: perfGoals.fanOutRatio, met: ratio >= perfGoals.fanOutRatio && fanRounds.every((x) => x.out_of_order === 0) },
  };
}

/** The table a person reads. */
export function perfMarkdown(s: PerfSummary): string {
  // Medians of rounded figures, rounded again (a mean of two can carry float noise).
  const m = (xs: readonly number[]) => r(median(xs));
  const list = (xs: readonly (number | string)[]) => xs.join(', ');
  const ok = (met: boolean) => (met ? 'met' : '**NOT met**');
  return [
    '# metrics-gateway: ingest cost and fan-out against a bare ws broadcast server',
    '',
    `Settings: ${JSON.stringify(s.settings)}`,
    '',
    '| figure | median | per round | goal |',
    '|---|---:|---|---|',
    `| events ingested per second (900 publishers, 50 channels × 2 subscribers; delivered / 2) | ${s.ingest.median_ingest_per_s} | ${list(s.ingest.rounds.map((x) => x.ingest_per_s))} | ${s.settings['rate']} |`,
    `| gateway CPU while ingesting (cores, /proc) | **${s.ingest.median_gateway_cores}** | ${list(s.ingest.rounds.map((x) => x.gateway_cores))} | ≤ ${s.ingest.goal_cores}: ${ok(s.ingest.met)} |`,
    `| of it user / system | ${m(s.ingest.rounds.map((x) => x.gateway_user_cores))} / ${m(s.ingest.rounds.map((x) => x.gateway_system_cores))} | ${list(s.ingest.rounds.map((x) => `${x.gateway_user_cores}/${x.gateway_system_cores}`))} | – |`,
    `| gateway CPU per ingested event (µs, fan-out × 2 included) | ${m(s.ingest.rounds.map((x) => x.gateway_us_per_event))} | ${list(s.ingest.rounds.map((x) => x.gateway_us_per_event))} | – |`,
    `| bare ws channel hub, same workload: CPU (cores; user / system) | ${s.ingest.median_raw_cores} (${m(s.ingest.rounds.map((x) => x.raw_user_cores))} / ${m(s.ingest.rounds.map((x) => x.raw_system_cores))}) | ${list(s.ingest.rounds.map((x) => x.raw_cores))} | – |`,
    `| gateway CPU per event / bare ws hub's (same round): what the gateway adds | ${m(s.ingest.rounds.map((x) => x.cpu_ratio))}× | ${list(s.ingest.rounds.map((x) => x.cpu_ratio))} | – |`,
    `| bare ws channel hub: events ingested per second | ${m(s.ingest.rounds.map((x) => x.raw_ingest_per_s))} | ${list(s.ingest.rounds.map((x) => x.raw_ingest_per_s))} | – |`,
    `| fan-out at saturation, gateway (deliveries/s) | ${m(s.fan_out.rounds.map((x) => x.gateway_per_s))} | ${list(s.fan_out.rounds.map((x) => x.gateway_per_s))} | – |`,
    `| fan-out at saturation, bare ws broadcast (deliveries/s) | ${m(s.fan_out.rounds.map((x) => x.raw_per_s))} | ${list(s.fan_out.rounds.map((x) => x.raw_per_s))} | – |`,
    `| fan-out ratio gateway / bare ws (same round) | **${s.fan_out.median_ratio}** | ${list(s.fan_out.rounds.map((x) => x.ratio))} | ≥ ${s.fan_out.goal_ratio}: ${ok(s.fan_out.met)} |`,
    `| server CPU per delivery, gateway / bare ws (µs) | ${m(s.fan_out.rounds.map((x) => x.gateway_us_per_delivery))} / ${m(s.fan_out.rounds.map((x) => x.raw_us_per_delivery))} | ${list(s.fan_out.rounds.map((x) => `${x.gateway_us_per_delivery}/${x.raw_us_per_delivery}`))} | – |`,
    `| gateway deliveries out of order or missing | ${s.fan_out.rounds.reduce((a, x) => a + x.out_of_order, 0)} | ${list(s.fan_out.rounds.map((x) => x.out_of_order))} | 0 |`,
    '',
    ...s.uptime.map((u) => `\`uptime\`: ${u}`),
    '',
  ].join('\n');
}
