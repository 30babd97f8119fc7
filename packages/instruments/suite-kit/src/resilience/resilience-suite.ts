import type { SuiteDefinition } from '../suite.js';
import { databaseDownStep } from './database-down.js';
import { databaseLatencyStep } from './database-latency.js';
import { degradedLinkStep } from './degraded-link.js';
import { dependencyOutageStep } from './dependency-outage.js';
import { failureIsolationStep } from './failure-isolation.js';
import { poolExhaustionStep } from './pool-exhaustion.js';
import { resetTimeoutStep } from './reset-timeout.js';
import { startupFaultsStep } from './startup-faults.js';
import { resilienceEnv, type ResilienceContext, type ResilienceWorkload } from './workload.js';

/**
 * The resilience suite of one app, written once: the app and its peer on a fresh database,
 * each behind Toxiproxy, with the apps' limits of {@link resilienceEnv}; then the fault
 * steps in order — database latency, database down, reset_peer + timeout with idempotent
 * retries, pool exhaustion, bandwidth / slicer / limit_data, failure isolation (the link to
 * the app's dependency down then frozen, or, with none, the peer killed), start-up faults — each reported before / during / after the fault with the
 * workload's verdicts, and every proxy reset after each step, even one that failed.
 *
 * @example
 * suiteMain(resilienceSuite(idServiceWorkload));
 */
export function resilienceSuite<Op>(w: ResilienceWorkload<Op>): SuiteDefinition<ResilienceContext> {
  // As the running toxiproxy-server reports it (GET /version), once it is up.
  let toxiproxy = 'not started';
  return {
    name: `${w.app} resilience`,
    target: 'resilience',
    project: w.project,
    sut: { apps: [w.app, w.peer], chaos: true, env: { ...resilienceEnv } },
    async setup(kit) {
      const chaos = kit.sut.chaos;
      if (!chaos) throw new Error('chaos was not started');
      toxiproxy = await chaos.client.version();
      return { sut: kit.sut, db: kit.db, url: kit.sut.url(w.app), link: chaos.proxy(w.app) };
    },
    steps: [
      databaseLatencyStep(w),
      databaseDownStep(w),
      resetTimeoutStep(w),
      poolExhaustionStep(w),
      degradedLinkStep(w),
      // An app that calls another is judged on losing it; one that calls none, on its peer's death.
      w.dependency ? dependencyOutageStep(w) : failureIsolationStep(w),
      startupFaultsStep(w.app),
    ],
    afterStep: async (ctx) => {
      await ctx.sut.chaos?.reset();
    },
    config: () => ({ ...resilienceEnv, toxiproxy }),
  };
}
