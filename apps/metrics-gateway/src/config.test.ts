import { ConfigError } from '@crucible/service-kit';
import { describe, expect, it } from 'vitest';
import { loadGatewayConfig } from './config.js';

describe('loadGatewayConfig', () => {
  it('reads defaults into a frozen object; publishers use the admin token unless GATEWAY_PUBLISH_TOKEN is set', () => {
    const config = loadGatewayConfig({ CRUCIBLE_ADMIN_TOKEN: 'admin-token-0123456789' });
    expect(Object.isFrozen(config)).toBe(true);
    expect(config).toMatchObject({ host: '127.0.0.1', port: 0, publishToken: 'admin-token-0123456789', heartbeatMs: 15_000, historySize: 256 });
    expect(loadGatewayConfig({ CRUCIBLE_ADMIN_TOKEN: 'admin-token-0123456789', GATEWAY_PUBLISH_TOKEN: 'publish-token-0123456789' }).publishToken).toBe(
      'publish-token-0123456789',
    );
  });

  it('names every variable at fault', () => {
    expect(() => loadGatewayConfig({})).toThrow(/CRUCIBLE_ADMIN_TOKEN is required/);
    let error: unknown;
    try {
      loadGatewayConfig({ CRUCIBLE_ADMIN_TOKEN: 'short', GATEWAY_HEARTBEAT_MS: 'soon', GATEWAY_MAX_BUFFERED_BYTES: '1' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toContain('CRUCIBLE_ADMIN_TOKEN must be at least 16 characters');
    expect(message).toContain('GATEWAY_HEARTBEAT_MS must be a whole number');
    expect(message).toContain('GATEWAY_MAX_BUFFERED_BYTES must be between');
  });
});
