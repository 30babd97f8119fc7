import { compareThreshold, mergeHistograms, parseThreshold, spanFigure, type NormalizedThreshold, type ParsedThreshold, type WindowPoint } from '@crucible/instrument-kit';
import type { Recorder } from './recorder.js';

/** Why a scenario stopped before its schedule ended: the threshold, when, and its figure then. */
export interface AbortRecord {
  readonly threshold: string;
  /** Seconds into the measured phase. */
  readonly atS: number;
  readonly actual: number;
}

/** Metrics an abort may judge while the run goes: what the recorder holds second by second. */
const LIVE = new Set(['latency', 'errors', 'requests']);

/** Whether the engine can judge `t` while the scenario runs (else `abortOnFail` is refused). */
export function judgedLive(t: ParsedThreshold, declared: Readonly<Record<string, string>>): boolean {
  return !t.tag && (LIVE.has(t.metric) || Object.hasOwn(declared, t.metric));
}

/**
 * The scenario's `abortOnFail` thresholds, judged after every completed second from their
 * `delayAbortEval` on: a windowed one (`p(99) over 10s < 300`) on the last N seconds, any
 * other on the totals so far (a custom counter or rate included). The first to fail is the
 * scenario's abort. Judged on what was measured, as the report will judge it.
 */
export class AbortWatch {
  readonly #rules: readonly { readonly rule: NormalizedThreshold; readonly t: ParsedThreshold }[];
  readonly #points: WindowPoint[] = [];
  readonly #keep: number;

  constructor(rules: readonly NormalizedThreshold[]) {
    this.#rules = rules.filter((r) => r.abortOnFail).map((rule) => ({ rule, t: parseThreshold(rule.expression) }));
    this.#keep = Math.max(1, ...this.#rules.map((r) => r.t.windowS ?? 1));
  }

  get active(): boolean {
    return this.#rules.length > 0;
  }

  /** One completed second; returns the abort if a rule failed on it. */
  second(point: WindowPoint, rec: Recorder): AbortRecord | undefined {
    this.#points.push(point);
    if (this.#points.length > this.#keep) this.#points.shift();
    const elapsedMs = (point.t + 1) * 1000;
    for (const { rule, t } of this.#rules) {
      if (elapsedMs < rule.delayAbortEvalMs) continue;
      const actual = this.#figure(t, rec, point.t + 1);
      if (actual !== null && !compareThreshold(actual, t.operator, t.value)) return { threshold: rule.expression, atS: point.t + 1, actual: Math.round(actual * 1000) / 1000 };
    }
    return undefined;
  }

  #figure(t: ParsedThreshold, rec: Recorder, elapsedS: number): number | null {
    if (t.windowS !== undefined) {
      // A window is judged once it is full, as the report's sliding windows are.
      if (this.#points.length < t.windowS) return null;
      const span = this.#points.slice(-t.windowS);
      const latency = t.metric === 'latency' && t.aggregation !== 'count' ? mergeHistograms(span.flatMap((p) => (p.histogram ? [p.histogram] : []))) : undefined;
      try {
        return spanFigure(t, { requests: sum(span, 'requests'), errors: sum(span, 'errors'), seconds: t.windowS, ...(latency ? { latency } : {}) });
      } finally {
        latency?.destroy();
      }
    }
    if (LIVE.has(t.metric)) return spanFigure(t, { requests: rec.requests, errors: rec.requests - rec.successes, seconds: elapsedS, latency: rec.total });
    const counter = rec.metrics[t.metric];
    if (counter !== undefined) return counter;
    const rate = rec.rates[t.metric];
    return rate && rate.total > 0 ? rate.trues / rate.total : null;
  }
}

function sum(points: readonly WindowPoint[], key: 'requests' | 'errors'): number {
  return points.reduce((a, p) => a + p[key], 0);
}

