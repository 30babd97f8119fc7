import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { InstrumentError } from '@crucible/instrument-kit';
import { onTeardown } from './cleanup.js';
import { freePort } from './ports.js';

/** How to install redis-server, as every "not found" message says it. */
const installHint = 'run `bash tools/install-redis.sh` (Nx test targets that need it run it first as `tools:install-redis`), or set REDIS_SERVER to a redis-server binary';

/**
 * The redis-server binary to run: `REDIS_SERVER`, else `redis-server` on PATH, else
 * `/usr/bin/redis-server` (Debian's package). Throws naming `tools/install-redis.sh` when none
 * is executable.
 */
export function resolveRedisServer(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env['REDIS_SERVER'];
  const candidates = fromEnv ? [fromEnv] : [...(env['PATH'] ?? '').split(path.delimiter).filter(Boolean).map((d) => path.join(d, 'redis-server')), '/usr/bin/redis-server'];
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // next candidate
    }
  }
  throw new InstrumentError('app_start_failed', `redis-server not found ${fromEnv ? `at ${fromEnv} (REDIS_SERVER)` : 'on PATH or at /usr/bin/redis-server'}: ${installHint}`);
}

/** Options of {@link startRedis}. */
export interface StartRedisOptions {
  /** An external Redis (e.g. `REDIS_URL`): checked with PING, never stopped. Unset = a redis-server of the testbed's own. */
  readonly url?: string | undefined;
  /** Binary to run (default {@link resolveRedisServer}). */
  readonly binary?: string;
  /** How long to wait for PING to answer (default 10 s). */
  readonly timeoutMs?: number;
}

/** A Redis the system under test can use. */
export interface RedisServer extends AsyncDisposable {
  /** e.g. `redis://127.0.0.1:40123`. */
  readonly url: string;
  /** `embedded` when the testbed started it, `external` when it came from `REDIS_URL`. */
  readonly kind: 'embedded' | 'external';
  readonly host: string;
  readonly port: number;
  /** Whether it answers PING within `timeoutMs` (default 500 ms). */
  ping(timeoutMs?: number): Promise<boolean>;
  /**
   * Takes it away as a crash would: SIGKILL (every connection reset, every entry lost). The
   * port stays reserved for {@link RedisServer.restart}. Embedded only.
   */
  kill(): Promise<void>;
  /** Starts it again, empty, on the same port, and waits for PING. Embedded only. */
  restart(): Promise<void>;
  /**
   * Freezes it (SIGSTOP): connections stay open and commands are accepted by the kernel but
   * never answered, which is what a stuck Redis looks like to a client. Embedded only.
   */
  freeze(): Promise<void>;
  /** Lets a frozen server go on (SIGCONT). */
  thaw(): Promise<void>;
  /** Stops it (SIGTERM, then SIGKILL after 3 s) and removes its directory; nothing for an external one. */
  stop(): Promise<void>;
}

/** Sends one inline command and resolves to the first reply line (`+PONG`, `-ERR …`), or rejects. */
function command(host: string, port: number, line: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    let got = '';
    const done = (err?: Error) => {
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(got.split('\r\n')[0] ?? '');
    };
    const timer = setTimeout(() => done(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    socket.setEncoding('utf8');
    socket.once('connect', () => socket.write(`${line}\r\n`));
    socket.on('data', (chunk: string) => {
      got += chunk;
      if (got.includes('\r\n')) done();
    });
    socket.once('error', (e) => done(e));
  });
}

async function pingOnce(host: string, port: number, timeoutMs: number, password?: string): Promise<boolean> {
  try {
    if (password) {
      const auth = await command(host, port, `AUTH ${password}`, timeoutMs);
      if (!auth.startsWith('+OK')) return false;
    }
    return (await command(host, port, 'PING', timeoutMs)).startsWith('+PONG');
  } catch {
    return false;
  }
}

async function waitPing(host: string, port: number, timeoutMs: number, exited: () => string | undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const gone = exited();
    if (gone) throw new InstrumentError('app_start_failed', `redis-server exited before answering PING on port ${port}: ${gone}`);
    if (await pingOnce(host, port, 500)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new InstrumentError('app_start_failed', `redis-server did not answer PING on 127.0.0.1:${port} within ${timeoutMs} ms`);
}

function waitExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * Starts a real redis-server on a free port in a fresh temp dir (no persistence: `--save ''`,
 * `--appendonly no`; bound to 127.0.0.1) and waits for PING; or, when `url` is given
 * (`REDIS_URL`), checks that the external one answers PING. Stopping (or SIGINT/SIGTERM through
 * the testbed's teardown) removes the process and its directory.
 *
 * @example
 * await using redis = await startRedis({ url: process.env.REDIS_URL });
 * console.log(redis.url); // redis://127.0.0.1:40123
 */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisServer> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  if (options.url) return external(options.url, timeoutMs);
  const binary = options.binary ?? resolveRedisServer();
  const dir = await mkdtemp(path.join(tmpdir(), 'crucible-redis-'));
  const port = await freePort();
  const host = '127.0.0.1';
  let child: ChildProcess | undefined;
  let output = '';
  const spawnServer = async () => {
    output = '';
    const c = spawn(binary, ['--port', String(port), '--bind', host, '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no', '--protected-mode', 'yes', '--loglevel', 'warning'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = c;
    const keep = (chunk: Buffer) => (output = (output + chunk.toString('utf8')).slice(-8192));
    c.stdout?.on('data', keep);
    c.stderr?.on('data', keep);
    let spawnError: string | undefined;
    c.once('error', (e) => (spawnError = e.message));
    await waitPing(host, port, timeoutMs, () =>
      spawnError ?? (c.exitCode !== null || c.signalCode !== null ? `${c.signalCode ?? `code ${c.exitCode}`}: ${output.trim().slice(-2000)}` : undefined),
    );
  };
  const signal = (sig: NodeJS.Signals) => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill(sig);
  };
  const kill = async () => {
    if (!child) return;
    signal('SIGCONT');
    signal('SIGKILL');
    await waitExit(child);
  };
  const stop = onTeardown(async () => {
    if (child) {
      signal('SIGCONT');
      signal('SIGTERM');
      const c = child;
      const timer = setTimeout(() => c.kill('SIGKILL'), 3000);
      await waitExit(c);
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  });
  try {
    await spawnServer();
  } catch (err) {
    await kill();
    await stop();
    throw err;
  }
  return {
    url: `redis://${host}:${port}`,
    kind: 'embedded',
    host,
    port,
    ping: (ms = 500) => pingOnce(host, port, ms),
    kill,
    async restart() {
      await kill();
      await spawnServer();
    },
    async freeze() {
      signal('SIGSTOP');
    },
    async thaw() {
      signal('SIGCONT');
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

async function external(url: string, timeoutMs: number): Promise<RedisServer> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new InstrumentError('bad_argument', 'REDIS_URL is not a valid URL: expected redis://[:password@]host:port');
  }
  if (u.protocol !== 'redis:') throw new InstrumentError('bad_argument', `REDIS_URL must start with redis:// (got ${u.protocol}//)`);
  const host = u.hostname;
  const port = Number(u.port || 6379);
  const password = u.password ? decodeURIComponent(u.password) : undefined;
  if (!(await pingOnce(host, port, Math.min(timeoutMs, 5000), password))) {
    throw new InstrumentError('database_unreachable', `REDIS_URL: ${host}:${port} does not answer PING`);
  }
  const notOurs = async () => {
    throw new InstrumentError('bad_argument', 'the Redis from REDIS_URL is not the testbed\'s own: it cannot be killed, restarted or frozen');
  };
  const stop = async () => {};
  return {
    url,
    kind: 'external',
    host,
    port,
    ping: (ms = 500) => pingOnce(host, port, ms, password),
    kill: notOurs,
    restart: notOurs,
    freeze: notOurs,
    thaw: notOurs,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
