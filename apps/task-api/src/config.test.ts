import { existsSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '@crucible/service-kit';
import { describe, expect, it } from 'vitest';
import { defaultResourceDir, loadTaskApiOptions } from './config.js';

const ids = { ID_SERVICE_URL: 'http://127.0.0.1:4001/' };

describe('loadTaskApiOptions', () => {
  it('defaults to a 1 MiB artifact limit and the shipped documents', () => {
    const o = loadTaskApiOptions(ids);
    expect(o).toMatchObject({ artifactLimitBytes: 1 << 20, resourceCacheEntries: 16, resourceDir: defaultResourceDir });
    expect(o.idService).toEqual({ url: 'http://127.0.0.1:4001', timeoutMs: 400, attempts: 2, connections: 8, blockSize: 32, maxBlockSize: 1024, breakerFailures: 3, breakerOpenMs: 500 });
    expect(existsSync(path.join(o.resourceDir, 'sdlc-core.md'))).toBe(true);
    expect(Object.isFrozen(o)).toBe(true);
    expect(loadTaskApiOptions({ ...ids, ARTIFACT_LIMIT_BYTES: '2048', ARTIFACT_IGNORED: 'x' }).artifactLimitBytes).toBe(2048);
  });

  it('stops with a message naming each malformed variable', () => {
    expect(() => loadTaskApiOptions({ ...ids, ARTIFACT_LIMIT_BYTES: '1MB' })).toThrow(ConfigError);
    expect(() => loadTaskApiOptions({ ...ids, ARTIFACT_LIMIT_BYTES: '1MB' })).toThrow(/ARTIFACT_LIMIT_BYTES must be a whole number/);
    expect(() => loadTaskApiOptions({ ...ids, ARTIFACT_LIMIT_BYTES: '0', RESOURCE_CACHE_ENTRIES: '0' })).toThrow(
      /ARTIFACT_LIMIT_BYTES must be between .*RESOURCE_CACHE_ENTRIES must be between/,
    );
  });

  it('stops without the ID service, or with one that is not an http URL, naming ID_SERVICE_URL', () => {
    expect(() => loadTaskApiOptions({})).toThrow(/ID_SERVICE_URL/);
    expect(() => loadTaskApiOptions({ ID_SERVICE_URL: 'id-service:4001' })).toThrow(/ID_SERVICE_URL/);
    expect(() => loadTaskApiOptions({ ...ids, ID_SERVICE_TIMEOUT_MS: 'soon' })).toThrow(/ID_SERVICE_TIMEOUT_MS/);
  });
});
