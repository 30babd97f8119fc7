/**
 * Type-level tests of scenario files: `tsc` (the typecheck target) fails if a line marked
 * `@ts-expect-error` compiles, so each typo below must stay a compile error.
 */
import { constantArrivalRate, defineRun } from './index.js';

const executor = constantArrivalRate({ rate: 1, duration: '1s' });

// A correct file compiles: declared metrics in ctx.count and thresholds, both threshold forms.
defineRun({
  scenarios: {
    list: {
      executor,
      metrics: { empty_page: 'counter', cache_hit: 'rate' },
      request: async (ctx) => {
        ctx.count('empty_page');
        ctx.rate('cache_hit', true);
        return ctx.http.request({ path: '/items' });
      },
      checks: { 'status is 200': (res) => res.status === 200 },
      thresholds: ['p(99)<200', 'empty_page: count==0', 'cache_hit: rate > 0.9', 'errors:rate<0.01'],
    },
    create: { executor, request: (ctx) => ctx.http.request({ method: 'POST', path: '/items' }), thresholds: { latency: ['p(95) < 300'], checks: ['rate>0.99'] } },
  },
  thresholds: { errors: ['rate<0.01'], latency: ['p(99.9)<1000'] },
});

// Per-tag, sliding-window and aborting thresholds compile in both forms.
defineRun({
  scenarios: {
    mixed: {
      executor,
      request: (ctx) => ctx.http.request({ path: '/items', tags: { endpoint: 'GET /items' } }),
      thresholds: {
        'latency{endpoint:GET /items}': ['p(99)<200'],
        errors: [{ threshold: 'rate over 5s < 0.1', abortOnFail: true, delayAbortEval: '5s' }],
        latency: ['p(99) over 10s < 300'],
      },
    },
    listed: { executor, request: async () => null, thresholds: ['errors{endpoint:POST /items}: rate<0.01', { threshold: 'p(95)<300', abortOnFail: true }] },
  },
});

defineRun({
  scenarios: {
    list: {
      executor,
      metrics: { empty_page: 'counter' },
      request: async (ctx) => {
        // @ts-expect-error a counter the scenario did not declare
        ctx.count('empty_pages');
        return null;
      },
      // @ts-expect-error a threshold on a custom metric the scenario did not declare
      thresholds: ['empty_pages: count==0'],
    },
  },
});

defineRun({
  scenarios: {
    // @ts-expect-error a malformed expression (the letter O for a zero)
    a: { executor, request: async () => null, thresholds: ['p(99)<2OO'] },
  },
});

defineRun({
  scenarios: { a: { executor, request: async () => null } },
  // @ts-expect-error a run-level threshold on a metric that does not exist
  thresholds: { latncy: ['p(99)<200'] },
});

defineRun({
  scenarios: { a: { executor, request: async () => null } },
  // @ts-expect-error an aggregation that is not one
  thresholds: { latency: ['p99<200'] },
});
