import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, envInt, envLogLevel, readEnv } from './env.js';

const schema = z.object({
  TOKEN: z.string({ error: 'TOKEN is required' }).min(4, 'TOKEN must be at least 4 characters'),
  PORT: envInt('PORT', 0, 65535).default(0),
  LOG_LEVEL: envLogLevel(),
  NAME: z.string().optional(),
});

describe('readEnv', () => {
  it('returns the parsed variables, frozen, with defaults for unset and empty ones', () => {
    const env = readEnv(schema, { TOKEN: 'abcd', PORT: '8080', LOG_LEVEL: '', OTHER: 'ignored' });
    expect(env).toEqual({ TOKEN: 'abcd', PORT: 8080, LOG_LEVEL: 'info' });
    expect(Object.isFrozen(env)).toBe(true);
  });

  it('throws one ConfigError naming every variable at fault, with the service first', () => {
    let error: unknown;
    try {
      readEnv(schema, { PORT: 'eighty', LOG_LEVEL: 'loud' }, { service: 'svc' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const e = error as ConfigError;
    expect(e.code).toBe('config_invalid');
    expect(e.variables).toEqual(['TOKEN', 'PORT', 'LOG_LEVEL']);
    expect(e.message).toMatch(/^svc: invalid configuration: /);
    expect(e.message).toContain('TOKEN is required');
    expect(e.message).toContain('PORT must be a whole number');
    // zod's own message does not name the variable, so readEnv puts the name in front.
    expect(e.message).toMatch(/LOG_LEVEL: Invalid option/);
  });
});
