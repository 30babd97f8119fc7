import { crucibleVitest } from '../../../tools/vitest-preset.mts';

export default crucibleVitest(import.meta.dirname, '@crucible/baseline');
