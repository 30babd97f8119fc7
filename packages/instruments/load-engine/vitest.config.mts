import { crucibleVitest } from '../../../tools/vitest-preset.mts';

// The engine's tests measure time: run their files one after another so they do not
// starve each other of the (two) cores and distort each other's latencies.
const config = crucibleVitest(import.meta.dirname, '@crucible/load-engine', { test: { fileParallelism: false } });

// Without Vite's `module` condition, which Vitest also passes to its workers' Node
// (`--conditions module`): under it Node's require() picks the OpenTelemetry packages' ESM
// builds, made for bundlers (imports without file extensions), and the OTLP sink cannot load them.
const withoutModule = (conditions: string[] | undefined) => conditions?.filter((c) => c !== 'module');
config.resolve = { ...config.resolve, conditions: withoutModule(config.resolve?.conditions) };
config.ssr = { ...config.ssr, resolve: { ...config.ssr?.resolve, conditions: withoutModule(config.ssr?.resolve?.conditions) } };
export default config;
