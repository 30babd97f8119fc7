import { crucibleVitest } from '../../../tools/vitest-preset.mts';

// The suites' own tests drive the id-service as a process on the run's PostgreSQL, through
// a real toxiproxy-server (tools/install-toxiproxy.sh).
export default crucibleVitest(import.meta.dirname, '@crucible/id-service-suites', { database: true, test: { testTimeout: 60_000 } });
