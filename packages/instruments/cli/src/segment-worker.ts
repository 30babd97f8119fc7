import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { InstrumentError, failureText, wholeArg } from '@crucible/instrument-kit';
import { run, splitSegments, type RunResult } from '@crucible/load-engine';
import { EXIT, type CommandIo } from '@crucible/reporting';
import { resultsTarget, sinkOf, type ResultsSink, type ResultsTarget, type SegmentFile } from './results-sink.js';
import { buildScenarios, loadRunFile, parseExtraThresholds } from './scenarios.js';

export { segmentFileName, type SegmentFile } from './results-sink.js';

/**
 * One load worker of a distributed run, as a pod of a Kubernetes Indexed Job starts it: its
 * execution segment from `JOB_COMPLETION_INDEX` of `JOB_COMPLETIONS`, and a results sink for
 * the start barrier and the encoded result: a shared directory (a volume every pod mounts) or
 * a job on the metrics gateway.
 */
export interface WorkerSettings {
  readonly file: string;
  readonly index: number;
  readonly completions: number;
  readonly results: ResultsTarget;
  readonly baseUrl?: string;
  readonly thresholds: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** How long to wait for every worker at the barrier (ms). */
  readonly barrierTimeoutMs: number;
  /** Delay between the last worker's arrival and the common start (ms): time for every pod to see it. */
  readonly startDelayMs: number;
}

/** Reads the Indexed Job's variables: a pod without them is not a worker of a Job (exit 2, naming them). */
export function segmentOfEnv(env: NodeJS.ProcessEnv): { index: number; completions: number } {
  const rawIndex = env['JOB_COMPLETION_INDEX'];
  if (rawIndex === undefined || env['JOB_COMPLETIONS'] === undefined) {
    throw new InstrumentError('bad_argument', 'JOB_COMPLETION_INDEX and JOB_COMPLETIONS must be set: crucible worker runs as a pod of an Indexed Job (or with both set, as a local run of N processes does)');
  }
  const completions = wholeArg('JOB_COMPLETIONS', env['JOB_COMPLETIONS'], 1, 1024);
  const index = /^\d+$/.test(rawIndex) ? Number(rawIndex) : NaN;
  if (!(index < completions)) throw new InstrumentError('bad_argument', `JOB_COMPLETION_INDEX must be a whole number from 0 to ${completions - 1}, not "${rawIndex}"`);
  return { index, completions };
}

/**
 * The start barrier: each worker records its arrival with its clock in the sink, then waits
 * until all `completions` are there; every worker then computes the same start — the latest
 * arrival plus `startDelayMs` — so the segments' arrival schedules are anchored to one start time.
 */
export async function awaitBarrier(sink: ResultsSink, s: Pick<WorkerSettings, 'index' | 'completions' | 'barrierTimeoutMs' | 'startDelayMs'>): Promise<number> {
  await sink.arrive(s.index, s.completions, Date.now());
  const deadline = Date.now() + s.barrierTimeoutMs;
  for (;;) {
    const ats = await sink.arrivals();
    if (ats.length >= s.completions) return Math.max(...ats) + s.startDelayMs;
    if (Date.now() > deadline) throw new InstrumentError('segment_failed', `start barrier: ${ats.length} of ${s.completions} workers arrived within ${s.barrierTimeoutMs} ms`);
    await sleep(100);
  }
}

/**
 * `crucible worker`: builds the scenario file's run (a bad file exits 2 before the barrier),
 * waits at the barrier, runs its segment at the common start and leaves its encoded result
 * (exact HDR histograms) in the results sink; a failure is left there too, naming the worker,
 * and exits 2. Thresholds are not judged here: `crucible collect` judges them once, on
 * the merged result.
 */
export async function workerCommand(s: WorkerSettings, io: CommandIo): Promise<number> {
  Object.assign(process.env, s.env);
  const sink = sinkOf(s.results);
  const base = { index: s.index, completions: s.completions, host: os.hostname() };
  let startAt = 0;
  try {
    const scenarios = buildScenarios(await loadRunFile(s.file), s.thresholds);
    startAt = await awaitBarrier(sink, s);
    const wait = startAt - Date.now();
    if (wait > 0) await sleep(wait);
    const segment = splitSegments(s.completions)[s.index] as string;
    io.err(`worker ${s.index}/${s.completions}: segment ${segment}, started ${new Date().toISOString()} (common start ${new Date(startAt).toISOString()})\n`);
    // One run id for every segment: the start they share.
    const result = await run(scenarios, { segment, runId: `job-${startAt}`, ...(s.baseUrl ? { baseUrl: s.baseUrl } : {}) });
    await sink.put({ ...base, startAt, result: JSON.parse(JSON.stringify(result)) as RunResult } satisfies SegmentFile);
    io.err(`worker ${s.index}/${s.completions}: ${result.scenarios.reduce((a, r) => a + r.requests, 0)} requests, result in ${sink.where}\n`);
    return EXIT.ok;
  } catch (error) {
    io.err(`worker ${s.index}/${s.completions} failed: ${failureText(error)}\n`);
    // Named in the sink when it takes it; when the sink itself failed, collect names the worker as missing.
    await sink.put({ ...base, startAt, error: failureText(error) } satisfies SegmentFile).catch((e: unknown) => io.err(`worker ${s.index}/${s.completions}: could not leave the failure in ${sink.where}: ${failureText(e)}\n`));
    return EXIT.crash;
  }
}

/** `crucible worker`'s settings from its command line and the Job's variables. */
export function workerSettings(
  values: { readonly results?: string; readonly 'results-url'?: string; readonly 'base-url'?: string; readonly threshold?: readonly string[]; readonly env?: readonly string[]; readonly 'barrier-timeout'?: string },
  positionals: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): WorkerSettings {
  const [file, ...more] = positionals;
  if (!file || more.length > 0) throw new InstrumentError('bad_argument', 'one scenario file: crucible worker <scenarios.ts|.js> --results DIR | --results-url URL');
  // A flag beats its variable; the two sinks' variables are read only when neither flag is given.
  const flagged = values.results !== undefined || values['results-url'] !== undefined;
  const results = flagged
    ? resultsTarget(values.results, values['results-url'], env, '--results DIR')
    : resultsTarget(env['CRUCIBLE_RESULTS_DIR'] || undefined, env['CRUCIBLE_RESULTS_URL'] || undefined, env, '--results DIR (or CRUCIBLE_RESULTS_DIR)');
  const pairs: Record<string, string> = {};
  for (const pair of values.env ?? []) {
    const eq = pair.indexOf('=');
    if (eq < 1) throw new InstrumentError('bad_argument', `--env "${pair}" must be NAME=value`);
    pairs[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return {
    file: path.resolve(file),
    ...segmentOfEnv(env),
    results,
    ...(values['base-url'] ? { baseUrl: values['base-url'] } : {}),
    thresholds: parseExtraThresholds(values.threshold ?? []),
    env: pairs,
    barrierTimeoutMs: wholeArg('--barrier-timeout', values['barrier-timeout'], 120, 3600) * 1000,
    startDelayMs: 1000,
  };
}
