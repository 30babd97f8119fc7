// Each replica's own counters, read from its /metrics: what a balanced run's per-replica
// shares and CPU cost are computed from (never from the balancer's view of itself).
import type { Verdict } from '@crucible/contracts';
import { InstrumentError } from '@crucible/instrument-kit';

/** One replica's counters from its `/metrics` (Prometheus text, prom-client's). */
export interface ReplicaCounters {
  /** HTTP requests it answered, every route but `/metrics` and `/health` (the suite's own reads). */
  readonly requests: number;
  /** `process_cpu_seconds_total`: user + system CPU the process used so far. */
  readonly cpuSeconds: number;
}

const sampleLine = /^(\w+)(?:\{([^}]*)\})? ([-+\d.eE]+|NaN)$/;

/**
 * Sums the counters of a Prometheus text exposition: the request count of
 * `http_request_duration_seconds_count` over every route except `/metrics` and `/health`,
 * and `process_cpu_seconds_total`. Throws when a figure is missing, so a share is never
 * computed from a count that was not there.
 */
export function parseCounters(text: string): ReplicaCounters {
  let requests: number | undefined;
  let cpuSeconds: number | undefined;
  for (const line of text.split('\n')) {
    const m = sampleLine.exec(line);
    if (!m) continue;
    const [, name, labels = '', value] = m;
    if (name === 'http_request_duration_seconds_count') {
      const route = /route="([^"]*)"/.exec(labels)?.[1];
      requests = (requests ?? 0) + (route === '/metrics' || route === '/health' ? 0 : Number(value));
    } else if (name === 'process_cpu_seconds_total') cpuSeconds = Number(value);
  }
  if (requests === undefined || cpuSeconds === undefined) {
    throw new InstrumentError('sut_request_failed', `/metrics lacks ${requests === undefined ? 'http_request_duration_seconds_count' : 'process_cpu_seconds_total'}`);
  }
  return { requests, cpuSeconds };
}

/** {@link parseCounters} of each replica's `GET /metrics`, asked directly (never through the balancer). */
export async function replicaCounters(urls: readonly string[]): Promise<ReplicaCounters[]> {
  return Promise.all(
    urls.map(async (url) => {
      const res = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5000) });
      if (res.status !== 200) throw new InstrumentError('sut_request_failed', `GET ${url}/metrics answered ${res.status}`);
      return parseCounters(await res.text());
    }),
  );
}

/** What each replica did between two readings. */
export function counterDeltas(before: readonly ReplicaCounters[], after: readonly ReplicaCounters[]): ReplicaCounters[] {
  return after.map((a, i) => ({ requests: a.requests - (before[i]?.requests ?? 0), cpuSeconds: a.cpuSeconds - (before[i]?.cpuSeconds ?? 0) }));
}

/** How far from the fair share 100/n % a replica's share may be, in percentage points. */
export const shareTolerancePoints = 5;

/**
 * The `replica-shares` verdict of a balanced run: each replica's share of the requests the
 * replicas themselves counted (`counted[i]`, e.g. from {@link counterDeltas}) within
 * 100/n % ± `tolerancePoints`, and at least `sent` requests counted in all (a replica whose
 * requests went uncounted cannot hide in the shares). The shares are in tenths of a percent.
 */
export function replicaShareVerdict(counted: readonly number[], sent: number, urls: readonly string[], tolerancePoints = shareTolerancePoints): { verdict: Verdict; shares: number[] } {
  const total = counted.reduce((a, b) => a + b, 0);
  const shares = counted.map((c) => (total ? Math.round((c / total) * 1000) / 10 : 0));
  const fair = 100 / counted.length;
  const off = shares.map((s, i) => ({ replica: i, url: urls[i] ?? '', share_pct: s })).filter((s) => Math.abs(s.share_pct - fair) > tolerancePoints);
  const passed = off.length === 0 && total >= sent && sent > 0;
  return {
    shares,
    verdict: {
      checker: 'replica-shares',
      status: passed ? 'pass' : 'fail',
      summary: `shares ${shares.map((s) => `${s} %`).join(' / ')} of ${total} requests counted by the ${counted.length} replicas' own /metrics (${sent} sent); each must be ${fair.toFixed(1)} % ± ${tolerancePoints} points`,
      counts: Object.fromEntries([...shares.map((s, i) => [`replica_${i}_share_pct`, s]), ...counted.map((c, i) => [`replica_${i}_requests`, c]), ['counted', total], ['sent', sent]]),
      examples: off,
    },
  };
}
