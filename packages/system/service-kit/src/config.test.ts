import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';
import { ConfigError } from './env.js';

const good = { DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/db', CRUCIBLE_ADMIN_TOKEN: 'x'.repeat(16) };

describe('loadConfig', () => {
  it('reads a frozen configuration with defaults', () => {
    const c = loadConfig('svc', good);
    expect(Object.isFrozen(c)).toBe(true);
    expect(c.pool).toEqual({ max: 10, acquireTimeoutMs: 1000, statementTimeoutMs: 5000, queryTimeoutMs: 6000 });
    expect(c.port).toBe(0);
  });
  it.each([
    [{ ...good, DATABASE_URL: 'not a url' }, /DATABASE_URL must look like postgres:\/\//],
    [{ ...good, DATABASE_URL: 'mysql://h/db' }, /DATABASE_URL/],
    [{ DATABASE_URL: good.DATABASE_URL }, /CRUCIBLE_ADMIN_TOKEN is required/],
    [{ ...good, CRUCIBLE_ADMIN_TOKEN: 'short' }, /CRUCIBLE_ADMIN_TOKEN must be at least 16/],
    [{ ...good, PORT: '70000' }, /PORT must be between 0 and 65535/],
    [{ ...good, DB_POOL_MAX: 'ten' }, /DB_POOL_MAX must be a whole number/],
    [{ ...good, LOG_LEVEL: 'loud' }, /LOG_LEVEL/],
  ])('stops on bad configuration %#, naming the variable', (env, message) => {
    expect(() => loadConfig('svc', env)).toThrow(ConfigError);
    expect(() => loadConfig('svc', env)).toThrow(message);
  });
});
