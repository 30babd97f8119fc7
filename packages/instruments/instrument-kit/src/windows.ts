import { createLatencyHistogram, decodeHistogram, percentileMs, type LatencyHistogram } from './histogram.js';
import type { ParsedThreshold, ThresholdOperator } from './thresholds.js';

/** One second of a run as a window reads it: the report's series point, or the engine's tick. */
export interface WindowPoint {
  /** Seconds since the measured phase began. */
  readonly t: number;
  readonly requests: number;
  readonly errors: number;
  /** Base64 HDR histogram (µs) of the second; latency windows need it. */
  readonly histogram?: string | undefined;
}

/** One sliding window's figure: the seconds it covers and the value the threshold reads. */
export interface WindowValue {
  readonly fromS: number;
  readonly toS: number;
  /** Null when the window holds nothing to read (no request for a rate or a percentile). */
  readonly value: number | null;
}

/** How a windowed threshold went: every window, the worst one, and how many failed. */
export interface WindowOutcome {
  readonly windows: readonly WindowValue[];
  /** The window furthest on the failing side of the operator (null: no window had a value). */
  readonly worst: WindowValue | null;
  readonly failed: number;
  /** Why nothing could be judged (e.g. the points carry no histograms), if so. */
  readonly error?: string;
}

/** Whether `actual <op> value` holds. */
export function compareThreshold(actual: number, op: ThresholdOperator, value: number): boolean {
  switch (op) {
    case '<':
      return actual < value;
    case '<=':
      return actual <= value;
    case '>':
      return actual > value;
    case '>=':
      return actual >= value;
    case '==':
      return actual === value;
    case '!=':
      return actual !== value;
  }
}

/** The figure `t` reads from one span of seconds (requests, errors, merged latency). */
export function spanFigure(t: ParsedThreshold, span: { readonly requests: number; readonly errors: number; readonly seconds: number; readonly latency?: LatencyHistogram }): number | null {
  switch (t.metric) {
    case 'errors':
      if (t.aggregation === 'rate') return span.requests === 0 ? null : span.errors / span.requests;
      return span.errors;
    case 'requests':
      return t.aggregation === 'rate' ? span.requests / span.seconds : span.requests;
    case 'latency': {
      if (t.aggregation === 'count') return span.requests;
      const h = span.latency;
      if (!h || h.totalCount === 0) return null;
      switch (t.aggregation) {
        case 'p':
          return percentileMs(h, t.percentile ?? 50);
        case 'avg':
          return h.mean / 1000;
        case 'min':
          return h.minNonZeroValue / 1000;
        case 'max':
          return h.maxValue / 1000;
        default:
          return percentileMs(h, 50);
      }
    }
    default:
      return null;
  }
}

/**
 * Every sliding window of `t.windowS` whole seconds over `points` (one per second, in order),
 * each judged as the threshold says; a run shorter than the window is one window over all of
 * it. The latency of a window is its seconds' histograms merged exactly (HDR add, and subtract
 * as the window slides on).
 *
 * @example
 * slidingWindows(parseThreshold('p(99) over 10s < 300'), report.series).failed; // 0 when every 10 s held
 */
export function slidingWindows(t: ParsedThreshold, points: readonly WindowPoint[]): WindowOutcome {
  const n = Math.max(1, Math.min(t.windowS ?? points.length, points.length));
  const latency = t.metric === 'latency' && t.aggregation !== 'count';
  if (points.length === 0) return { windows: [], worst: null, failed: 0, error: 'no per-second points were recorded' };
  if (latency && points.some((p) => p.histogram === undefined)) return { windows: [], worst: null, failed: 0, error: 'the per-second points carry no histograms (a report written without them)' };
  const decoded: LatencyHistogram[] = latency ? points.map((p) => decodeHistogram(p.histogram as string)) : [];
  const running = latency ? createLatencyHistogram() : undefined;
  const windows: WindowValue[] = [];
  let requests = 0;
  let errors = 0;
  try {
    for (let i = 0; i < points.length; i++) {
      const p = points[i] as WindowPoint;
      requests += p.requests;
      errors += p.errors;
      running?.add(decoded[i] as LatencyHistogram);
      if (i >= n) {
        const out = points[i - n] as WindowPoint;
        requests -= out.requests;
        errors -= out.errors;
        running?.subtract(decoded[i - n] as LatencyHistogram);
      }
      if (i < n - 1) continue;
      const value = spanFigure(t, { requests, errors, seconds: n, ...(running ? { latency: running } : {}) });
      windows.push({ fromS: (points[i - n + 1] as WindowPoint).t, toS: p.t + 1, value });
    }
  } finally {
    running?.destroy();
    for (const h of decoded) h.destroy();
  }
  const judged = windows.filter((w): w is WindowValue & { value: number } => w.value !== null);
  const failing = judged.filter((w) => !compareThreshold(w.value, t.operator, t.value));
  // Worst: the first failing window furthest past the bound, else the closest call.
  const below = t.operator === '<' || t.operator === '<=';
  const pick = (ws: readonly (WindowValue & { value: number })[]) => ws.reduce<(WindowValue & { value: number }) | null>((a, w) => (a === null || (below ? w.value > a.value : w.value < a.value) ? w : a), null);
  return { windows, worst: failing.length > 0 ? (t.operator === '==' || t.operator === '!=' ? (failing[0] ?? null) : pick(failing)) : pick(judged), failed: failing.length };
}
