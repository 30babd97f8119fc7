import { existsSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '@crucible/service-kit';
import { describe, expect, it } from 'vitest';
import { defaultResourceDir, loadTaskApiOptions } from './config.js';

describe('loadTaskApiOptions', () => {
  it('defaults to a 1 MiB artifact limit and the shipped documents', () => {
    const o = loadTaskApiOptions({});
    expect(o).toMatchObject({ artifactLimitBytes: 1 << 20, resourceCacheEntries: 16, resourceDir: defaultResourceDir });
    expect(existsSync(path.join(o.resourceDir, 'sdlc-core.md'))).toBe(true);
    expect(Object.isFrozen(o)).toBe(true);
    expect(loadTaskApiOptions({ ARTIFACT_LIMIT_BYTES: '2048', ARTIFACT_IGNORED: 'x' }).artifactLimitBytes).toBe(2048);
  });

  it('stops with a message naming each malformed variable', () => {
    expect(() => loadTaskApiOptions({ ARTIFACT_LIMIT_BYTES: '1MB' })).toThrow(ConfigError);
    expect(() => loadTaskApiOptions({ ARTIFACT_LIMIT_BYTES: '1MB' })).toThrow(/ARTIFACT_LIMIT_BYTES must be a whole number/);
    expect(() => loadTaskApiOptions({ ARTIFACT_LIMIT_BYTES: '0', RESOURCE_CACHE_ENTRIES: '0' })).toThrow(
      /ARTIFACT_LIMIT_BYTES must be between .*RESOURCE_CACHE_ENTRIES must be between/,
    );
  });
});
