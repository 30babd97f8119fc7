import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { loadGatewayConfig } from './config.js';
import { createGateway, type Gateway } from './gateway.js';

const gateways: Gateway[] = [];
afterEach(async () => {
  await Promise.all(gateways.splice(0).map((g) => g.close()));
});

describe('GET /metrics', () => {
  it('keeps one series for requests no route took: 1,000 random paths, no token, add at most one', async () => {
    const gateway = createGateway(loadGatewayConfig({ CRUCIBLE_ADMIN_TOKEN: 'test-admin-token-0123456789', LOG_LEVEL: 'silent' }), { logger: pino({ level: 'silent' }) });
    gateways.push(gateway);
    const url = await gateway.listen();
    const series = async () => (await (await fetch(`${url}/metrics`)).text()).split('\n').filter((l) => l.startsWith('http_request_duration_seconds_count'));
    await fetch(`${url}/no-such-page`);
    const before = await series();
    for (let i = 0; i < 1000; i++) expect((await fetch(`${url}/${randomBytes(8).toString('hex')}`)).status).toBe(404);
    const after = await series();
    expect(after.length - before.length).toBeLessThanOrEqual(1);
    expect(after.filter((l) => !/route="(unmatched|\/metrics)"/.test(l))).toEqual([]);
  });
});
