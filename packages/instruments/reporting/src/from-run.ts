import type { GeneratorReport, RunEndSummary, RunReport, ScenarioReport } from '@crucible/contracts';
import { decodeHistogram, percentileMs, summarizeHistogram } from '@crucible/instrument-kit';
import type { GeneratorFigures, RunResult, ScenarioResult } from '@crucible/load-engine';
import { runMetadata, type RunMetadataInput } from './metadata.js';
import { finalizeScenario, scenarioStatus, worstStatus } from './thresholds.js';

function round(n: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** Custom counters as they are, and each custom rate with samples as its fraction of true samples. */
function metricsOf(s: ScenarioResult): Record<string, number> {
  const out: Record<string, number> = { ...s.metrics };
  // A rate nobody sampled has no value: a threshold on it then fails instead of reading 0.
  for (const [name, r] of Object.entries(s.rates ?? {})) if (r.total > 0) out[name] = round(r.trues / r.total, 6);
  return out;
}

/**
 * The engine's generator figures in the report's snake_case: for a report row built by hand
 * around load that did not run through the engine (see the load engine's `startGeneratorMonitor`).
 *
 * @example
 * const m = startGeneratorMonitor();
 * // … the suite's own load …
 * row.generator = generatorReport(classifyGenerator(m.stop(null))); // then finalizeScenario(row)
 */
export function generatorReport(g: GeneratorFigures): GeneratorReport {
  return { lag_p99_ms: g.lagP99Ms, loop_delay_p99_ms: g.loopDelayP99Ms, loop_delay_max_ms: g.loopDelayMaxMs, cpu_share: g.cpuShare, cpu_cores: g.cpuCores, load_per_core: g.loadPerCore, starved: g.starved, reason: g.reason };
}

/**
 * One scenario's engine result as a contracts `ScenarioReport`, thresholds evaluated (custom
 * metrics the engine counted included).
 *
 * @example
 * const report = scenarioReport(scenarioResult(result, 'reserve ids'));
 * report.thresholds.filter((t) => !t.passed); // what failed, with actual values
 */
export function scenarioReport(s: ScenarioResult): ScenarioReport {
  const total = decodeHistogram(s.histogram);
  const latency = summarizeHistogram(total);
  total.destroy();
  let lag: ScenarioReport['schedule_lag_ms'];
  if (s.lagHistogram) {
    const h = decodeHistogram(s.lagHistogram);
    lag = summarizeHistogram(h);
    h.destroy();
  }
  const series = s.series.map((p) => {
    const h = decodeHistogram(p.histogram);
    const point = { t: p.t, requests: p.requests, errors: p.errors, rps: p.requests, p50: round(percentileMs(h, 50)), p95: round(percentileMs(h, 95)), p99: round(percentileMs(h, 99)), dropped: p.dropped, histogram: p.histogram };
    h.destroy();
    return point;
  });
  const base: ScenarioReport = {
    name: s.name,
    executor: s.executor.type,
    tags: { ...s.tags },
    started_at: s.startedAt,
    duration_s: s.durationS,
    requests: s.requests,
    successes: s.successes,
    error_rate: s.requests === 0 ? 0 : round((s.requests - s.successes) / s.requests, 6),
    errors: { ...s.errors },
    dropped_iterations: s.dropped,
    rps: { achieved: s.durationS > 0 ? round(s.requests / s.durationS, 2) : 0, target: s.rpsTarget === null ? null : round(s.rpsTarget, 2) },
    latency_ms: latency,
    histogram: s.histogram,
    series,
    metrics: metricsOf(s),
    thresholds: s.thresholds.map((expression) => ({ expression, metric: '', actual: null, passed: false })),
    verdicts: [...s.verdicts],
    evidence: [...s.evidence],
    checks: { ...s.checks },
    segment: s.segment,
    latency_basis: s.latencyBasis,
    ...(s.breakdown
      ? {
          breakdown: {
            tag: s.breakdown.tag,
            entries: Object.fromEntries(
              Object.entries(s.breakdown.entries).map(([k, e]) => {
                const h = decodeHistogram(e.histogram);
                const summary = summarizeHistogram(h);
                h.destroy();
                return [k, { requests: e.requests, errors: e.errors, latency_ms: summary, histogram: e.histogram }];
              }),
            ),
          },
        }
      : {}),
    ...(lag === undefined ? {} : { schedule_lag_ms: lag }),
    ...(s.aborted ? { aborted: { threshold: s.aborted.threshold, at_s: s.aborted.atS, actual: s.aborted.actual } } : {}),
    ...(s.generator ? { generator: generatorReport(s.generator) } : {}),
    passed: true,
  };
  return finalizeScenario(base);
}

/**
 * The engine's run as a contracts `RunReport`: metadata (commit, machine, Node, config), one
 * scenario report each, thresholds evaluated, pass/fail from thresholds and attached verdicts.
 *
 * @example
 * const result = await run([reserve], { baseUrl });            // @crucible/load-engine
 * const report = buildReport(result, { suite: 'id-service stress', config: { rate: 100 } });
 * await finishRun(report); // writes the report files, sets the exit code
 */
export function buildReport(result: RunResult, meta: RunMetadataInput): RunReport {
  const scenarios = result.scenarios.map(scenarioReport);
  const status = worstStatus(scenarios.map(scenarioStatus));
  return {
    schema_version: 1,
    run: runMetadata({ id: result.runId, startedAt: result.startedAt, finishedAt: result.finishedAt, ...meta }),
    scenarios,
    passed: status === 'pass',
    status,
  };
}

/**
 * The live dashboard's `run_end` summary of a finished run: totals and thresholds as the
 * final report has them. It is what the load engine's gateway sink takes as `summarize`.
 *
 * @example
 * const live = await startLiveSink({ gatewayUrl, token, runId, summarize: runEndSummary });
 */
export function runEndSummary(runId: string, result: RunResult): RunEndSummary {
  const scenarios = result.scenarios.map((s) => {
    const r = scenarioReport(s);
    return {
      name: r.name,
      requests: r.requests,
      errors: r.requests - r.successes,
      error_rate: r.error_rate,
      rps: r.rps.achieved,
      latency_ms: r.latency_ms,
      thresholds: r.thresholds,
      passed: r.passed,
      status: scenarioStatus(r),
    };
  });
  return {
    run_id: runId,
    passed: scenarios.every((s) => s.passed),
    status: worstStatus(scenarios.map((s) => s.status)),
    finished_at: result.finishedAt,
    duration_s: Math.max(0, (Date.parse(result.finishedAt) - Date.parse(result.startedAt)) / 1000),
    scenarios,
  };
}
