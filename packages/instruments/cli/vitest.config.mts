import { crucibleVitest } from '../../../tools/vitest-preset.mts';

// The end-to-end tests spawn `crucible run` (node + tsx) as real processes: slow on a loaded machine.
export default crucibleVitest(import.meta.dirname, '@crucible/cli', { test: { testTimeout: 120_000 } });
