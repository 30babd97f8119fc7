import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { InstrumentError, toolsBinDir } from '@crucible/instrument-kit';
import { Chaos } from './client.js';
import { killOnExit, type TeardownHook } from './cleanup.js';
import { freePort } from './ports.js';

/** Where `tools/install-toxiproxy.sh` puts the binary. */
export const defaultToxiproxyServerPath = path.join(toolsBinDir(), 'toxiproxy-server');

/** toxiproxy-server is not installed; the message says how to install it. */
export class ToxiproxyMissingError extends InstrumentError<'toxiproxy_missing'> {
  override name = 'ToxiproxyMissingError';
  constructor(message: string) {
    super('toxiproxy_missing', message);
  }
}

/**
 * The toxiproxy-server binary to run: `TOXIPROXY_SERVER`, else `.tools/bin/toxiproxy-server`.
 * Throws {@link ToxiproxyMissingError} naming `tools/install-toxiproxy.sh` when it is missing.
 */
export function resolveToxiproxyServer(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env['TOXIPROXY_SERVER'];
  const binary = fromEnv || defaultToxiproxyServerPath;
  try {
    accessSync(binary, constants.X_OK);
  } catch {
    throw new ToxiproxyMissingError(
      `toxiproxy-server not found at ${binary}${fromEnv ? ' (TOXIPROXY_SERVER)' : ''}: run \`bash tools/install-toxiproxy.sh\` ` +
        `(it installs the pinned version into .tools/bin; Nx test targets that need it run it first as \`tools:install-toxiproxy\`), ` +
        `or set TOXIPROXY_SERVER to a toxiproxy-server binary`,
    );
  }
  return binary;
}

/** Options of {@link startToxiproxyServer}. */
export interface StartToxiproxyOptions {
  /** Binary to run (default {@link resolveToxiproxyServer}). */
  binary?: string;
  /** API port (default: a free one). Proxies pick their own free ports. */
  port?: number;
  /** How long to wait for the API to answer (default 10 s). */
  timeoutMs?: number;
  /**
   * How to register the teardown. Pass the testbed's `onTeardown` so SIGINT/SIGTERM stop
   * the server too; the default only kills it when this process exits.
   */
  onTeardown?: TeardownHook;
}

/** A running toxiproxy-server. */
export interface ToxiproxyServer extends AsyncDisposable {
  /** Base URL of its API, e.g. `http://127.0.0.1:40123`. */
  readonly url: string;
  readonly pid: number;
  /** Typed client for it. */
  readonly chaos: Chaos;
  /** What it logged (last 64 KiB), for diagnosis. */
  readonly output: () => string;
  /** Stops the server (SIGTERM, SIGKILL after 3 s); every proxy goes with it. */
  stop(): Promise<void>;
}

/**
 * Starts toxiproxy-server on a free port of 127.0.0.1 and waits until its API answers.
 *
 * @example
 * await using toxiproxy = await startToxiproxyServer();
 * const pg = await toxiproxy.chaos.createProxy({ name: 'postgres', upstream: '127.0.0.1:5432' });
 */
export async function startToxiproxyServer(options: StartToxiproxyOptions = {}): Promise<ToxiproxyServer> {
  const binary = options.binary ?? resolveToxiproxyServer();
  const port = options.port ?? (await freePort());
  const timeoutMs = options.timeoutMs ?? 10_000;
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(binary, ['-host', '127.0.0.1', '-port', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-64 * 1024);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let spawnError: Error | undefined;
  child.once('error', (err) => {
    spawnError = err;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const running = () => child.exitCode === null && child.signalCode === null && !spawnError;

  const kill = async () => {
    if (!running()) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  };
  const unregister = (options.onTeardown ?? killOnExit(() => child.kill('SIGKILL')))(kill);
  const chaos = new Chaos(url);

  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!running()) {
      await unregister();
      throw new InstrumentError(
        'app_start_failed',
        `toxiproxy-server (${binary}) exited before answering on ${url}: ${spawnError?.message ?? `code ${child.exitCode}`} ${output.trim().slice(-1000)}`,
      );
    }
    try {
      await chaos.version();
      break;
    } catch (err) {
      if (Date.now() > deadline) {
        await unregister();
        throw new InstrumentError('app_start_failed', `toxiproxy-server did not answer on ${url} within ${timeoutMs} ms: ${(err as Error).message}`, { cause: err });
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  const stop = () => unregister();
  return { url, pid: child.pid ?? -1, chaos, output: () => output, stop, [Symbol.asyncDispose]: stop };
}
