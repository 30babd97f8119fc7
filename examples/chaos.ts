/**
 * A chaos timeline in front of any TCP service: `crucible run` starts a real toxiproxy-server,
 * puts a proxy in front of the base URL's host and port, sends the load through it, and acts:
 * 250 ms of added latency from 2 s for 2 s, then the service cut off from 5 s for 1 s.
 *
 *   npx crucible run examples/chaos.ts --base-url http://127.0.0.1:8080
 *
 * The report has, besides the whole scenario, a row before the faults, one per fault while it
 * acted and one after: the latency row must still be served (p(99) under 1 s, no errors), and
 * after the cut the service must answer again (under 1 % errors after the last fault). Needs
 * toxiproxy-server (`bash tools/install-toxiproxy.sh`, or TOXIPROXY_SERVER).
 */
import { constantArrivalRate, defineRun, down, latency } from '@crucible/cli';

export default defineRun({
  scenarios: {
    'list items': {
      executor: constantArrivalRate({ rate: Number(process.env['RATE'] ?? 20), duration: process.env['DURATION'] ?? '8s', preAllocatedVUs: 10, maxVUs: 100 }),
      request: (ctx) => ctx.http.request({ path: '/items', headers: { authorization: `Bearer ${process.env['API_TOKEN'] ?? 'dev-token'}` }, timeoutMs: 2000 }),
    },
  },
  chaos: {
    timeline: [
      { at: '2s', for: '2s', fault: latency(250), thresholds: ['p(99)<1000', 'errors: rate<0.01'] },
      { at: '5s', for: '1s', fault: down() },
    ],
    after: ['errors: rate<0.01'],
  },
});
