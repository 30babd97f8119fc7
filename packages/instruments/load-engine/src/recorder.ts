import type { CheckResult } from '@crucible/contracts';
import { createLatencyHistogram, encodeHistogram, percentileMs, recordLatencyMs, type LatencyHistogram } from '@crucible/instrument-kit';
import type { RateResult, SecondResult } from './result.js';
import type { MetricDeclarations } from './scenario.js';

interface Slice {
  requests: number;
  errors: number;
  histogram: LatencyHistogram;
}

interface Second {
  requests: number;
  errors: number;
  dropped: number;
  histogram: LatencyHistogram;
}

/** Counts and HDR histograms (total and per second) of one scenario's measured phase. */
export class Recorder {
  readonly total = createLatencyHistogram();
  /** Start lateness of open-model iterations (actual start − intended start). */
  readonly lag = createLatencyHistogram();
  readonly #seconds = new Map<number, Second>();
  requests = 0;
  successes = 0;
  dropped = 0;
  readonly errors: Record<string, number> = {};
  readonly checks: Record<string, CheckResult> = {};
  /** Custom counters (`ctx.count`); declared ones start at 0. */
  readonly metrics: Record<string, number> = {};
  /** Custom rates (`ctx.rate`): true samples of all samples. */
  readonly rates: Record<string, RateResult> = {};
  /** Per value of the breakdown tag. */
  readonly slices = new Map<string, Slice>();
  /** `performance.now()` at the start of the measured phase. */
  readonly t0: number;

  constructor(t0: number, declared: MetricDeclarations = {}) {
    this.t0 = t0;
    // A declared metric nobody touched is a real zero, not an unknown metric.
    for (const [name, kind] of Object.entries(declared)) {
      if (kind === 'counter') this.metrics[name] = 0;
      else this.rates[name] = { trues: 0, total: 0 };
    }
  }

  #second(at: number): Second {
    const t = Math.max(0, Math.floor((at - this.t0) / 1000));
    let s = this.#seconds.get(t);
    if (!s) {
      s = { requests: 0, errors: 0, dropped: 0, histogram: createLatencyHistogram() };
      this.#seconds.set(t, s);
    }
    return s;
  }

  /** One completed iteration: its latency, when it completed, whether it succeeded. */
  record(latencyMs: number, completedAt: number, ok: boolean, errorKind?: string): void {
    this.requests++;
    recordLatencyMs(this.total, latencyMs);
    const s = this.#second(completedAt);
    s.requests++;
    recordLatencyMs(s.histogram, latencyMs);
    if (ok) this.successes++;
    else {
      s.errors++;
      const k = errorKind ?? 'error';
      this.errors[k] = (this.errors[k] ?? 0) + 1;
    }
  }

  /** Adds an iteration to the slice of its breakdown tag value. */
  slice(value: string, latencyMs: number, ok: boolean): void {
    let sl = this.slices.get(value);
    if (!sl) {
      sl = { requests: 0, errors: 0, histogram: createLatencyHistogram() };
      this.slices.set(value, sl);
    }
    sl.requests++;
    if (!ok) sl.errors++;
    recordLatencyMs(sl.histogram, latencyMs);
  }

  /** Encoded slices, for the result. */
  breakdown(): Record<string, { requests: number; errors: number; histogram: string }> {
    const out: Record<string, { requests: number; errors: number; histogram: string }> = {};
    for (const [k, v] of this.slices) out[k] = { requests: v.requests, errors: v.errors, histogram: encodeHistogram(v.histogram) };
    return out;
  }

  /** How late an iteration started after its intended start (ms, ≥ 0). */
  recordLag(ms: number): void {
    recordLatencyMs(this.lag, Math.max(0, ms));
  }

  /** An iteration the schedule could not start at `intendedAt`. */
  drop(intendedAt: number): void {
    this.dropped++;
    this.#second(intendedAt).dropped++;
  }

  /** One outcome of a named check. */
  check(name: string, passed: boolean): void {
    const c = (this.checks[name] ??= { passes: 0, fails: 0 });
    if (passed) c.passes++;
    else c.fails++;
  }

  /** Adds to a custom counter (`ctx.count`). */
  count(metric: string, value: number): void {
    this.metrics[metric] = (this.metrics[metric] ?? 0) + value;
  }

  /** One sample of a custom rate (`ctx.rate`). */
  rate(metric: string, ok: boolean): void {
    const r = this.rates[metric] ?? { trues: 0, total: 0 };
    this.rates[metric] = { trues: r.trues + (ok ? 1 : 0), total: r.total + 1 };
  }

  /** Snapshot of second `t` (zeros when nothing happened in it). */
  secondSummary(t: number): { requests: number; errors: number; dropped: number; p50: number; p95: number; p99: number; histogram: string } {
    const s = this.#seconds.get(t);
    if (!s) {
      const empty = createLatencyHistogram();
      const out = { requests: 0, errors: 0, dropped: 0, p50: 0, p95: 0, p99: 0, histogram: encodeHistogram(empty) };
      empty.destroy();
      return out;
    }
    return { requests: s.requests, errors: s.errors, dropped: s.dropped, p50: percentileMs(s.histogram, 50), p95: percentileMs(s.histogram, 95), p99: percentileMs(s.histogram, 99), histogram: encodeHistogram(s.histogram) };
  }

  /** Last second index that has data (−1 when none). */
  lastSecond(): number {
    return this.#seconds.size === 0 ? -1 : Math.max(...this.#seconds.keys());
  }

  /** Every second from 0 to the last one with data (empty seconds included, so gaps show). */
  series(): SecondResult[] {
    const out: SecondResult[] = [];
    const last = this.lastSecond();
    for (let t = 0; t <= last; t++) {
      const s = this.secondSummary(t);
      out.push({ t, requests: s.requests, errors: s.errors, dropped: s.dropped, histogram: s.histogram });
    }
    return out;
  }

  /** Releases the histograms. */
  destroy(): void {
    this.total.destroy();
    this.lag.destroy();
    for (const sl of this.slices.values()) sl.histogram.destroy();
    this.slices.clear();
    for (const s of this.#seconds.values()) s.histogram.destroy();
    this.#seconds.clear();
  }
}
