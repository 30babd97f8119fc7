// Where a service process spends its CPU per request: a preload that samples it with V8's
// profiler from SIGUSR2 to exit (Node 20 does not take --cpu-prof in NODE_OPTIONS), and the
// summary of the .cpuprofile it writes — self time per function and per owning package,
// each as a share of the profile and as µs per answered request.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';

// Loaded into the measured process with NODE_OPTIONS=--import=<file>. A session on the
// process's own thread answers synchronously, so the profile is written inside 'exit'.
const preload = `import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import path from 'node:path';
const dir = process.env.CRUCIBLE_CPU_PROFILE_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  // 250 µs: per-request costs are tens of µs, so the default 1 ms is too coarse.
  session.post('Profiler.setSamplingInterval', { interval: 250 });
  process.once('SIGUSR2', () => session.post('Profiler.start'));
  process.once('exit', () => {
    session.post('Profiler.stop', (err, result) => {
      if (!err) writeFileSync(path.join(dir, 'profile-' + process.pid + '.cpuprofile'), JSON.stringify(result.profile));
    });
  });
}
`;

/**
 * Writes the profiler preload into `dir` and returns the environment that loads it: a
 * process started with it samples from the SIGUSR2 it is sent (so start-up stays out of the
 * profile) until it exits, and leaves `profile-<pid>.cpuprofile` in `dir`.
 *
 * @example
 * const env = await cpuProfileEnv(dir); // { NODE_OPTIONS: '--import=…', CRUCIBLE_CPU_PROFILE_DIR: dir }
 * // start the service with env, process.kill(pid, 'SIGUSR2'), load it, stop it, then read the profile
 */
export async function cpuProfileEnv(dir: string): Promise<{ NODE_OPTIONS: string; CRUCIBLE_CPU_PROFILE_DIR: string }> {
  const file = path.join(dir, 'cpu-profile.preload.mjs');
  await writeFile(file, preload);
  return { NODE_OPTIONS: `--import=${file}`, CRUCIBLE_CPU_PROFILE_DIR: dir };
}

/** The part of a V8 `.cpuprofile` the summary reads. */
export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }[];
  startTime: number;
  endTime: number;
  samples: number[];
}

/** Who owns a script: an npm package, Node itself, or Crucible's own sources. */
export function ownerOf(url: string): string {
  if (url === '') return '(V8: gc, idle, native)';
  if (url.startsWith('node:')) return 'node (core)';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const [scope = '', name = ''] = url.slice(nm + '/node_modules/'.length).split('/');
    return scope.startsWith('@') ? `${scope}/${name}` : scope;
  }
  const m = /\/(apps|packages)\/(.+?)\/src\//.exec(url);
  return m ? `crucible ${m[1]}/${m[2]}` : url;
}

/** Self time (ms) per function and per owner, from a profile's sample counts. */
export function selfTimes(profile: CpuProfile): { functions: Map<string, number>; owners: Map<string, number>; totalMs: number } {
  const totalMs = (profile.endTime - profile.startTime) / 1000;
  const perSample = profile.samples.length > 0 ? totalMs / profile.samples.length : 0;
  const hits = new Map<number, number>();
  for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
  const functions = new Map<string, number>();
  const owners = new Map<string, number>();
  for (const node of profile.nodes) {
    const n = hits.get(node.id) ?? 0;
    if (n === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const owner = ownerOf(url);
    const where = url ? `${owner === url ? path.basename(url) : `${owner}: ${path.basename(url)}`}:${lineNumber + 1}` : owner;
    const name = `${functionName || '(anonymous)'} — ${where}`;
    functions.set(name, (functions.get(name) ?? 0) + n * perSample);
    owners.set(owner, (owners.get(owner) ?? 0) + n * perSample);
  }
  return { functions, owners, totalMs };
}

/**
 * A profile as Markdown: the heading, then the `top` functions and the 15 costliest owners
 * by self time, in ms, % of the profile and µs per answered request.
 */
export function profileMarkdown(profile: CpuProfile, o: { title: string; answered: number; rps: number; loadAverage: readonly number[]; top: number }): string {
  const { functions, owners, totalMs } = selfTimes(profile);
  const per = Math.max(1, o.answered);
  const row = ([name, ms]: [string, number]) => `| ${name.replaceAll('|', '\\|')} | ${ms.toFixed(0)} | ${((100 * ms) / totalMs).toFixed(1)} | ${((1000 * ms) / per).toFixed(1)} |`;
  const byTime = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]);
  const busyMs = [...functions].filter(([name]) => !name.startsWith('(idle)')).reduce((a, [, ms]) => a + ms, 0);
  return [
    `# ${o.title}`,
    '',
    `${o.answered} answered (${o.rps.toFixed(0)}/s), load average ${o.loadAverage.map((l) => l.toFixed(1)).join(' ')}; profile ${totalMs.toFixed(0)} ms, ` +
      `of it not idle ${busyMs.toFixed(0)} ms = ${((1000 * busyMs) / per).toFixed(0)} µs per answered request.`,
    '',
    '| function (self time) | ms | % of profile | µs / request |',
    '|---|---:|---:|---:|',
    ...byTime(functions).slice(0, o.top).map(row),
    '',
    '| owner (self time) | ms | % of profile | µs / request |',
    '|---|---:|---:|---:|',
    ...byTime(owners).slice(0, 15).map(row),
    '',
  ].join('\n');
}
