import { constantArrivalRate } from '../executors.js';
import { scenario } from '../scenario.js';

/** Parameters open-model.ts passes to every worker process. */
export interface OpenParams {
  readonly rate: number;
  readonly durationS: number;
  readonly maxVUs: number;
}

/**
 * The open-model benchmark's one scenario (a module, so `runParallel` can load it in each
 * process): a constant arrival rate against the bare server, the body skipped.
 */
export const scenarios = (p: OpenParams) => [
  scenario({
    name: 'open model',
    executor: constantArrivalRate({ rate: p.rate, duration: `${p.durationS}s`, preAllocatedVUs: p.maxVUs, maxVUs: p.maxVUs }),
    connections: p.maxVUs,
    warmup: '1s',
    request: (ctx) => ctx.http.request({ path: '/', discardBody: true }),
    checks: { 'status is 200': (res) => res.status === 200 },
  }),
];
