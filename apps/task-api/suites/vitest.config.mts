import { crucibleVitest } from '../../../tools/vitest-preset.mts';

// The suites' own tests drive the task-api as a process on the run's PostgreSQL, through a
// real toxiproxy-server (tools/install-toxiproxy.sh): a resilience step run for a few seconds.
export default crucibleVitest(import.meta.dirname, '@crucible/task-api-suites', { database: true, test: { testTimeout: 60_000 } });
