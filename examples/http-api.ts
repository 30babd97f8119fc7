/**
 * An HTTP API under load, with checks and thresholds: the scenario file of
 *
 *   npx crucible run examples/http-api.ts --base-url http://127.0.0.1:8080
 *
 * It expects `GET /items` (a JSON array) and `POST /items` (201) behind a bearer token.
 * `--env RATE=50 --env DURATION=30s --env API_TOKEN=…` size and point it without editing.
 */
import { constantArrivalRate, defineRun } from '@crucible/cli';

const token = process.env['API_TOKEN'] ?? 'dev-token';
const rate = Number(process.env['RATE'] ?? 20);
const duration = process.env['DURATION'] ?? '5s';
const auth = { authorization: `Bearer ${token}` };

export default defineRun({
  scenarios: {
    'list items': {
      executor: constantArrivalRate({ rate, duration, preAllocatedVUs: 5, maxVUs: 50 }),
      // A page that comes back empty although items exist is a bug no status code shows: count it.
      metrics: { empty_page: 'counter' },
      request: async (ctx) => {
        const res = await ctx.http.request({ path: '/items', headers: auth, tags: { endpoint: 'GET /items' } });
        if (res.status === 200 && res.json<unknown[]>().length === 0) ctx.count('empty_page');
        return res;
      },
      checks: { 'status is 200': (res) => res.status === 200 },
      thresholds: ['p(99)<500', 'empty_page: count==0'],
    },
    'create item': {
      executor: constantArrivalRate({ rate: Math.max(1, Math.round(rate / 2)), duration, preAllocatedVUs: 5, maxVUs: 50 }),
      request: (ctx) => ctx.http.request({ method: 'POST', path: '/items', headers: auth, body: { name: `item-${ctx.vu}-${ctx.iteration}` }, tags: { endpoint: 'POST /items' } }),
      checks: { 'status is 201': (res) => res.status === 201 },
      thresholds: { latency: ['p(95)<300'] },
    },
  },
  // Every scenario: under 1 % errors and 99 % of checks passing.
  thresholds: { errors: ['rate<0.01'], checks: ['rate>0.99'] },
});
