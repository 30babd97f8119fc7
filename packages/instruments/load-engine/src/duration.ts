import { InstrumentError } from '@crucible/instrument-kit';

/** A duration: milliseconds as a number, or a string like `'500ms'`, `'10s'`, `'1m30s'`, `'2h'`. */
export type Duration = number | string;

const UNIT: Record<string, number> = { us: 0.001, µs: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds of a {@link Duration}; throws naming the input when it cannot be read. */
export function toMs(d: Duration): number {
  if (typeof d === 'number') {
    if (!Number.isFinite(d) || d < 0) throw new InstrumentError('invalid_scenario', `duration ${d} must be a non-negative number of milliseconds`);
    return d;
  }
  const re = /(\d+(?:\.\d+)?)(us|µs|ms|s|m|h)/gy;
  const text = d.trim();
  let total = 0;
  let matched = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * (UNIT[m[2] as string] ?? 0);
    matched = re.lastIndex;
  }
  if (matched === 0 || matched !== text.length) throw new InstrumentError('invalid_scenario', `duration "${d}" is not valid (use e.g. 500ms, 10s, 1m30s)`);
  return total;
}
