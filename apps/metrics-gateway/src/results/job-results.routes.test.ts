// The gateway as a distributed run's results sink, over HTTP on a real listening gateway:
// barrier arrivals and segments per job in index order, the token required, bad input a 400
// naming the field.
import { errorEnvelopeSchema } from '@crucible/contracts';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadGatewayConfig } from '../config.js';
import { createGateway, type Gateway } from '../gateway.js';
import { maxJobs } from './job-results.routes.js';

const admin = 'results-admin-token-0123456789';
const publish = 'results-publish-token-0123456789';
let gateway: Gateway;
let url: string;

beforeAll(async () => {
  gateway = createGateway(loadGatewayConfig({ CRUCIBLE_ADMIN_TOKEN: admin, GATEWAY_PUBLISH_TOKEN: publish, LOG_LEVEL: 'silent' }), { logger: pino({ level: 'silent' }) });
  url = await gateway.listen();
});
afterAll(() => gateway.close());

const put = (path: string, body: unknown, token = publish) =>
  fetch(`${url}${path}`, { method: 'PUT', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
const get = (path: string, token = publish) => fetch(`${url}${path}`, { headers: { authorization: `Bearer ${token}` } });
const errorOf = async (res: Response) => errorEnvelopeSchema.parse(await res.json()).error;

describe('job results (the gateway sink of crucible worker)', () => {
  it('keeps barrier arrivals and segments per job, and gives them back in index order', async () => {
    expect((await put('/jobs/run-1/ready/1', { completions: 2, at: 2000 })).status).toBe(200);
    expect(await (await put('/jobs/run-1/ready/0', { completions: 2, at: 1000 }, admin)).json()).toEqual({ job: 'run-1', completions: 2, ready: 2 });
    const result = { scenarios: [{ name: 'list', requests: 60, histogram: 'HISTFAkAAAA=' }] };
    expect((await put('/jobs/run-1/segments/1', { index: 1, completions: 2, host: 'pod-1', startAt: 3000, error: 'ECONNREFUSED' })).status).toBe(200);
    expect((await put('/jobs/run-1/segments/0', { index: 0, completions: 2, host: 'pod-0', startAt: 3000, result })).status).toBe(200);
    const res = await get('/jobs/run-1');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      job: 'run-1',
      completions: 2,
      ready: [
        { index: 0, at: 1000 },
        { index: 1, at: 2000 },
      ],
      segments: [
        { index: 0, completions: 2, host: 'pod-0', startAt: 3000, result },
        { index: 1, completions: 2, host: 'pod-1', startAt: 3000, error: 'ECONNREFUSED' },
      ],
    });
    // Another job is another set.
    expect((await get('/jobs/run-2')).status).toBe(404);
  });

  it('needs the publish or admin token', async () => {
    const res = await get('/jobs/run-1', 'wrong-token-0123456789');
    expect(res.status).toBe(401);
    expect((await errorOf(res)).code).toBe('unauthorized');
    expect((await fetch(`${url}/jobs/run-1`)).status).toBe(401);
  });

  it('answers bad input with a 400 naming the field', async () => {
    const cases: [string, unknown, RegExp][] = [
      ['/jobs/run-1/ready/0', { completions: 3, at: 1 }, /body\.completions: job run-1 has 2 completions, not 3/],
      ['/jobs/run-3/ready/5', { completions: 2, at: 1 }, /params\.index: 5 is not below the job's 2 completions/],
      ['/jobs/run-3/ready/x', { completions: 2, at: 1 }, /params\.index/],
      ['/jobs/bad%20name/ready/0', { completions: 2, at: 1 }, /params\.job/],
      ['/jobs/run-3/ready/0', { completions: 0, at: 1 }, /body\.completions/],
      ['/jobs/run-3/segments/0', { index: 1, completions: 2, host: 'h', startAt: 1 }, /body\.index: 1 is not the index in the path \(0\)/],
      ['/jobs/run-3/segments/0', { index: 0, completions: 2, startAt: 1 }, /body\.host/],
    ];
    for (const [path, body, message] of cases) {
      const res = await put(path, body);
      expect(res.status, path).toBe(400);
      expect((await errorOf(res)).message, path).toMatch(message);
    }
  });

  it(`keeps at most ${maxJobs} jobs: the oldest goes first`, async () => {
    for (let i = 0; i < maxJobs; i++) expect((await put(`/jobs/many-${i}/ready/0`, { completions: 1, at: i })).status).toBe(200);
    expect((await get('/jobs/run-1')).status).toBe(404);
    expect((await get('/jobs/many-0')).status).toBe(200);
  });
});
