import { crucibleVitest } from '../../../tools/vitest-preset.mts';

export default crucibleVitest(import.meta.dirname, '@crucible/testbed', { database: true, test: { testTimeout: 60_000 } });
