import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { isInstrumentError } from '@crucible/instrument-kit';
import { describe, expect, it } from 'vitest';
import { connectSut, readSutTarget, targetApps } from './connect.js';
import { startSut } from './sut.js';

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (err) {
    return isInstrumentError(err) ? err.code : 'not an instrument error';
  }
  return undefined;
};

describe('readSutTarget', () => {
  it('reads the line npm run sut prints and refuses a file that is not one, naming the problem', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'target-'));
    const write = async (name: string, text: string) => {
      const file = path.join(dir, name);
      await writeFile(file, text);
      return file;
    };
    const good = await write('good.json', '{"task_api_url":"http://127.0.0.1:1","id_service_url":"http://127.0.0.1:2","task_api_balanced_url":"http://127.0.0.1:3","database_url":"postgres://x@h/db","admin_token":"t"}\n');
    expect(targetApps(readSutTarget(good))).toEqual(['task-api', 'id-service']);
    const refused = (file: string) => {
      try {
        readSutTarget(file);
      } catch (err) {
        expect(isInstrumentError(err, 'bad_argument')).toBe(true);
        return (err as Error).message;
      }
      throw new Error(`accepted ${file}`);
    };
    expect(refused(path.join(dir, 'missing.json'))).toContain('ENOENT');
    expect(refused(await write('text.json', 'hello'))).toContain('is not JSON');
    expect(refused(await write('token.json', '{"task_api_url":"http://127.0.0.1:1"}'))).toContain('admin_token');
    expect(refused(await write('apps.json', '{"admin_token":"t","database_url":"postgres://x@h/db"}'))).toContain('names no app URL');
    expect(refused(await write('url.json', '{"admin_token":"t","task_api_url":"not a url"}'))).toContain('task_api_url "not a url"');
  });
});

describe('connectSut', () => {
  it('refuses what a deployed target cannot do with a coded error, and needs a database URL for databaseUrl', async () => {
    const sut = connectSut({ task_api_url: 'http://127.0.0.1:1', admin_token: 't' });
    expect(sut.url('task-api')).toBe('http://127.0.0.1:1');
    expect(codeOf(() => sut.url('id-service'))).toBe('unknown_app');
    expect(codeOf(() => sut.chaos)).toBe('not_on_target');
    expect(codeOf(() => sut.server)).toBe('not_on_target');
    expect(codeOf(() => sut.balancer('task-api'))).toBe('not_on_target');
    expect(codeOf(() => sut.apps['task-api']?.[0]?.pid)).toBe('not_on_target');
    expect(codeOf(() => sut.databaseUrl)).toBe('no_database');
    await expect(sut.startReplica('task-api')).rejects.toMatchObject({ code: 'not_on_target' });
    await expect(sut.apps['task-api']?.[0]?.kill()).rejects.toMatchObject({ code: 'not_on_target' });
    expect(connectSut({ task_api_url: 'http://h:1', admin_token: 't', database_url: 'postgres://x@h/db' }).databaseUrl).toBe('postgres://x@h/db');
    expect(codeOf(() => connectSut({ task_api_url: 'http://h:1', admin_token: 't', database_url: 'postgres://x@h/db' }, { databaseUrl: null }).databaseUrl)).toBe('no_database');
  });

  it('creates projects on a running system through its admin endpoint, and says so when one already exists', async () => {
    await using running = await startSut({ apps: ['id-service'] });
    const sut = connectSut(running.summary());
    const { api_key } = await sut.createProject('connected');
    const res = await fetch(`${sut.url('id-service')}/ids/registry`, { headers: { authorization: `Bearer ${api_key}` } });
    expect(res.status).toBe(200);
    await expect(sut.createProject('connected')).rejects.toThrow(/already exists on the target.*freshly deployed/);
    await sut.stop();
    // stop() leaves the deployed system up: it is not ours.
    expect((await fetch(`${sut.url('id-service')}/health`)).status).toBe(200);
  }, 120_000);
});
