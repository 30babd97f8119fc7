import { chmod, copyFile, mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { copyName, embeddedPostgresClass, isStaleCopy, othersCanReach } from './embedded-binaries.js';

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

describe('the copy of the binaries outside a closed checkout', () => {
  it('is named per checkout: two clones never share one whose links point into the other', () => {
    const a = copyName('18.4.0', 'linux-x64', '18.4.0', { pg: '/root/ci1/node_modules/pg' });
    const b = copyName('18.4.0', 'linux-x64', '18.4.0', { pg: '/root/ci2/node_modules/pg' });
    expect(a).not.toBe(b);
    expect(copyName('18.4.0', 'linux-x64', '18.4.0', { pg: '/root/ci1/node_modules/pg' })).toBe(a);
  });

  it('is stale once the checkout its links point into is gone (removed, never reused)', async () => {
    const base = await mkdtemp(path.join(os.tmpdir(), 'crucible-copy-'));
    try {
      const checkout = path.join(base, 'checkout');
      await mkdir(path.join(checkout, 'pg'), { recursive: true });
      const copy = path.join(base, 'copy');
      await mkdir(path.join(copy, 'node_modules'), { recursive: true });
      await symlink(path.join(checkout, 'pg'), path.join(copy, 'node_modules', 'pg'), 'dir');
      expect(isStaleCopy(copy)).toBe(false);
      await rm(checkout, { recursive: true });
      expect(isStaleCopy(copy)).toBe(true);
    } finally {
      await rm(base, { recursive: true, force: true });
    }
  });
});
