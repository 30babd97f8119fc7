import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { onTeardown } from './cleanup.js';
import { InstrumentError, workspaceRoot } from '@crucible/instrument-kit';


/** An app of the system under test, as its package.json `crucible` field declares it. */
export interface AppManifest {
  /** Service name, e.g. `task-api`. */
  readonly name: string;
  /** Absolute path of the TypeScript entry point. */
  readonly entry: string;
  readonly dir: string;
  /** Whether the app needs `DATABASE_URL`. */
  readonly database: boolean;
  /**
   * The other apps it calls, by the variable that carries the URL, e.g.
   * `{ ID_SERVICE_URL: 'id-service' }` (`"crucible": { "needs": … }`): the testbed starts them
   * first and passes their URL.
   */
  readonly needs: Readonly<Record<string, string>>;
  /** Whether clients hold WebSocket connections to it (`"crucible": { "websocket": true }`): a balancer in front of it proxies the upgrade. */
  readonly websocket: boolean;
}

/**
 * Finds the apps of the system under test: every `apps/<name>/package.json` with a
 * `"crucible": { "service": …, "entry": … }` field. The testbed starts apps as processes by
 * path and never imports them.
 */
export function discoverApps(root = workspaceRoot()): AppManifest[] {
  const appsDir = path.join(root, 'apps');
  if (!existsSync(appsDir)) return [];
  const found: AppManifest[] = [];
  for (const dir of readdirSync(appsDir).sort()) {
    const manifest = path.join(appsDir, dir, 'package.json');
    if (!existsSync(manifest)) continue;
    const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as { crucible?: { service?: string; entry?: string; database?: boolean; needs?: Record<string, string>; websocket?: boolean } };
    if (!pkg.crucible?.service || !pkg.crucible.entry) continue;
    found.push({
      name: pkg.crucible.service,
      entry: path.join(appsDir, dir, pkg.crucible.entry),
      dir: path.join(appsDir, dir),
      database: pkg.crucible.database ?? true,
      needs: Object.freeze({ ...pkg.crucible.needs }),
      websocket: pkg.crucible.websocket ?? false,
    });
  }
  return found;
}

/** One structured log event an app wrote (a JSON log line with an `event` field), e.g. `dependency_down`. */
export interface AppLogEvent {
  readonly event: string;
  /** The line's own time, when it carries one (`at`, ISO 8601), else when the testbed read it; epoch ms. */
  readonly at: number;
  readonly fields: Readonly<Record<string, unknown>>;
}

/** Log events kept per process, newest last (older ones dropped past this). */
const maxEvents = 5000;

/** One running app process. */
export interface RunningApp extends AsyncDisposable {
  readonly name: string;
  readonly url: string;
  readonly pid: number;
  /** Everything the process wrote to stderr (its JSON logs), for diagnosis. */
  readonly stderr: () => string;
  /**
   * Every structured log event it wrote so far (JSON lines with an `event` field, on stdout
   * or stderr), kept apart from `stderr`'s tail so a flood of request errors cannot push them out.
   */
  readonly events: () => readonly AppLogEvent[];
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  /** Kills the process at once (SIGKILL), as a crash would. */
  kill(): Promise<void>;
}

export interface StartAppOptions {
  env?: Record<string, string | undefined>;
  /** How long to wait for the `listening` line and a healthy `/health` (default 30 s). */
  timeoutMs?: number;
  /** Wait for `/health` to answer 200 (default true). */
  waitHealthy?: boolean;
}

function waitExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * Starts one app as a child process (Node with tsx on the app's sources), waits for the
 * `{"event":"listening"}` line it prints, then for `/health`. A process that exits first
 * rejects with what it printed, so a start-up problem reads as the app said it.
 */
export async function startApp(app: AppManifest, options: StartAppOptions = {}): Promise<RunningApp> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const child = spawn(process.execPath, ['--conditions=@crucible/source', '--import', 'tsx', app.entry], {
    cwd: app.dir,
    env: { ...process.env, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'warn', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let partial = '';
  const events: AppLogEvent[] = [];
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-64 * 1024);
    const lines = (partial + chunk).split('\n');
    partial = (lines.pop() ?? '').slice(-64 * 1024);
    for (const line of lines) {
      const e = eventOf(line);
      if (e) events.push(e);
    }
    if (events.length > maxEvents) events.splice(0, events.length - maxEvents);
  });
  const stop = async (graceMs = 5000) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await waitExit(child);
    clearTimeout(timer);
  };
  const unregister = onTeardown(() => stop());
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new InstrumentError('app_start_failed', `${app.name} did not start within ${timeoutMs} ms; stderr: ${stderr.trim().slice(-2000)}`));
    }, timeoutMs);
    const lines = readline.createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      // pino writes to stdout: log events come this way too (kept after the listening line).
      const e = eventOf(line);
      if (e) {
        events.push(e);
        if (events.length > maxEvents) events.splice(0, events.length - maxEvents);
      }
      try {
        const msg = JSON.parse(line) as { event?: string; url?: string };
        if (msg.event === 'listening' && msg.url) {
          clearTimeout(timer);
          resolve(msg.url);
        }
      } catch {
        // not a JSON line; ignore
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new InstrumentError('app_start_failed', `${app.name} exited (${signal ?? `code ${code}`}) before listening: ${stderr.trim().slice(-2000)}`));
    });
  }).catch(async (err: unknown) => {
    await unregister();
    throw err;
  });
  if (options.waitHealthy ?? true) await waitHealthy(url, timeoutMs);
  const stopOnce = async (graceMs?: number) => {
    await stop(graceMs);
    await unregister();
  };
  return {
    name: app.name,
    url,
    pid: child.pid!,
    stderr: () => stderr,
    events: () => events,
    stop: stopOnce,
    kill: async () => {
      child.kill('SIGKILL');
      await waitExit(child);
      await unregister();
    },
    [Symbol.asyncDispose]: () => stopOnce(),
  };
}

function eventOf(line: string): AppLogEvent | undefined {
  if (!line.startsWith('{') || !line.includes('"event"')) return undefined;
  try {
    const fields = JSON.parse(line) as Record<string, unknown>;
    if (typeof fields['event'] !== 'string') return undefined;
    const at = typeof fields['at'] === 'string' ? Date.parse(fields['at']) : NaN;
    return { event: fields['event'], at: Number.isNaN(at) ? Date.now() : at, fields };
  } catch {
    return undefined;
  }
}

/** Polls `GET /health` until it answers 200. */
export async function waitHealthy(url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
      if (res.status === 200) return;
      last = `status ${res.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new InstrumentError('app_start_failed', `${url}/health did not answer 200 within ${timeoutMs} ms (${last})`);
}
