import { chmod, copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { embeddedPostgresClass, othersCanReach } from './embedded-binaries.js';

describe('othersCanReach', () => {
  const modes: Record<string, number> = { '/': 0o755, '/root': 0o700, '/root/c': 0o755, '/root/c/initdb': 0o755, '/work': 0o755, '/work/initdb': 0o755 };
  const stat = (p: string) => ({ mode: modes[p] ?? 0o755 });

  it('is false when any directory above the binary is closed to others (a clone in /root)', () => {
    expect(othersCanReach('/root/c/initdb', stat)).toBe(false);
    expect(othersCanReach('/work/initdb', stat)).toBe(true);
  });

  it('is false for a binary others may not execute', () => {
    expect(othersCanReach('/work/initdb', (p) => ({ mode: p === '/work/initdb' ? 0o750 : 0o755 }))).toBe(false);
  });

  const dirs: string[] = [];
  afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

  it('reads real modes: a copy of a program in a mode-700 directory is out of reach', async () => {
    const base = await mkdtemp(path.join(os.tmpdir(), 'crucible-reach-'));
    dirs.push(base);
    await chmod(base, 0o755);
    const closed = path.join(base, 'closed');
    await mkdir(closed, { mode: 0o700 });
    await chmod(closed, 0o700);
    await copyFile('/bin/true', path.join(closed, 'true'));
    await chmod(path.join(closed, 'true'), 0o755);
    expect(othersCanReach(path.join(closed, 'true'))).toBe(false);
    await chmod(closed, 0o755);
    expect(othersCanReach(path.join(closed, 'true'))).toBe(othersCanReach(base));
  });
});

describe('embeddedPostgresClass', () => {
  it('loads a class the testbed can start a server with', async () => {
    const EmbeddedPostgres = await embeddedPostgresClass();
    expect(typeof EmbeddedPostgres).toBe('function');
    expect(typeof EmbeddedPostgres.prototype.initialise).toBe('function');
  });
});
