/**
 * One scenario that mixes two endpoints, as a real workload does — two iterations in three
 * list items, one creates one — with thresholds per tag, so a slow or failing `GET /items` is
 * named as such while `POST /items` is judged on its own figures:
 *
 *   npx crucible run examples/mixed-endpoints.ts --base-url http://127.0.0.1:8080
 *
 * And a rule that stops the run: once more than half of the requests of any 2 s fail (the
 * service is gone), the scenario is aborted and the report says when and why, instead of
 * hammering a dead service until the schedule ends.
 * `--env RATE=50 --env DURATION=30s --env API_TOKEN=…` size and point it without editing.
 */
import { constantArrivalRate, defineRun } from '@crucible/cli';

const auth = { authorization: `Bearer ${process.env['API_TOKEN'] ?? 'dev-token'}` };

export default defineRun({
  scenarios: {
    mixed: {
      executor: constantArrivalRate({ rate: Number(process.env['RATE'] ?? 30), duration: process.env['DURATION'] ?? '2s', preAllocatedVUs: 5, maxVUs: 50 }),
      request: (ctx) =>
        ctx.iteration % 3 === 2
          ? ctx.http.request({ method: 'POST', path: '/items', headers: auth, body: { name: `item-${ctx.iteration}` }, tags: { endpoint: 'POST /items' } })
          : ctx.http.request({ path: '/items', headers: auth, tags: { endpoint: 'GET /items' } }),
      thresholds: {
        'latency{endpoint:GET /items}': ['p(99)<50'],
        'latency{endpoint:POST /items}': ['p(99)<50'],
        'errors{endpoint:GET /items}': ['rate<0.01'],
        'errors{endpoint:POST /items}': ['rate<0.01'],
        errors: [{ threshold: 'rate over 2s < 0.5', abortOnFail: true, delayAbortEval: '1s' }],
      },
    },
  },
});
