// What one process of the system under test uses, read from Linux's /proc: its CPU time and
// its resident memory. The testbed starts every app as its own process (RunningApp.pid), so a
// suite can hold each service to a CPU share and an RSS bound without trusting the app's own
// figures.
import { readFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { InstrumentError } from '@crucible/instrument-kit';

/**
 * Clock ticks per second of `/proc/<pid>/stat`'s `utime`/`stime` (`sysconf(_SC_CLK_TCK)`):
 * 100 on every Linux architecture Node runs on; the unit test checks it against
 * `process.cpuUsage()`.
 */
export const clockTicksPerSecond = 100;

/** One reading of a process. */
export interface ProcessUsage {
  readonly pid: number;
  /** User + system CPU seconds the process used since it started. */
  readonly cpuSeconds: number;
  /** Resident set size (`VmRSS`), in bytes. */
  readonly rssBytes: number;
  /** When it was read (`performance.now()`, ms). */
  readonly at: number;
}

/**
 * Reads `/proc/<pid>/stat` (utime + stime) and `/proc/<pid>/status` (VmRSS). Throws an
 * `InstrumentError` naming the pid when the process is gone or the files do not say: a
 * missing reading is never a zero.
 *
 * @example
 * const before = await processUsage(app.pid);
 * // … load …
 * cpuShareOf([before], [await processUsage(app.pid)]); // 0.31: 31 % of the machine's CPU
 */
export async function processUsage(pid: number): Promise<ProcessUsage> {
  let stat: string;
  let status: string;
  try {
    [stat, status] = await Promise.all([readFile(`/proc/${pid}/stat`, 'utf8'), readFile(`/proc/${pid}/status`, 'utf8')]);
  } catch (err) {
    throw new InstrumentError('bad_argument', `process ${pid} cannot be read from /proc (${(err as Error).message})`);
  }
  // The command name (field 2) may hold spaces and parentheses: the fields after its last ')' are fixed.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  const rssKb = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime) || !Number.isFinite(rssKb)) throw new InstrumentError('bad_argument', `process ${pid}: /proc/${pid}/stat or status has no utime, stime or VmRSS`);
  return { pid, cpuSeconds: (utime + stime) / clockTicksPerSecond, rssBytes: rssKb * 1024, at: performance.now() };
}

/**
 * The share of the whole machine's CPU (all `cores`) that a set of processes used between two
 * readings of each (same order): 0.5 on a 2-core machine is one core busy all along.
 */
export function cpuShareOf(before: readonly ProcessUsage[], after: readonly ProcessUsage[], cores: number = cpus().length): number {
  if (before.length !== after.length || before.length === 0) throw new InstrumentError('bad_argument', `cpuShareOf needs the same processes read twice (${before.length} before, ${after.length} after)`);
  let cpu = 0;
  let wallMs = 0;
  for (const [i, b] of before.entries()) {
    const a = after[i] as ProcessUsage;
    if (a.pid !== b.pid) throw new InstrumentError('bad_argument', `cpuShareOf: reading ${i} is of process ${a.pid}, not ${b.pid}`);
    cpu += a.cpuSeconds - b.cpuSeconds;
    wallMs = Math.max(wallMs, a.at - b.at);
  }
  return wallMs > 0 ? cpu / ((wallMs / 1000) * cores) : NaN;
}
