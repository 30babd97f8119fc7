// The killed-replica timeline, read from nginx's access log: which replica answered each
// second, and how long after the kill requests still ended at the dead one.
import type { Evidence } from '@crucible/contracts';

/** One access-log line of the testbed's nginx: `<epoch s.ms> <status> <upstream addr(s)> <method>`. */
export interface AccessLine {
  readonly at: number;
  readonly status: number;
  /** Every upstream tried, in order (a request passed on lists several). */
  readonly upstreams: readonly string[];
}

/** Parses the testbed nginx's access-log format; lines of another shape are skipped. */
export function parseAccessLine(line: string): AccessLine | undefined {
  const parts = line.trim().split(/\s+/);
  if (parts.length < 4) return undefined;
  const at = Number(parts[0]) * 1000;
  const status = Number(parts[1]);
  if (!Number.isFinite(at) || !Number.isInteger(status)) return undefined;
  const upstreams = parts.slice(2, -1).join(' ').split(/\s*[,:]\s+|\s*,\s*/).filter((u) => u && u !== '-');
  return { at, status, upstreams };
}

const hostPort = (url: string) => {
  const u = new URL(url);
  return `${u.hostname}:${u.port}`;
};

/**
 * The failover figures: `takeover_ms`, from the kill to the last request that still ended
 * at the killed replica or was answered 502/504 by nginx (0 when the very next request was
 * already served by the others); `served_after_kill`, answers below 500 after the kill;
 * `dead_upstream_attempts`, requests after the kill that tried the dead replica first
 * (nginx's passive health check retries it once per fail_timeout); `balancer_errors_after_kill`.
 * Without a kill time (the kill never happened) none is given, so their thresholds fail
 * naming the missing metric. The evidence is a table per second of run: answers by replica,
 * and nginx's own 5xx.
 */
export function failoverTimeline(lines: readonly string[], upstreams: readonly string[], victimUrl: string, killedAt: number | undefined): { metrics: Record<string, number>; evidence: Evidence } {
  const parsed = lines.map(parseAccessLine).filter((l): l is AccessLine => l !== undefined);
  const addrs = upstreams.map(hostPort);
  const victim = hostPort(victimUrl);
  const t0 = parsed[0]?.at ?? 0;
  const perSecond = new Map<number, Record<string, number>>();
  for (const l of parsed) {
    const s = Math.floor((l.at - t0) / 1000);
    const row = perSecond.get(s) ?? {};
    const last = l.upstreams.at(-1);
    const key = l.status >= 502 && l.status <= 504 ? `nginx ${l.status}` : last ? `replica ${addrs.indexOf(last) + 1}` : 'no upstream';
    row[key] = (row[key] ?? 0) + 1;
    perSecond.set(s, row);
  }
  const killSecond = killedAt === undefined ? undefined : Math.floor((killedAt - t0) / 1000);
  const evidence: Evidence = {
    title: `Killed-replica timeline: answers per second by replica (replica ${addrs.indexOf(victim) + 1} killed${killSecond === undefined ? ' — never' : ` in second ${killSecond}`}), from nginx's access log`,
    kind: 'json',
    content: [...perSecond].sort(([a], [b]) => a - b).map(([second, by]) => ({ second, ...by })),
  };
  if (killedAt === undefined) return { metrics: {}, evidence };
  const after = parsed.filter((l) => l.at >= killedAt);
  const stillDead = after.filter((l) => l.upstreams.at(-1) === victim || (l.status >= 502 && l.status <= 504));
  const lastDead = Math.max(killedAt, ...stillDead.map((l) => l.at));
  return {
    metrics: {
      takeover_ms: Math.round(lastDead - killedAt),
      served_after_kill: after.filter((l) => l.status < 500 && l.upstreams.at(-1) !== victim).length,
      dead_upstream_attempts: after.filter((l) => l.upstreams.includes(victim)).length,
      balancer_errors_after_kill: after.filter((l) => l.status >= 502 && l.status <= 504).length,
    },
    evidence,
  };
}
