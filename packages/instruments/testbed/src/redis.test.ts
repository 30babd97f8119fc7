import { existsSync } from 'node:fs';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { resolveRedisServer, startRedis } from './redis.js';
import { startSut } from './sut.js';
import { testServer } from './testing/index.js';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** One inline command on a fresh connection; resolves to the raw reply, or rejects after `ms`. */
function redisCommand(port: number, line: string, ms = 1000): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port });
    let got = '';
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`no answer within ${ms} ms`));
    }, ms);
    s.setEncoding('utf8');
    s.once('connect', () => s.write(`${line}\r\n`));
    s.on('data', (c: string) => {
      got += c;
      if (got.endsWith('\r\n')) {
        clearTimeout(timer);
        s.destroy();
        resolve(got);
      }
    });
    s.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

describe('startRedis', () => {
  it('runs a real redis-server without persistence on a free port, and stop removes it and its directory', async () => {
    const redis = await startRedis();
    expect(redis.kind).toBe('embedded');
    expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
    expect(redis.port).not.toBe(6379);
    expect(await redisCommand(redis.port, 'SET k v')).toBe('+OK\r\n');
    expect(await redisCommand(redis.port, 'GET k')).toBe('$1\r\nv\r\n');
    // No snapshots and no append-only file: nothing of a run outlives it.
    expect(await redisCommand(redis.port, 'CONFIG GET save')).toBe('*2\r\n$4\r\nsave\r\n$0\r\n\r\n');
    expect(await redisCommand(redis.port, 'CONFIG GET appendonly')).toContain('no');
    const dir = (await redisCommand(redis.port, 'CONFIG GET dir')).split('\r\n')[4] as string;
    expect(existsSync(dir)).toBe(true);
    await redis.stop();
    expect(await redis.ping()).toBe(false);
    expect(existsSync(dir)).toBe(false);
  });

  it('kill takes it away as a crash would, restart brings it back empty on the same port, freeze leaves commands unanswered', async () => {
    await using redis = await startRedis();
    await redisCommand(redis.port, 'SET k v');
    await redis.kill();
    await expect(redisCommand(redis.port, 'PING')).rejects.toThrow(/ECONNREFUSED/);
    await redis.restart();
    expect(await redisCommand(redis.port, 'GET k')).toBe('$-1\r\n');
    await redis.freeze();
    try {
      // A stuck server: the connection is accepted, the command never answered.
      await expect(redisCommand(redis.port, 'PING', 300)).rejects.toThrow(/no answer within 300 ms/);
      expect(await redis.ping(200)).toBe(false);
    } finally {
      await redis.thaw();
    }
    expect(await redis.ping()).toBe(true);
  });

  it('with a URL (REDIS_URL) uses that Redis, refuses to kill it, and names the variable when nothing answers', async () => {
    await using own = await startRedis();
    await using ext = await startRedis({ url: own.url });
    expect(ext.kind).toBe('external');
    expect(await ext.ping()).toBe(true);
    await expect(ext.kill()).rejects.toThrow(/not the testbed's own/);
    await ext.stop();
    expect(await own.ping()).toBe(true);
    await own.kill();
    await expect(startRedis({ url: own.url })).rejects.toThrow(`REDIS_URL: 127.0.0.1:${own.port} does not answer PING`);
    await expect(startRedis({ url: 'http://x' })).rejects.toThrow(/REDIS_URL must start with redis:\/\//);
  });

  it('names tools/install-redis.sh when the binary is missing, and says why one did not start', async () => {
    expect(() => resolveRedisServer({ REDIS_SERVER: '/nonexistent/redis-server' })).toThrow(
      'redis-server not found at /nonexistent/redis-server (REDIS_SERVER): run `bash tools/install-redis.sh`',
    );
    expect(() => resolveRedisServer({ PATH: '/nonexistent' })).not.toThrow(); // Debian's /usr/bin/redis-server, as installed
    await expect(startRedis({ binary: '/nonexistent/redis-server' })).rejects.toThrow(/redis-server exited before answering PING on port \d+: spawn \/nonexistent\/redis-server ENOENT/);
  });
});

describe('startSut({ redis: true })', () => {
  it('gives every app the one Redis and a key prefix of the SUT own, and stops the server with the SUT', async () => {
    const sut = await startSut({ server: testServer(), apps: ['task-api'], redis: true, env: { LOG_LEVEL: 'silent' } });
    const redis = sut.redis;
    try {
      expect(redis?.kind).toBe('embedded');
      expect(sut.summary()['redis_url']).toBe(redis?.url);
      // The app was given this Redis and the SUT's prefix: a document it read from disk is stored there, under that prefix.
      const { api_key } = await sut.createProject('alpha');
      const res = await fetch(`${sut.url('task-api')}/resources/sdlc-core.md`, { headers: { authorization: `Bearer ${api_key}` } });
      expect(res.status).toBe(200);
      const key = `crucible:${sut.database.name}:resource:sdlc-core.md`;
      let exists = '';
      for (let i = 0; i < 40 && exists !== ':1\r\n'; i++) {
        exists = await redisCommand(redis?.port ?? 0, `EXISTS ${key}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(exists).toBe(':1\r\n');
    } finally {
      await sut.stop();
    }
    expect(await redis?.ping()).toBe(false);
    for (const pid of Object.values(sut.apps).flat().map((a) => a.pid)) expect(alive(pid)).toBe(false);
  });
});
