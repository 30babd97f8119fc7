import { crucibleVitest } from '../../../tools/vitest-preset.mts';

// The suites' own tests start the metrics gateway as a process and run the stress workload
// against it, small, with and without planted defects; the run history tests give it a real
// PostgreSQL (one server for the run, a database per system under test). One file at a time:
// the delivery tests' verdicts read timing (a swapped event shows only if the next one comes
// before the pump releases it), and a second gateway loading the same two cores blurs it.
export default crucibleVitest(import.meta.dirname, '@crucible/metrics-gateway-suites', { database: true, test: { testTimeout: 60_000, fileParallelism: false } });
