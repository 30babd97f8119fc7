import { describe, expect, it } from 'vitest';
import { loadGatewayConfig } from '../config.js';
import { runOfKey, seqOfId, streamKey, withSeq } from './stream-entry.js';

const admin = { CRUCIBLE_ADMIN_TOKEN: 'admin-token-0123456789' };

describe('the streams configuration', () => {
  it('without REDIS_URL the gateway keeps its channels to itself', () => {
    expect(loadGatewayConfig(admin).streams).toBeUndefined();
  });

  it('with REDIS_URL: the key prefix, the publish timeout, the history size as the stream length, a day of TTL', () => {
    const config = loadGatewayConfig({ ...admin, REDIS_URL: 'redis://127.0.0.1:6379', GATEWAY_HISTORY_SIZE: '512' });
    expect(config.streams).toEqual({ url: 'redis://127.0.0.1:6379', keyPrefix: 'crucible:metrics-gateway:', timeoutMs: 250, maxLen: 512, ttlS: 86_400 });
    expect(Object.isFrozen(config.streams)).toBe(true);
  });

  it('names the variable at fault', () => {
    expect(() => loadGatewayConfig({ ...admin, REDIS_URL: 'http://127.0.0.1:6379' })).toThrow(/REDIS_URL must be a redis:\/\//);
    expect(() => loadGatewayConfig({ ...admin, REDIS_URL: 'redis://127.0.0.1:6379', REDIS_TIMEOUT_MS: '0' })).toThrow(/REDIS_TIMEOUT_MS/);
  });
});

describe('stream entries', () => {
  it('give subscribers the text a single gateway gives them, and map ids to sequences', () => {
    const message = { type: 'event', run_id: 'r-1', event: { name: 'x', value: 1 } };
    expect(withSeq(JSON.stringify(message), 42)).toBe(JSON.stringify({ ...message, seq: 42 }));
    expect(seqOfId('0-42')).toBe(42);
    expect(seqOfId('1700000000000-0')).toBeNaN();
    expect(runOfKey('p:', streamKey('p:', 'r-1'))).toBe('r-1');
    expect(runOfKey('p:', 'other:run:r-1')).toBeUndefined();
  });
});
