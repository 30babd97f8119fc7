import { crucibleVitest } from '../../../tools/vitest-preset.mts';

// The engine's tests measure time: run their files one after another so they do not
// starve each other of the (two) cores and distort each other's latencies.
export default crucibleVitest(import.meta.dirname, '@crucible/load-engine', { test: { fileParallelism: false } });
