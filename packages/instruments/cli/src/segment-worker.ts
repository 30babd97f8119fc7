import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { InstrumentError, failureText, wholeArg } from '@crucible/instrument-kit';
import { run, splitSegments, type RunResult } from '@crucible/load-engine';
import { EXIT, type CommandIo } from '@crucible/reporting';
import { buildScenarios, loadRunFile, parseExtraThresholds } from './scenarios.js';

/**
 * One load worker of a distributed run, as a pod of a Kubernetes Indexed Job starts it: its
 * execution segment from `JOB_COMPLETION_INDEX` of `JOB_COMPLETIONS`, a shared results
 * directory (a volume every pod mounts) for the start barrier and the encoded result.
 */
export interface WorkerSettings {
  readonly file: string;
  readonly index: number;
  readonly completions: number;
  readonly resultsDir: string;
  readonly baseUrl?: string;
  readonly thresholds: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** How long to wait for every worker at the barrier (ms). */
  readonly barrierTimeoutMs: number;
  /** Delay between the last worker's arrival and the common start (ms): time for every pod to see it. */
  readonly startDelayMs: number;
}

/** The file a worker leaves behind: its segment's encoded result, or why it failed. */
export interface SegmentFile {
  readonly index: number;
  readonly completions: number;
  readonly host: string;
  readonly startAt: number;
  readonly result?: RunResult;
  readonly error?: string;
}

/** `segment-0002-of-0004.json` (sorted names are index order). */
export function segmentFileName(index: number, completions: number): string {
  return `segment-${String(index).padStart(4, '0')}-of-${String(completions).padStart(4, '0')}.json`;
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

async function writeAtomically(file: string, body: unknown): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(body));
  await rename(tmp, file);
}

/**
 * The start barrier: each worker writes `ready-<i>` with its clock, then waits until all
 * `completions` are there; every worker then computes the same start — the latest arrival
 * plus `startDelayMs` — so the segments' arrival schedules are anchored to one start time.
 */
export async function awaitBarrier(s: Pick<WorkerSettings, 'index' | 'completions' | 'resultsDir' | 'barrierTimeoutMs' | 'startDelayMs'>): Promise<number> {
  await writeAtomically(path.join(s.resultsDir, `ready-${String(s.index).padStart(4, '0')}.json`), { index: s.index, at: Date.now() });
  const deadline = Date.now() + s.barrierTimeoutMs;
  for (;;) {
    const names = (await readdir(s.resultsDir)).filter((n) => /^ready-\d{4}\.json$/.test(n));
    if (names.length >= s.completions) {
      const ats = await Promise.all(names.map(async (n) => (JSON.parse(await readFile(path.join(s.resultsDir, n), 'utf8')) as { at: number }).at));
      return Math.max(...ats) + s.startDelayMs;
    }
    if (Date.now() > deadline) throw new InstrumentError('segment_failed', `start barrier: ${names.length} of ${s.completions} workers arrived within ${s.barrierTimeoutMs} ms`);
    await sleep(100);
  }
}

/**
 * `crucible worker`: builds the scenario file's run (a bad file exits 2 before the barrier),
 * waits at the barrier, runs its segment at the common start and writes its encoded result
 * (exact HDR histograms) to the results directory; a failure is written there too, naming the
 * worker, and exits 2. Thresholds are not judged here: `crucible collect` judges them once, on
 * the merged result.
 */
export async function workerCommand(s: WorkerSettings, io: CommandIo): Promise<number> {
  Object.assign(process.env, s.env);
  const file = path.join(s.resultsDir, segmentFileName(s.index, s.completions));
  const base = { index: s.index, completions: s.completions, host: os.hostname() };
  await mkdir(s.resultsDir, { recursive: true });
  let startAt = 0;
  try {
    const scenarios = buildScenarios(await loadRunFile(s.file), s.thresholds);
    startAt = await awaitBarrier(s);
    const wait = startAt - Date.now();
    if (wait > 0) await sleep(wait);
    const segment = splitSegments(s.completions)[s.index] as string;
    io.err(`worker ${s.index}/${s.completions}: segment ${segment}, started ${new Date().toISOString()} (common start ${new Date(startAt).toISOString()})\n`);
    // One run id for every segment: the start they share.
    const result = await run(scenarios, { segment, runId: `job-${startAt}`, ...(s.baseUrl ? { baseUrl: s.baseUrl } : {}) });
    await writeAtomically(file, { ...base, startAt, result: JSON.parse(JSON.stringify(result)) as RunResult } satisfies SegmentFile);
    io.err(`worker ${s.index}/${s.completions}: ${result.scenarios.reduce((a, r) => a + r.requests, 0)} requests, result in ${file}\n`);
    return EXIT.ok;
  } catch (error) {
    await writeAtomically(file, { ...base, startAt, error: failureText(error) } satisfies SegmentFile);
    io.err(`worker ${s.index}/${s.completions} failed: ${failureText(error)}\n`);
    return EXIT.crash;
  }
}

/** `crucible worker`'s settings from its command line and the Job's variables. */
export function workerSettings(
  values: { readonly results?: string; readonly 'base-url'?: string; readonly threshold?: readonly string[]; readonly env?: readonly string[]; readonly 'barrier-timeout'?: string },
  positionals: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): WorkerSettings {
  const [file, ...more] = positionals;
  if (!file || more.length > 0) throw new InstrumentError('bad_argument', 'one scenario file: crucible worker <scenarios.ts|.js> --results DIR');
  const resultsDir = values.results ?? env['CRUCIBLE_RESULTS_DIR'];
  if (!resultsDir) throw new InstrumentError('bad_argument', '--results DIR (or CRUCIBLE_RESULTS_DIR) is required: the volume every worker shares');
  const pairs: Record<string, string> = {};
  for (const pair of values.env ?? []) {
    const eq = pair.indexOf('=');
    if (eq < 1) throw new InstrumentError('bad_argument', `--env "${pair}" must be NAME=value`);
    pairs[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return {
    file: path.resolve(file),
    ...segmentOfEnv(env),
    resultsDir: path.resolve(resultsDir),
    ...(values['base-url'] ? { baseUrl: values['base-url'] } : {}),
    thresholds: parseExtraThresholds(values.threshold ?? []),
    env: pairs,
    barrierTimeoutMs: wholeArg('--barrier-timeout', values['barrier-timeout'], 120, 3600) * 1000,
    startDelayMs: 1000,
  };
}
