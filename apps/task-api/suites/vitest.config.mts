import { crucibleVitest } from '../../../tools/vitest-preset.mts';

// The suites' own tests drive the task-api as processes on the run's PostgreSQL (and a real
// toxiproxy-server for the resilience ones): each runs a suite step, seconds long, against
// the real system with and without a planted defect.
export default crucibleVitest(import.meta.dirname, '@crucible/task-api-suites', { database: true, test: { testTimeout: 120_000 } });
