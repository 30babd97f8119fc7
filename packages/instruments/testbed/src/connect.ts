// A system somebody else deployed, spoken to over the URLs `npm run sut` prints: the suites
// run against it through the same Sut interface as against the embedded one, and whatever a
// deployed target cannot do (start a replica, inject a fault, hand over its PostgreSQL) throws
// a coded error saying so instead of pretending.
import { readFileSync } from 'node:fs';
import { InstrumentError } from '@crucible/instrument-kit';
import { createProjectResponseSchema } from '@crucible/contracts';
import { discoverApps, type RunningApp } from './apps.js';
import type { Sut } from './sut.js';

/** The JSON line `npm run sut` prints: `<app>_url` per app, `admin_token`, maybe `database_url`. */
export type SutTarget = Readonly<Record<string, string>>;

/** What {@link connectSut} is given besides the target. */
export interface ConnectSutOptions {
  /**
   * Direct URL of the target's database, for seeding and SQL evidence (default the target's
   * `database_url`); `null` for none even when the file has one.
   */
  readonly databaseUrl?: string | null;
}

const notOnTarget = (what: string) => new InstrumentError('not_on_target', `a deployed target cannot ${what}: run the suite on the embedded system (without --target) for that`);

/** The app names a target file holds (`task_api_url` → `task-api`; balanced URLs are not apps). */
export function targetApps(target: SutTarget): string[] {
  return Object.keys(target)
    .filter((k) => k.endsWith('_url') && !k.endsWith('_balanced_url') && !['database_url', 'redis_url', 'toxiproxy_url'].includes(k))
    .map((k) => k.slice(0, -'_url'.length).replaceAll('_', '-'));
}

/**
 * Reads a target file: the one JSON line `npm run sut` prints (a JSON object of strings with
 * an `admin_token` and at least one `<app>_url`). A missing, malformed or incomplete file
 * throws `bad_argument` naming what is wrong.
 */
export function readSutTarget(file: string): SutTarget {
  let raw: string;
  try {
    raw = readFileSync(file, 'utf8');
  } catch (err) {
    throw new InstrumentError('bad_argument', `--target: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)}); it holds the JSON line \`npm run sut\` prints`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new InstrumentError('bad_argument', `--target: ${file} is not JSON; it holds the one JSON line \`npm run sut\` prints`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || Object.values(parsed).some((v) => typeof v !== 'string')) {
    throw new InstrumentError('bad_argument', `--target: ${file} must be a JSON object of strings (task_api_url, id_service_url, …, admin_token)`);
  }
  const target = parsed as SutTarget;
  if (!target['admin_token']) throw new InstrumentError('bad_argument', `--target: ${file} has no admin_token (the suites create their projects through /admin/projects)`);
  if (targetApps(target).length === 0) throw new InstrumentError('bad_argument', `--target: ${file} names no app URL (task_api_url, id_service_url, metrics_gateway_url)`);
  for (const [k, v] of Object.entries(target)) {
    if (k.endsWith('_url') && !URL.canParse(v)) throw new InstrumentError('bad_argument', `--target: ${k} "${v}" in ${file} is not a URL`);
  }
  return target;
}

/** A replica known only by its URL: there is no process here to read, stop or kill. */
function remoteReplica(name: string, url: string): RunningApp {
  const refuse = (what: string) => async () => {
    throw notOnTarget(`${what} ${name} (a replica at ${url} that it does not run)`);
  };
  return {
    name,
    url,
    get pid(): number {
      throw notOnTarget(`give the process id of ${name}`);
    },
    stderr: () => {
      throw notOnTarget(`read the log of ${name}`);
    },
    events: () => {
      throw notOnTarget(`read the log events of ${name}`);
    },
    stop: refuse('stop'),
    kill: refuse('kill'),
    [Symbol.asyncDispose]: async () => undefined,
  };
}

/**
 * The {@link Sut} of an already deployed system: one replica per `<app>_url` of the target,
 * projects created through its admin endpoint, and its database when a URL is given (the
 * target's `database_url` by default). Starting or stopping replicas, chaos, balancers and the
 * testbed's PostgreSQL throw `not_on_target`; `databaseUrl` without one throws `no_database`.
 * `stop()` leaves the system running: it is not ours.
 *
 * @example
 * const sut = connectSut(readSutTarget('sut.json'), { databaseUrl: process.env.DATABASE_URL });
 * const { api_key } = await sut.createProject('alpha');
 */
export function connectSut(target: SutTarget, options: ConnectSutOptions = {}): Sut {
  const names = targetApps(target);
  const adminToken = target['admin_token'] ?? '';
  const databaseUrl = options.databaseUrl === null ? undefined : (options.databaseUrl ?? target['database_url']);
  const apps: Record<string, RunningApp[]> = Object.fromEntries(names.map((n) => [n, [remoteReplica(n, target[`${n.replaceAll('-', '_')}_url`] as string)]]));
  const url = (app: string) => {
    const replica = apps[app]?.[0];
    if (!replica) throw new InstrumentError('unknown_app', `app "${app}" is not in the target (it names ${names.join(', ')})`);
    return replica.url;
  };
  // Projects are created through an app that owns the database, as startSut does.
  const adminApp = () => {
    let withDb: string | undefined;
    try {
      withDb = discoverApps().find((m) => m.database && names.includes(m.name))?.name;
    } catch {
      // Outside the workspace there are no manifests: any app of the target will do.
    }
    return withDb ?? (names[0] as string);
  };
  const stop = async () => undefined;
  return {
    get server(): never {
      throw notOnTarget("hand over the testbed's PostgreSQL server");
    },
    get database(): never {
      throw notOnTarget('hand over a testbed database (templates, drop)');
    },
    get databaseUrl(): string {
      if (!databaseUrl) throw new InstrumentError('no_database', 'inconclusive: no database access (set DATABASE_URL, or database_url in the target file)');
      return databaseUrl;
    },
    adminToken,
    apps,
    get chaos(): never {
      throw notOnTarget('inject faults (no toxiproxy between its apps and PostgreSQL)');
    },
    redis: undefined,
    url,
    balancer: (app) => {
      throw notOnTarget(`control a balancer of ${app}`);
    },
    balancedUrl: (app) => {
      const b = target[`${app.replaceAll('-', '_')}_balanced_url`];
      if (!b) throw new InstrumentError('unknown_app', `the target has no ${app.replaceAll('-', '_')}_balanced_url`);
      return b;
    },
    startReplica: async (app) => {
      throw notOnTarget(`start a replica of ${app}`);
    },
    async createProject(id, via) {
      const res = await fetch(`${url(via ?? adminApp())}/admin/projects`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ id }),
      });
      const body: unknown = await res.json().catch(() => null);
      if (res.status === 409) {
        throw new InstrumentError('sut_request_failed', `project ${id} already exists on the target: the suites create their own projects, so run them against a freshly deployed system`);
      }
      if (res.status !== 201) throw new InstrumentError('sut_request_failed', `creating project ${id} on the target failed: ${res.status} ${JSON.stringify(body)}`);
      return createProjectResponseSchema.parse(body);
    },
    summary: () => ({ ...target }),
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
