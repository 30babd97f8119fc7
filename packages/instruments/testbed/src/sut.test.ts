import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { describe, expect, it } from 'vitest';
import { workspaceRoot as findRoot } from '@crucible/instrument-kit';
import { discoverApps, startApp } from './apps.js';

const workspaceRoot = findRoot();
import { freePort } from './ports.js';
import { startSut } from './sut.js';
import { testAdminToken, testDatabase, testServer } from './testing/index.js';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('startSut', () => {
  it('starts the apps on a fresh database, keeps keys in their project, and leaves nothing behind', async () => {
    const sut = await startSut({ server: testServer(), apps: ['task-api', 'id-service'] });
    const pids = Object.values(sut.apps).flat().map((a) => a.pid);
    try {
      expect(Object.keys(sut.summary())).toEqual(['task_api_url', 'id_service_url', 'database_url', 'admin_token']);
      for (const app of ['task-api', 'id-service']) {
        const health = await fetch(`${sut.url(app)}/health`);
        expect(health.status).toBe(200);
      }
      const alpha = await sut.createProject('alpha');
      await sut.createProject('beta', 'id-service');
      // Projects live in the shared database: a key made through one app works on the other.
      await expect(sut.createProject('alpha', 'id-service')).rejects.toThrow(/409/);
      expect(alpha.api_key).toMatch(/^ck_/);
    } finally {
      await sut.stop();
    }
    for (const pid of pids) expect(alive(pid)).toBe(false);
  });
});

describe('start-up faults', () => {
  const taskApi = () => {
    const m = discoverApps().find((a) => a.name === 'task-api');
    if (!m) throw new Error('task-api not found');
    return m;
  };
  // A well-formed ID service URL (never called: start-up stops first), so each case shows the variable it is about.
  const ids = { ID_SERVICE_URL: 'http://127.0.0.1:9' };

  it('stops on a malformed DATABASE_URL, naming it', async () => {
    const t0 = Date.now();
    await expect(
      startApp(taskApi(), { env: { ...ids, DATABASE_URL: 'not-a-url', CRUCIBLE_ADMIN_TOKEN: testAdminToken } }),
    ).rejects.toThrow(/exited \(code 1\).*DATABASE_URL must look like postgres/);
    expect(Date.now() - t0).toBeLessThan(10_000);
  });

  it('stops without an admin token, naming it', async () => {
    const db = await testDatabase();
    await expect(startApp(taskApi(), { env: { ...ids, DATABASE_URL: db.url, CRUCIBLE_ADMIN_TOKEN: '' } })).rejects.toThrow(
      /exited \(code 1\).*CRUCIBLE_ADMIN_TOKEN is required/,
    );
  });

  it('stops when the port is taken, naming the port', async () => {
    const db = await testDatabase();
    const blocker = net.createServer().listen(0, '127.0.0.1');
    await new Promise((r) => blocker.once('listening', r));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      await expect(
        startApp(taskApi(), { env: { ...ids, DATABASE_URL: db.url, CRUCIBLE_ADMIN_TOKEN: testAdminToken, PORT: String(port) } }),
      ).rejects.toThrow(new RegExp(`exited \\(code 1\\).*PORT ${port} on 127.0.0.1 is already in use`));
    } finally {
      blocker.close();
    }
  });

  it('stops within 10 s when the database is unreachable, naming it', async () => {
    const port = await freePort();
    const t0 = Date.now();
    await expect(
      startApp(taskApi(), {
        env: { ...ids, DATABASE_URL: `postgres://postgres:x@127.0.0.1:${port}/db`, CRUCIBLE_ADMIN_TOKEN: testAdminToken, DB_STARTUP_TIMEOUT_MS: '1000' },
      }),
    ).rejects.toThrow(new RegExp(`database unreachable at DATABASE_URL \\(127.0.0.1:${port}\\)`));
    expect(Date.now() - t0).toBeLessThan(10_000);
  });
});

describe('startSut balance', () => {
  it("puts nginx in front of the gateway's replicas with the WebSocket upgrade proxied (its manifest says websocket)", async () => {
    const sut = await startSut({ server: testServer(), apps: ['metrics-gateway'], replicas: { 'metrics-gateway': 2 }, balance: ['metrics-gateway'] });
    try {
      const statuses = await Promise.all(
        Array.from({ length: 4 }, () =>
          new Promise<number>((resolve, reject) => {
            const req = http.request(`${sut.balancedUrl('metrics-gateway')}/ws`, { headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': randomBytes(16).toString('base64') } });
            req.once('upgrade', (res, socket) => {
              socket.destroy();
              resolve(res.statusCode ?? 0);
            });
            req.once('response', (res) => {
              res.resume();
              resolve(res.statusCode ?? 0);
            });
            req.once('error', reject);
            req.end();
          }),
        ),
      );
      expect(statuses).toEqual([101, 101, 101, 101]);
    } finally {
      await sut.stop();
    }
  });
});

describe('npm run sut', () => {
  /** Starts the CLI with `args`; resolves with its JSON line, or rejects with its exit code and stderr. */
  function sutCli(args: readonly string[]) {
    const env = { ...process.env };
    delete env['DATABASE_URL'];
    delete env['REDIS_URL'];
    const child = spawn(process.execPath, ['--conditions=@crucible/source', '--import', 'tsx', path.join(workspaceRoot, 'packages/instruments/testbed/src/cli.ts'), ...args], {
      cwd: path.join(workspaceRoot, 'packages/instruments/testbed'),
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const line = new Promise<string>((resolve, reject) => {
      readline.createInterface({ input: child.stdout! }).once('line', resolve);
      child.once('exit', (code) => reject(new Error(`sut exited with ${code}: ${stderr}`)));
    });
    return { child, line, exited, stderr: () => stderr };
  }

  it('prints the JSON line within 30 s and leaves no postgres and no temp dir after Ctrl-C', async () => {
    const { child, line: first, exited } = sutCli([]);
    const t0 = Date.now();
    const line = await first;
    expect(Date.now() - t0).toBeLessThan(30_000);
    const info = JSON.parse(line) as Record<string, string>;
    expect(Object.keys(info)).toEqual(expect.arrayContaining(['task_api_url', 'id_service_url', 'database_url', 'admin_token']));
    const pgPort = new URL(info['database_url']!).port;
    expect((await fetch(`${info['task_api_url']}/health`)).status).toBe(200);
    const dir = postgresDataDir(pgPort);
    expect(dir && existsSync(dir)).toBe(true);

    child.kill('SIGINT');
    expect(await exited).toBe(130);
    const stillRunning = await postgresOnPort(pgPort);
    expect(stillRunning).toBe(false);
    expect(existsSync(dir!)).toBe(false);
  });

  it('--replicas task-api=2 --balance task-api --redis: two task-api processes behind nginx, one Redis, every one gone after Ctrl-C', async () => {
    const { child, line, exited } = sutCli(['--apps', 'task-api', '--replicas', 'task-api=2', '--balance', 'task-api', '--redis']);
    const info = JSON.parse(await line) as Record<string, string>;
    expect(Object.keys(info)).toEqual(expect.arrayContaining(['task_api_url', 'task_api_balanced_url', 'redis_url', 'id_service_url']));
    const balanced = info['task_api_balanced_url']!;
    const healths = await Promise.all(Array.from({ length: 8 }, () => fetch(`${balanced}/health`).then((r) => r.status)));
    expect(healths.every((s) => s === 200)).toBe(true);
    // Round robin over two upstreams: the balanced port is nginx's, not a replica's.
    expect(new URL(balanced).port).not.toBe(new URL(info['task_api_url']!).port);
    const ports = [new URL(balanced).port, new URL(info['redis_url']!).port, new URL(info['database_url']!).port];
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    for (const port of ports) expect(await listening(Number(port))).toBe(false);
  });

  it('refuses a malformed --replicas and a --balance of an app not started, naming the flag, before starting anything', async () => {
    for (const args of [['--replicas', 'task-api=0'], ['--replicas', 'nope=2'], ['--apps', 'id-service', '--balance', 'task-api']]) {
      const run = sutCli(args);
      await expect(run.line).rejects.toThrow(/exited with 2/);
      expect(run.stderr()).toMatch(args.includes('--balance') ? /--balance: "task-api"/ : /--replicas: "(task-api=0|nope)"/);
    }
  });
});

/** Whether something accepts connections on 127.0.0.1:port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** The data dir (`-D`) of the postgres process listening on `port`, from /proc. */
function postgresDataDir(port: string): string | undefined {
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    let cmdline = '';
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    const args = cmdline.split('\0');
    if (args[0]?.endsWith('postgres') && args.includes(port)) return args[args.indexOf('-D') + 1];
  }
  return undefined;
}

async function postgresOnPort(port: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(Number(port), '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
