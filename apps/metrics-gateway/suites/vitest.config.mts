import { crucibleVitest } from '../../../tools/vitest-preset.mts';

// The suites' own tests start the metrics gateway as a process and run the stress workload
// against it, small, with and without planted defects; the run history tests give it a real
// PostgreSQL (one server for the run, a database per system under test).
export default crucibleVitest(import.meta.dirname, '@crucible/metrics-gateway-suites', { database: true, test: { testTimeout: 60_000 } });
