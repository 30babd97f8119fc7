import { crucibleVitest } from '../../../tools/vitest-preset.mts';

// The suites' own tests start the metrics gateway as a process (no database) and run the
// stress workload against it, small, with and without planted defects.
export default crucibleVitest(import.meta.dirname, '@crucible/metrics-gateway-suites', { test: { testTimeout: 60_000 } });
