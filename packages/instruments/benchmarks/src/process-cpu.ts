// How the HTTP benchmarks (the id-service's and the task API's perf scripts) measure besides
// the rate: CPU seconds per party from /proc (user + system time), a figure a busy shared
// machine disturbs far less than the rate, and the median every table cell is.
import { readFileSync, readdirSync } from 'node:fs';

/** USER_HZ on Linux: /proc counts CPU time in these ticks. */
export const tick = 1 / 100;

/** CPU seconds of one process and of its reaped children, and its parent, from /proc. */
export function stat(pid: number): { cpu: number; children: number; ppid: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(f[1]), cpu: (Number(f[11]) + Number(f[12])) * tick, children: (Number(f[13]) + Number(f[14])) * tick };
  } catch {
    return undefined; // the process is gone
  }
}

/** CPU of a process tree root's live children plus everything its reaped children used. */
export function treeCpu(root: number): number {
  let sum = stat(root)?.children ?? 0;
  sum += stat(root)?.cpu ?? 0;
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const s = stat(pid);
    if (s?.ppid === root) sum += s.cpu;
  }
  return sum;
}

const selfCpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/** What {@link measured} found: the value and the CPU seconds each party spent producing it. */
export interface Measured<T> {
  value: T;
  server: number | null;
  postgres: number;
  client: number;
}

/**
 * Runs `fn`, returning the CPU seconds the server process, PostgreSQL (every process under
 * `postmasterPid`) and this process spent.
 */
export async function measured<T>(postmasterPid: number, serverPid: number | undefined, fn: () => Promise<T>): Promise<Measured<T>> {
  const s0 = serverPid ? stat(serverPid)?.cpu : undefined;
  const p0 = treeCpu(postmasterPid);
  const c0 = selfCpu();
  const value = await fn();
  const s1 = serverPid ? stat(serverPid)?.cpu : undefined;
  return {
    value,
    server: s0 !== undefined && s1 !== undefined ? s1 - s0 : null,
    postgres: treeCpu(postmasterPid) - p0,
    client: selfCpu() - c0,
  };
}

/** CPU µs per operation, `null` when unknown or nothing was done. */
export const perOp = (seconds: number | null, ops: number) => (seconds === null || ops === 0 ? null : (seconds * 1e6) / ops);

/** Median of the finite values (NaN when there are none). */
export const finiteMedian = (xs: number[]) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
