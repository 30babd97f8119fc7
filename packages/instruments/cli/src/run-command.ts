import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InstrumentError, wholeArg } from '@crucible/instrument-kit';
import { attach, otlpSink, prometheusSink, run, runParallel, scenarioResult, startLiveSink, type OtlpSink, type RunResult, type Sink } from '@crucible/load-engine';
import type { RunDefinition, ScenarioSpec } from './define-run.js';
import type { TimelineRun } from '@crucible/chaos';
import { checkChaos, runThroughChaos, withChaosRows } from './chaos-run.js';
import { baselineFrom, buildReport, compareWithBaseline, crashReport, EXIT, exitCodeFor, renderConsole, runEndSummary, withComparison, writeReports, type CommandIo } from '@crucible/reporting';
import { progressSink } from './progress.js';
import { openHistory, publishTarget, type PublishTarget } from './publish-history.js';
import { buildScenarios, loadRunFile, parseExtraThresholds } from './scenarios.js';
import type { WorkerParams } from './worker-scenarios.js';

/** `crucible run`'s settings, read from its command line. */
export interface RunSettings {
  readonly file: string;
  readonly baseUrl?: string;
  /** 1: in this process; more: that many child processes, one execution segment each. */
  readonly workers: number;
  readonly outDir: string;
  readonly thresholds: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly baseline?: string;
  /** Where to serve `/metrics` for Prometheus (`--prometheus [host:]port`). */
  readonly prometheus?: { readonly host: string; readonly port: number };
  /** The collector's OTLP/HTTP endpoint to export the run's metrics to (`--otlp URL`). */
  readonly otlp?: string;
  /** Where the finished run goes into the gateway's history (`--publish`, else `CRUCIBLE_HISTORY_URL`). */
  readonly publish?: PublishTarget;
  /** The gateway the run streams to while it goes (`--live URL`, token `CRUCIBLE_GATEWAY_TOKEN`). */
  readonly live?: { readonly url: string; readonly token: string };
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Reads `crucible run`'s flag values; a bad one throws `bad_argument` naming it. */
export function runSettings(
  values: { readonly 'base-url'?: string; readonly workers?: string; readonly out?: string; readonly threshold?: readonly string[]; readonly env?: readonly string[]; readonly baseline?: string; readonly prometheus?: string; readonly otlp?: string; readonly publish?: string; readonly live?: string },
  positionals: readonly string[],
): RunSettings {
  const [file, ...more] = positionals;
  if (!file) throw new InstrumentError('bad_argument', 'a scenario file is required: crucible run <scenarios.ts|.js>');
  if (more.length > 0) throw new InstrumentError('bad_argument', `one scenario file per run, not also "${more.join(' ')}"`);
  const baseUrl = values['base-url'];
  if (baseUrl !== undefined && !(URL.canParse(baseUrl) && /^(https?|wss?):$/.test(new URL(baseUrl).protocol))) {
    throw new InstrumentError('bad_argument', `--base-url "${baseUrl}" is not an http(s) or ws(s) URL, e.g. http://127.0.0.1:8080`);
  }
  const workers = values.workers === 'auto' ? os.availableParallelism() : wholeArg('--workers', values.workers, 1, 256);
  const env: Record<string, string> = {};
  for (const pair of values.env ?? []) {
    const eq = pair.indexOf('=');
    const key = pair.slice(0, Math.max(0, eq));
    if (eq < 1 || !ENV_NAME.test(key)) throw new InstrumentError('bad_argument', `--env "${pair}" must be NAME=value`);
    env[key] = pair.slice(eq + 1);
  }
  if (values.baseline !== undefined && !existsSync(values.baseline)) throw new InstrumentError('bad_argument', `--baseline: no baseline at ${values.baseline} (save one with: crucible compare, or report baseline save)`);
  const prometheus = values.prometheus === undefined ? undefined : prometheusAddress(values.prometheus);
  const publish = publishTarget(values.publish, process.env);
  const otlp = values.otlp;
  if (otlp !== undefined && !(URL.canParse(otlp) && /^https?:$/.test(new URL(otlp).protocol))) {
    throw new InstrumentError('bad_argument', `--otlp "${otlp}" is not an http(s) URL: give the collector's OTLP/HTTP endpoint, e.g. http://127.0.0.1:4318`);
  }
  const live = liveTarget(values.live, process.env);
  return {
    ...(live ? { live } : {}),
    ...(publish ? { publish } : {}),
    ...(prometheus ? { prometheus } : {}),
    ...(otlp === undefined ? {} : { otlp }),
    file: path.resolve(file),
    // The engine's HTTP pool takes http(s) only; its WebSocket client turns http back into ws.
    ...(baseUrl === undefined ? {} : { baseUrl: baseUrl.replace(/^ws(s?):/i, 'http$1:') }),
    workers,
    outDir: path.resolve(values.out ?? process.env['CRUCIBLE_REPORTS_DIR'] ?? 'reports'),
    thresholds: parseExtraThresholds(values.threshold ?? []),
    env,
    ...(values.baseline === undefined ? {} : { baseline: values.baseline }),
  };
}

/** `--live URL` with the gateway's publish token from `CRUCIBLE_GATEWAY_TOKEN`; a bad URL or no token is a `bad_argument` naming it. */
function liveTarget(url: string | undefined, env: NodeJS.ProcessEnv): RunSettings['live'] {
  if (url === undefined) return undefined;
  if (!(URL.canParse(url) && /^(https?|wss?):$/.test(new URL(url).protocol))) throw new InstrumentError('bad_argument', `--live "${url}" is not an http(s) or ws(s) URL of a metrics gateway, e.g. http://127.0.0.1:4300`);
  const token = env['CRUCIBLE_GATEWAY_TOKEN'];
  if (!token) throw new InstrumentError('bad_argument', "--live needs CRUCIBLE_GATEWAY_TOKEN: the gateway's publish token (GATEWAY_PUBLISH_TOKEN, else its admin token)");
  return { url: url.replace(/^ws(s?):/i, 'http$1:').replace(/\/$/, ''), token };
}

/** `9464` or `0.0.0.0:9464` (a port of 0 picks a free one, printed when the run starts). */
function prometheusAddress(raw: string): { host: string; port: number } {
  const m = /^(?:([^:]+):)?(\d+)$/.exec(raw.trim());
  if (!m) throw new InstrumentError('bad_argument', `--prometheus "${raw}" must be a port or host:port, e.g. 9464 or 0.0.0.0:9464`);
  return { host: m[1] ?? '127.0.0.1', port: wholeArg('--prometheus', m[2], 0, 65_535) };
}

/** The OTLP exports' outcome into the report's configuration, and a line on stderr when one failed (the run's verdict stands). */
function otlpOutcome(otlp: OtlpSink | undefined, config: Record<string, unknown>, io: CommandIo): void {
  if (!otlp || 'otlp' in config) return;
  const status = otlp.status();
  config['otlp'] = status;
  if (status.failed > 0) io.err(`otlp: export to ${status.url} failed (${status.failed} of ${status.exports} exports${status.finalFlushOk === false ? ', the final one too' : ''}): ${status.lastError ?? 'unknown error'}\n`);
}

/** Each scenario's `verify` verdicts, attached to its result (outcomes of every segment, merged). */
async function verified(definition: RunDefinition, result: RunResult): Promise<RunResult> {
  for (const [name, spec] of Object.entries(definition.scenarios ?? {}) as Array<[string, ScenarioSpec]>) {
    if (!spec.verify) continue;
    const verdicts = [await spec.verify(scenarioResult(result, name).outcomes)].flat();
    attach(result, name, { verdicts });
  }
  return result;
}

const WORKER_MODULE = fileURLToPath(new URL(`./worker-scenarios.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`, import.meta.url));

/**
 * `crucible run`: loads and validates the scenario file (a bad file or threshold exits 2
 * before any request), runs it — in this process, or over `workers` child processes by
 * execution segments, merged exactly — writes `<out>/<file stem>.{json,md,xml,html}`, prints
 * the summary, and returns the report's exit code (0 pass, 1 failed, 2 crash, 3 regression,
 * 4 inconclusive).
 */
export async function runCommand(settings: RunSettings, io: CommandIo, progress: NodeJS.WritableStream): Promise<number> {
  Object.assign(process.env, settings.env);
  const definition = await loadRunFile(settings.file);
  const scenarios = buildScenarios(definition, settings.thresholds);
  if (definition.chaos) checkChaos(definition.chaos);
  const stem = path.basename(settings.file).replace(/\.[cm]?[jt]s$/, '');
  const baseUrl = settings.baseUrl ?? definition.baseUrl;
  // Without one, the engine's HTTP client would crash the run at its first scenario: refuse it now.
  const unaddressed = scenarios.filter((s) => !s.baseUrl).map((s) => s.name);
  if (!baseUrl && unaddressed.length > 0) throw new InstrumentError('bad_argument', `no base URL for ${unaddressed.map((n) => `"${n}"`).join(', ')}: pass --base-url, or set baseUrl in the file`);
  const config: Record<string, unknown> = { file: settings.file, workers: settings.workers, ...(baseUrl ? { baseUrl } : {}) };
  const meta = { suite: `crucible run ${path.basename(settings.file)}`, project: '.', target: stem, config };
  let otlp: OtlpSink | undefined;
  // Connected before the run: a wrong gateway URL or key exits 2 before any request.
  const history = settings.publish ? await openHistory(settings.publish) : undefined;
  // The same for the live stream: a gateway that does not take the publisher stops the run before it starts.
  const live = settings.live ? await startLiveSink({ gatewayUrl: settings.live.url, token: settings.live.token, runId: `crucible-${stem}-${Date.now().toString(36)}`, summarize: runEndSummary }).catch((err: unknown) => {
    throw new InstrumentError('bad_argument', `--live: ${err instanceof Error ? err.message : String(err)}`);
  }) : undefined;
  const startedAt = new Date();
  let report;
  try {
    let result: RunResult;
    let timeline: TimelineRun | undefined;
    const sinks: Sink[] = [progressSink(progress)];
    if (live) {
      sinks.push(live.sink);
      io.err(`live dashboard: ${live.dashboardUrl}\n`);
    }
    if (settings.prometheus) {
      // Held open after the run until Prometheus has scraped the final figures (at most 5 s).
      const prom = prometheusSink({ ...settings.prometheus, finalScrapeWaitMs: 5000 });
      sinks.push(prom);
      void prom.ready.then(() => io.err(`prometheus: scrape ${prom.url() ?? ''}\n`));
    }
    if (settings.otlp) {
      otlp = otlpSink({ url: settings.otlp });
      sinks.push(otlp);
      io.err(`otlp: exporting to ${otlp.status().url}\n`);
    }
    const load = (url: string | undefined, signal?: AbortSignal): Promise<RunResult> => {
      const common = { ...(url ? { baseUrl: url } : {}), sinks, ...(definition.sequential ? { sequential: true } : {}), ...(signal ? { signal } : {}) };
      if (settings.workers === 1) return run(scenarios, common);
      const params: WorkerParams = { file: settings.file, thresholds: settings.thresholds, env: settings.env };
      return runParallel({ module: WORKER_MODULE, params, workers: settings.workers, mode: 'process', ...common });
    };
    if (definition.chaos) {
      if (!baseUrl) throw new InstrumentError('bad_argument', 'a chaos timeline needs --base-url (or baseUrl in the file): the proxy goes in front of it');
      const chaos = await runThroughChaos(definition.chaos, baseUrl, (proxied, signal) => load(proxied, signal));
      result = chaos.result;
      timeline = chaos.timeline;
    } else {
      result = await load(baseUrl);
    }
    result = await verified(definition, result);
    otlpOutcome(otlp, config, io);
    report = buildReport(result, meta);
    if (definition.chaos && timeline) report = withChaosRows(report, definition.chaos, timeline);
  } catch (error) {
    io.err(`crucible run crashed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    otlpOutcome(otlp, config, io);
    report = crashReport({ ...meta, startedAt }, error);
  }
  if (settings.baseline) report = withComparison(report, compareWithBaseline(await baselineFrom(settings.baseline), [report]));
  const written = await writeReports(report, { dir: settings.outDir, project: '.', target: stem });
  io.out(renderConsole(report, { color: io.color }));
  io.out(`reports: ${written.json} (+ .md .xml .html)\n`);
  if (history && !report.crash) {
    try {
      io.err(`history: ${await history.send(report)}\n`);
    } catch (error) {
      io.err(`${error instanceof Error ? error.message : String(error)}\n`);
      return EXIT.crash;
    }
  } else await history?.close();
  return report.crash ? EXIT.crash : exitCodeFor(report);
}
