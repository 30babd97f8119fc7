import { now } from '@crucible/instrument-kit';

/** One observation of a probe. */
export interface ProbeSample<T> {
  /** Epoch ms (see `now()`) when the observation completed. */
  readonly at: number;
  readonly value: T;
}

/** A running probe; `stop()` ends it and returns every sample. */
export interface Probe<T> {
  readonly samples: readonly ProbeSample<T>[];
  /** The first sample at or after `from` that satisfies `predicate`. */
  firstAfter(from: number, predicate: (value: T) => boolean): ProbeSample<T> | undefined;
  stop(): Promise<ProbeSample<T>[]>;
}

/**
 * Observes something every `intervalMs` (one observation at a time, so a slow answer
 * delays the next instead of piling up), e.g. the status of `/health` while a fault acts.
 *
 * @example
 * const health = startProbe(() => fetch(`${url}/health`).then((r) => r.status, () => 0), 100);
 * // … fault …
 * const detected = health.firstAfter(step.appliedAt!, (s) => s === 503);
 */
export function startProbe<T>(observe: () => Promise<T>, intervalMs: number): Probe<T> {
  const samples: ProbeSample<T>[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const t0 = now();
      try {
        samples.push({ at: now(), value: await observe() });
      } catch {
        // an observation that throws is no observation; the next one follows
      }
      const wait = intervalMs - (now() - t0);
      if (wait > 0 && !stopped) await new Promise((r) => setTimeout(r, wait));
    }
  })();
  return {
    samples,
    firstAfter: (from, predicate) => samples.find((s) => s.at >= from && predicate(s.value)),
    async stop() {
      stopped = true;
      await loop;
      return samples;
    },
  };
}
