import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { InstrumentError } from '@crucible/instrument-kit';
import { onTeardown } from './cleanup.js';
import { freePort } from './ports.js';

/** How to install nginx, as every "not found" message says it. */
const installHint = 'run `bash tools/install-nginx.sh` (Nx targets that need it run it first as `tools:install-nginx`), or set NGINX to an nginx binary';

/**
 * The nginx binary to run: `NGINX`, else `nginx` on PATH, else `/usr/sbin/nginx` (where
 * Debian's package puts it, outside a non-root PATH). Throws naming `tools/install-nginx.sh`
 * when none is executable.
 */
export function resolveNginx(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env['NGINX'];
  const candidates = fromEnv ? [fromEnv] : [...(env['PATH'] ?? '').split(path.delimiter).filter(Boolean).map((d) => path.join(d, 'nginx')), '/usr/sbin/nginx'];
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // next candidate
    }
  }
  throw new InstrumentError('app_start_failed', `nginx not found ${fromEnv ? `at ${fromEnv} (NGINX)` : 'on PATH or at /usr/sbin/nginx'}: ${installHint}`);
}

/** Options of {@link startNginx}. */
export interface StartNginxOptions {
  /** Base URLs of the replicas to balance, e.g. `http://127.0.0.1:40123`. */
  readonly upstreams: readonly string[];
  /**
   * Round-robin weight per upstream (default 1 each). Only a planted-defect test sets it: a
   * weighted upstream is the uneven balancer the replica-share verdict must catch.
   */
  readonly weights?: readonly number[];
  /**
   * When a request goes to the next upstream (default `error timeout http_502`). Only a
   * planted-defect test sets it, to `off`: the balancer without failover that the
   * killed-replica verdicts must catch.
   */
  readonly nextUpstream?: string;
  /** Failed attempts within `failTimeoutS` after which an upstream is skipped for `failTimeoutS` (passive health check; default 1). */
  readonly maxFails?: number;
  /** Default 5 s. */
  readonly failTimeoutS?: number;
  /** How long connecting to an upstream may take before the next one is tried (default 300 ms). */
  readonly connectTimeoutMs?: number;
  /**
   * How long an upstream may take to answer, or a proxied WebSocket may stay silent (default
   * 15 s, past the suites' 10 s hang bound; 1 h with `websocket`).
   */
  readonly readTimeoutMs?: number;
  /**
   * Proxy WebSocket upgrades (default false): HTTP/1.1 with the client's `Upgrade` header and
   * `Connection: upgrade` when it asked for one (an empty Connection, which keeps the upstream
   * keep-alive, when it did not), and a read timeout of an hour, as a held connection is
   * silent between messages. Without it nginx drops the hop-by-hop `Upgrade` header and a
   * WebSocket handshake reaches the upstream as a plain GET.
   */
  readonly websocket?: boolean;
  /** Idle keep-alive connections each worker keeps to the upstreams (default 64). */
  readonly keepalive?: number;
  /** Default 1: on 2 shared cores the replicas need the CPU more than the balancer. */
  readonly workerProcesses?: number;
  /** Binary to run (default {@link resolveNginx}). */
  readonly binary?: string;
  /** How long to wait for the port to accept connections (default 10 s). */
  readonly timeoutMs?: number;
}

/** A running nginx in front of replicas. */
export interface Nginx extends AsyncDisposable {
  /** Its base URL, e.g. `http://127.0.0.1:40125`. */
  readonly url: string;
  readonly port: number;
  /** The master process. */
  readonly pid: number;
  readonly upstreams: readonly string[];
  /** The generated configuration, for diagnosis and report evidence. */
  readonly config: string;
  /** Its error log so far. */
  errorLog(): Promise<string>;
  /**
   * Access log lines so far, one per request: `<epoch s.ms> <status> <upstream addr(s)> <method>`
   * (a retried request lists every upstream it tried, comma-separated). Buffered up to 1 s.
   */
  accessLog(): Promise<string[]>;
  /** Stops nginx (SIGQUIT, then SIGKILL after 3 s) and removes its directory. */
  stop(): Promise<void>;
}

const hostPort = (url: string) => {
  const u = new URL(url);
  return `${u.hostname}:${u.port || (u.protocol === 'https:' ? 443 : 80)}`;
};

/**
 * The nginx configuration of {@link startNginx}: one worker, round robin with keep-alive to
 * the upstreams, passive health checks, and retries on another upstream only where a retry
 * is safe (`proxy_next_upstream error timeout http_502` without `non_idempotent`: a POST is
 * passed on only when it never reached the first upstream, e.g. connection refused).
 * Every path is under `dir`, so nothing needs root.
 */
export function nginxConfig(o: StartNginxOptions & { port: number; dir: string }): string {
  if (o.upstreams.length === 0) throw new InstrumentError('bad_argument', 'startNginx needs at least one upstream');
  if (o.weights && o.weights.length !== o.upstreams.length) throw new InstrumentError('bad_argument', `startNginx: ${o.weights.length} weights for ${o.upstreams.length} upstreams`);
  const servers = o.upstreams.map((u, i) => {
    const weight = o.weights?.[i];
    return `    server ${hostPort(u)} max_fails=${o.maxFails ?? 1} fail_timeout=${o.failTimeoutS ?? 5}s${weight && weight !== 1 ? ` weight=${weight}` : ''};`;
  });
  const p = (name: string) => path.join(o.dir, name);
  const readTimeoutMs = o.readTimeoutMs ?? (o.websocket ? 3_600_000 : 15_000);
  const upgrade = o.websocket
    ? `
  # An upgrade passes Upgrade and Connection: upgrade on; any other request an empty Connection.
  map $http_upgrade $connection_upgrade {
    default upgrade;
    '' '';
  }`
    : '';
  const connection = o.websocket
    ? `      # HTTP/1.1 and the client's Upgrade: WebSocket upgrades pass; other requests keep the upstream connections open.
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;`
    : `      # HTTP/1.1 with an empty Connection header keeps the upstream connections open.
      proxy_http_version 1.1;
      proxy_set_header Connection "";`;
  return `# Generated by @crucible/testbed startNginx.
worker_processes ${o.workerProcesses ?? 1};
pid ${p('nginx.pid')};
error_log ${p('error.log')} warn;
events { worker_connections 4096; }
http {
  log_format crucible '$msec $status $upstream_addr $request_method';
  access_log ${p('access.log')} crucible buffer=64k flush=1s;
  client_body_temp_path ${p('client_body')};
  proxy_temp_path ${p('proxy')};
  fastcgi_temp_path ${p('fastcgi')};
  uwsgi_temp_path ${p('uwsgi')};
  scgi_temp_path ${p('scgi')};${upgrade}
  upstream replicas {
${servers.join('\n')}
    keepalive ${o.keepalive ?? 64};
  }
  server {
    listen 127.0.0.1:${o.port} reuseport;
    keepalive_requests 100000;
    location / {
      proxy_pass http://replicas;
${connection}
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_connect_timeout ${o.connectTimeoutMs ?? 300}ms;
      proxy_read_timeout ${readTimeoutMs}ms;
      proxy_send_timeout ${readTimeoutMs}ms;
      # No non_idempotent: a POST that reached an upstream is never sent to a second one.
      # A 503 is the app's own answer (database down, pool exhausted): passed through, not retried.
      proxy_next_upstream ${o.nextUpstream ?? 'error timeout http_502'};
      proxy_next_upstream_tries ${Math.min(3, o.upstreams.length)};
      proxy_next_upstream_timeout 5s;
    }
  }
}
`;
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** Resolves once `port` accepts a TCP connection; rejects when `child` exits first or `timeoutMs` passes. */
async function waitListening(child: ChildProcess, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited(child)) throw new Error(`exited (${child.signalCode ?? `code ${child.exitCode}`})`);
    const open = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`did not listen on ${port} within ${timeoutMs} ms`);
}

/**
 * Runs the real nginx binary on a free port in front of `upstreams`, with a configuration
 * generated into a temporary directory ({@link nginxConfig}; `-p <dir> -c <dir>/nginx.conf
 * -g 'daemon off;'`, so its pid file and logs live there too). Resolves once it accepts
 * connections; `stop()` (or `await using`), the end of the process, SIGINT and SIGTERM stop
 * it and remove the directory.
 *
 * @example
 * await using lb = await startNginx({ upstreams: sut.apps['task-api'].map((a) => a.url) });
 * await fetch(`${lb.url}/health`);
 */
export async function startNginx(options: StartNginxOptions): Promise<Nginx> {
  const binary = options.binary ?? resolveNginx();
  const dir = await mkdtemp(path.join(tmpdir(), 'crucible-nginx-'));
  // Run as root, nginx's workers switch to `nobody`, who must reach the temp paths in here.
  await chmod(dir, 0o755);
  let lastError = '';
  // A free port can be taken between asking and binding: try a few.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const config = nginxConfig({ ...options, port, dir });
    const confPath = path.join(dir, 'nginx.conf');
    await writeFile(confPath, config);
    const child = spawn(binary, ['-p', dir, '-c', confPath, '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (c: string) => (stderr = (stderr + c).slice(-16 * 1024)));
    const spawnError = new Promise<never>((_, reject) => child.once('error', reject));
    const stopChild = async () => {
      if (!exited(child)) {
        const gone = new Promise<void>((r) => child.once('exit', () => r()));
        child.kill('SIGQUIT');
        const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
        await gone;
        clearTimeout(timer);
      }
    };
    const unregister = onTeardown(async () => {
      await stopChild();
      await rm(dir, { recursive: true, force: true });
    });
    try {
      await Promise.race([waitListening(child, port, options.timeoutMs ?? 10_000), spawnError]);
    } catch (err) {
      const log = await readFile(path.join(dir, 'error.log'), 'utf8').catch(() => '');
      lastError = `${(err as Error).message}: ${(stderr + log).trim().slice(-2000)}`;
      await stopChild();
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        await unregister();
        throw new InstrumentError('app_start_failed', `nginx not found at ${binary}: ${installHint}`);
      }
      if (/Address already in use/.test(lastError)) continue;
      await unregister();
      throw new InstrumentError('app_start_failed', `nginx (${binary}) did not start: ${lastError}`);
    }
    const stop = () => unregister();
    // Listening means the process started, so it has a pid.
    const pid = child.pid as number;
    return {
      url: `http://127.0.0.1:${port}`,
      port,
      pid,
      upstreams: [...options.upstreams],
      config,
      errorLog: () => readFile(path.join(dir, 'error.log'), 'utf8').catch(() => ''),
      accessLog: async () => (await readFile(path.join(dir, 'access.log'), 'utf8').catch(() => '')).split('\n').filter(Boolean),
      stop,
      [Symbol.asyncDispose]: stop,
    };
  }
  await rm(dir, { recursive: true, force: true });
  throw new InstrumentError('app_start_failed', `nginx (${binary}) found no free port in 3 attempts: ${lastError}`);
}
