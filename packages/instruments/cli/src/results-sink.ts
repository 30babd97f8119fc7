import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { InstrumentError } from '@crucible/instrument-kit';
import type { RunResult } from '@crucible/load-engine';

/** What a worker leaves behind: its segment's encoded result, or why it failed. */
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

/**
 * Where the workers of one distributed run meet at the start barrier and leave their
 * segments, and where `crucible collect` reads them: a directory every worker shares (a
 * volume), or a job on the metrics gateway.
 */
export interface ResultsSink {
  /** The directory or the job's URL, for messages. */
  readonly where: string;
  /** Worker `index` of `completions` is at the barrier; `at` is its clock (ms). */
  arrive(index: number, completions: number, at: number): Promise<void>;
  /** The arrival times of the workers at the barrier so far. */
  arrivals(): Promise<number[]>;
  put(file: SegmentFile): Promise<void>;
  /** Every worker's segment, in index order; the indices that left none. */
  read(completions: number): Promise<{ files: SegmentFile[]; missing: number[] }>;
}

/** The sink's address, as the command line gave it. */
export type ResultsTarget = { readonly kind: 'dir'; readonly dir: string } | { readonly kind: 'gateway'; readonly url: string; readonly token: string };

async function writeAtomically(file: string, body: unknown): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(body));
  await rename(tmp, file);
}

/** The shared-volume sink: `ready-<i>.json` per arrival and one `segment-…json` per worker, written atomically. */
export function dirSink(dir: string): ResultsSink {
  return {
    where: dir,
    async arrive(index, _completions, at) {
      await mkdir(dir, { recursive: true });
      await writeAtomically(path.join(dir, `ready-${String(index).padStart(4, '0')}.json`), { index, at });
    },
    async arrivals() {
      const names = (await readdir(dir)).filter((n) => /^ready-\d{4}\.json$/.test(n));
      return Promise.all(names.map(async (n) => (JSON.parse(await readFile(path.join(dir, n), 'utf8')) as { at: number }).at));
    },
    async put(file) {
      await mkdir(dir, { recursive: true });
      await writeAtomically(path.join(dir, segmentFileName(file.index, file.completions)), file);
    },
    async read(completions) {
      const present = new Set(await readdir(dir).catch(() => [] as string[]));
      const files: SegmentFile[] = [];
      const missing: number[] = [];
      for (let i = 0; i < completions; i++) {
        const name = segmentFileName(i, completions);
        if (present.has(name)) files.push(JSON.parse(await readFile(path.join(dir, name), 'utf8')) as SegmentFile);
        else missing.push(i);
      }
      return { files, missing };
    },
  };
}

/** What the gateway's `GET /jobs/:job` answers. */
interface GatewayJob {
  readonly completions: number;
  readonly ready: readonly { readonly index: number; readonly at: number }[];
  readonly segments: readonly SegmentFile[];
}

/**
 * The metrics gateway sink: `url` is a job on a gateway, `<gateway>/jobs/<name>` (its
 * `PUT …/ready/<i>`, `PUT …/segments/<i>`, `GET …`), `token` its publish (or admin) token.
 * A request that fails on the network or with a 5xx is tried twice more (every one is
 * idempotent); any other answer fails naming the request and the gateway's message.
 */
export function gatewaySink(url: string, token: string): ResultsSink {
  const base = url.replace(/\/+$/, '');
  const request = async (method: 'GET' | 'PUT', suffix: string, body?: unknown): Promise<unknown> => {
    const target = `${base}${suffix}`;
    let last = '';
    for (let attempt = 0; attempt < 3; attempt++) {
      if (attempt > 0) await sleep(500 * attempt);
      let res: Response;
      try {
        res = await fetch(target, {
          method,
          headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          signal: AbortSignal.timeout(30_000),
        });
      } catch (err) {
        last = `${method} ${target}: ${(err as Error).message}${(err as { cause?: Error }).cause ? ` (${(err as { cause: Error }).cause.message})` : ''}`;
        continue;
      }
      const text = await res.text();
      if (res.ok) return JSON.parse(text) as unknown;
      if (method === 'GET' && res.status === 404) return undefined;
      last = `${method} ${target} answered ${res.status}: ${text.slice(0, 500)}`;
      if (res.status < 500) break;
    }
    throw new InstrumentError('segment_failed', `results sink: ${last}`);
  };
  const job = async () => (await request('GET', '')) as GatewayJob | undefined;
  return {
    where: base,
    async arrive(index, completions, at) {
      await request('PUT', `/ready/${index}`, { completions, at });
    },
    async arrivals() {
      return ((await job())?.ready ?? []).map((r) => r.at);
    },
    async put(file) {
      await request('PUT', `/segments/${file.index}`, file);
    },
    async read(completions) {
      const got = await job();
      if (got && got.completions !== completions) throw new InstrumentError('bad_argument', `--completions ${completions}: the job at ${base} has ${got.completions}`);
      const byIndex = new Map((got?.segments ?? []).map((s) => [s.index, s]));
      const files: SegmentFile[] = [];
      const missing: number[] = [];
      for (let i = 0; i < completions; i++) {
        const f = byIndex.get(i);
        if (f) files.push(f);
        else missing.push(i);
      }
      return { files, missing };
    },
  };
}

/** The sink a target names. */
export function sinkOf(target: ResultsTarget): ResultsSink {
  return target.kind === 'dir' ? dirSink(target.dir) : gatewaySink(target.url, target.token);
}

/**
 * `--results DIR` or `--results-url URL` (with `CRUCIBLE_RESULTS_TOKEN`), exactly one: bad
 * input throws `bad_argument` naming the flag or variable.
 */
export function resultsTarget(dir: string | undefined, url: string | undefined, env: NodeJS.ProcessEnv, need: string): ResultsTarget {
  if (dir && url) throw new InstrumentError('bad_argument', `one results sink: ${need} or --results-url URL (CRUCIBLE_RESULTS_URL), not both`);
  if (dir) return { kind: 'dir', dir: path.resolve(dir) };
  if (!url) throw new InstrumentError('bad_argument', `${need} or --results-url URL (or CRUCIBLE_RESULTS_URL) is required: where every worker meets and leaves its segment`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InstrumentError('bad_argument', `--results-url "${url}" is not a URL: <gateway>/jobs/<name>, e.g. http://metrics-gateway:8080/jobs/run-1`);
  }
  if (!/^https?:$/.test(parsed.protocol) || !/^\/(?:.*\/)?jobs\/[A-Za-z0-9][A-Za-z0-9._-]{0,127}\/?$/.test(parsed.pathname)) {
    throw new InstrumentError('bad_argument', `--results-url "${url}" must be http(s)://<gateway>/jobs/<name> (letters, digits, . _ -)`);
  }
  const token = env['CRUCIBLE_RESULTS_TOKEN'];
  if (!token) throw new InstrumentError('bad_argument', 'CRUCIBLE_RESULTS_TOKEN must be set with --results-url: the gateway\'s publish token (GATEWAY_PUBLISH_TOKEN, else CRUCIBLE_ADMIN_TOKEN)');
  return { kind: 'gateway', url: parsed.toString().replace(/\/+$/, ''), token };
}
