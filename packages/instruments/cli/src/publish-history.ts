import os from 'node:os';
import type { GatewayPublish, RunEndSummary, RunReport } from '@crucible/contracts';
import { InstrumentError } from '@crucible/instrument-kit';
import { GatewayPublisher } from '@crucible/load-engine';
import { EXIT, readRunReports, scenarioStatus, worstStatus, type CommandIo } from '@crucible/reporting';

/** Where `--publish` sends a finished run: a metrics gateway and a project API key of its history. */
export interface PublishTarget {
  readonly url: string;
  readonly key: string;
}

/**
 * `--publish <url>` (else `CRUCIBLE_HISTORY_URL`) and `CRUCIBLE_HISTORY_KEY`, checked before
 * any request: an http(s) URL and a key, or `bad_argument` naming what is missing.
 */
export function publishTarget(flag: string | undefined, env: NodeJS.ProcessEnv, flagName = '--publish'): PublishTarget | undefined {
  const url = flag ?? (env['CRUCIBLE_HISTORY_URL'] || undefined);
  if (url === undefined) return undefined;
  const from = flag === undefined ? 'CRUCIBLE_HISTORY_URL' : flagName;
  if (!(URL.canParse(url) && /^https?:$/.test(new URL(url).protocol))) throw new InstrumentError('bad_argument', `${from} "${url}" is not an http(s) URL of a metrics gateway, e.g. http://127.0.0.1:4300`);
  const key = env['CRUCIBLE_HISTORY_KEY'];
  if (!key) throw new InstrumentError('bad_argument', `${from} needs CRUCIBLE_HISTORY_KEY: a project API key of the gateway (POST /admin/projects gives one)`);
  return { url: url.replace(/\/+$/, ''), key };
}

/** The machine class runs are compared within: `CRUCIBLE_MACHINE_CLASS`, else platform-arch-Ncpu. */
export function machineClass(env: NodeJS.ProcessEnv = process.env): string {
  return env['CRUCIBLE_MACHINE_CLASS'] || `${process.platform}-${process.arch}-${os.availableParallelism()}cpu`;
}

/** The messages of a finished run: run_start, one snapshot a second of each scenario, run_end. */
export function historyMessages(report: RunReport, env: NodeJS.ProcessEnv = process.env): GatewayPublish[] {
  const runId = report.run.id;
  const branch = env['CRUCIBLE_BRANCH'] || env['GITHUB_HEAD_REF'] || env['GITHUB_REF_NAME'];
  const start: GatewayPublish = {
    type: 'run_start',
    run_id: runId,
    run: { machine: machineClass(env), started_at: report.run.started_at, ...(report.run.commit ? { commit: report.run.commit.slice(0, 64) } : {}), ...(branch ? { branch } : {}), ...(report.run.profile ? { profile: report.run.profile } : {}) },
  };
  const snapshots: GatewayPublish[] = report.scenarios.flatMap((s) =>
    s.series.map((p) => ({
      type: 'snapshot' as const,
      run_id: runId,
      snapshot: { run_id: runId, scenario: s.name, t: p.t, requests: p.requests, errors: p.errors, rps: p.rps, latency_ms: { p50: p.p50, p95: p.p95, p99: p.p99 }, dropped: p.dropped, ...(p.histogram ? { histogram: p.histogram } : {}) },
    })),
  );
  const scenarios = report.scenarios.map((s) => ({ name: s.name, requests: s.requests, errors: s.requests - s.successes, error_rate: s.error_rate, rps: s.rps.achieved, latency_ms: s.latency_ms, thresholds: s.thresholds, passed: s.passed, status: scenarioStatus(s) }));
  const summary: RunEndSummary = {
    run_id: runId,
    passed: report.passed,
    status: worstStatus(scenarios.map((s) => s.status)),
    finished_at: report.run.finished_at,
    duration_s: Math.max(0, (Date.parse(report.run.finished_at) - Date.parse(report.run.started_at)) / 1000),
    scenarios,
  };
  return [start, ...snapshots, { type: 'run_end', run_id: runId, summary }];
}

/**
 * Opens the history connection before the run (a wrong URL or key fails then, not after the
 * load), returns `send(report)`: publishes the finished run and resolves with its history page,
 * or throws naming what the gateway refused.
 */
export async function openHistory(target: PublishTarget, connectTimeoutMs = 5000): Promise<{ send(report: RunReport): Promise<string>; close(): Promise<void> }> {
  const refusals: string[] = [];
  const publisher = new GatewayPublisher({ gatewayUrl: target.url, token: target.key, onStatus: (s) => s.startsWith('gateway refused') && refusals.push(s) });
  const deadline = Date.now() + connectTimeoutMs;
  while (!publisher.connected) {
    if (Date.now() > deadline) {
      await publisher.close(0);
      throw new InstrumentError('gateway_unreachable', `--publish: the metrics gateway at ${target.url} did not accept the history connection within ${connectTimeoutMs} ms (check the URL and CRUCIBLE_HISTORY_KEY)`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    async send(report) {
      const messages = historyMessages(report);
      for (const m of messages) publisher.publish(m);
      // Waits for the gateway's acknowledgement of every message (it has taken them into its history).
      await publisher.close(15_000);
      if (refusals.length > 0) throw new Error(`--publish: the gateway refused ${refusals.length} of ${messages.length} messages: ${refusals[0]}`);
      const scenario = report.scenarios[0]?.name;
      return `${target.url}/history?${new URLSearchParams({ ...(scenario ? { scenario } : {}), run: report.run.id })}`;
    },
    close: () => publisher.close(0),
  };
}

/**
 * `crucible publish <report.json…>`: each finished run's report into the gateway's history, one
 * connection per report (as `--publish` sends one run); prints each run's history page. A report
 * the gateway refuses, or one that cannot be read, exits 2 naming it; the others still go.
 */
export async function publishReports(files: readonly string[], target: PublishTarget, io: CommandIo): Promise<number> {
  const found = await readRunReports(files);
  let failed = 0;
  for (const { file, report } of found) {
    try {
      const history = await openHistory(target);
      io.err(`history: ${await history.send(report)}\n`);
    } catch (error) {
      failed++;
      io.err(`publish ${file}: ${error instanceof Error ? error.message : String(error)}\n`);
    }
  }
  return failed > 0 ? EXIT.crash : EXIT.ok;
}
