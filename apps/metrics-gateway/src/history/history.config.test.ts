import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { loadGatewayConfig } from '../config.js';
import { createGateway } from '../gateway.js';

const token = 'history-test-admin-token-0123456789';

describe('the gateway without a database', () => {
  it('keeps no history: no store, /api/v1 answers 404 saying why, /health reports history null', async () => {
    const config = loadGatewayConfig({ CRUCIBLE_ADMIN_TOKEN: token, LOG_LEVEL: 'silent' });
    expect(config.store).toBeUndefined();
    await using gateway = createGateway(config, { logger: pino({ level: 'silent' }) });
    expect(gateway.store).toBeUndefined();
    const url = await gateway.listen();
    const res = await fetch(`${url}/api/v1/runs`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/DATABASE_URL/);
    expect(((await (await fetch(`${url}/health`)).json()) as { history: unknown }).history).toBeNull();
  });

  it('reads the store settings only with DATABASE_URL, and names a malformed one', () => {
    const config = loadGatewayConfig({ CRUCIBLE_ADMIN_TOKEN: token, DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/db', GATEWAY_STORE_BUFFER_ROWS: '500' });
    expect(config.store).toEqual({ databaseUrl: 'postgres://u:p@127.0.0.1:5432/db', poolMax: 4, statementTimeoutMs: 5000, startupTimeoutMs: 5000, flushMs: 250, batchRows: 1000, bufferRows: 500, retainMonths: 12, partitionsAhead: 3, maintainMs: 21_600_000 });
    expect(() => loadGatewayConfig({ CRUCIBLE_ADMIN_TOKEN: token, GATEWAY_STORE_FLUSH_MS: 'soon' })).toThrow(/GATEWAY_STORE_FLUSH_MS/);
    expect(() => loadGatewayConfig({ CRUCIBLE_ADMIN_TOKEN: token, GATEWAY_HISTORY_RETAIN_MONTHS: '0' })).toThrow(/GATEWAY_HISTORY_RETAIN_MONTHS/);
  });
});
