import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { InstrumentError, parseThreshold, thresholdRules, type ParsedThreshold } from '@crucible/instrument-kit';
import { scenario, type MetricDeclarations, type Scenario, type ThresholdSpec } from '@crucible/load-engine';
import { isDefinedRun, type BuiltinMetric, type RunDefinition, type ScenarioSpec } from './define-run.js';

/**
 * From a scenario file to the load engine's scenarios, refusing — before any request is
 * sent — everything that would otherwise surface as a puzzling failure or a silent pass: a
 * threshold on a metric no scenario has, an aggregation its metric does not take, an option
 * name the engine does not know (a `.js` file has no type checker to catch `thresold:`).
 */

/** Aggregations each built-in metric takes: what `@crucible/reporting`'s evaluator reads (a test keeps the two equal). */
export const BUILTIN_AGGREGATIONS: Readonly<Record<BuiltinMetric, readonly string[]>> = {
  latency: ['p', 'avg', 'min', 'max', 'med', 'count'],
  errors: ['rate', 'count', 'value'],
  requests: ['count', 'value', 'rate'],
  dropped_iterations: ['count', 'value', 'rate'],
  checks: ['rate', 'count', 'value'],
  schedule_lag: ['p', 'max', 'avg', 'med'],
};
/** The start-lag summary has these percentiles only. */
const LAG_PERCENTILES: readonly number[] = [50, 90, 95, 99, 99.9, 100];

const RUN_KEYS: ReadonlySet<string> = new Set(['scenarios', 'thresholds', 'baseUrl', 'sequential', 'chaos']);
const SCENARIO_KEYS: ReadonlySet<string> = new Set([
  'executor',
  'request',
  'checks',
  'isSuccess',
  'tags',
  'thresholds',
  'metrics',
  'warmup',
  'baseUrl',
  'connections',
  'startTime',
  'gracefulStop',
  'breakdownBy',
  'keepResponses',
  'verify',
]);

function refuse(message: string): InstrumentError<'invalid_scenario'> {
  return new InstrumentError('invalid_scenario', message);
}

function isBuiltin(metric: string): metric is BuiltinMetric {
  return Object.hasOwn(BUILTIN_AGGREGATIONS, metric);
}

/** Refuses a threshold whose built-in metric does not take its aggregation (custom metrics are the engine's to check). */
function checkAggregation(t: ParsedThreshold, where: string): void {
  if (!isBuiltin(t.metric)) return;
  const takes = BUILTIN_AGGREGATIONS[t.metric];
  if (!takes.includes(t.aggregation)) {
    throw refuse(`${where}: threshold "${t.expression}": ${t.metric} takes ${takes.map((a) => (a === 'p' ? 'p(N)' : a)).join(', ')}, not ${t.aggregation}`);
  }
  if (t.metric === 'schedule_lag' && t.aggregation === 'p' && !LAG_PERCENTILES.includes(t.percentile ?? 50)) {
    throw refuse(`${where}: threshold "${t.expression}": schedule_lag has p(${LAG_PERCENTILES.join('), p(')}) only`);
  }
}

/** `--threshold` values: `'metric: expr'` or a bare expression (latency/errors), each parsed now. */
export function parseExtraThresholds(raw: readonly string[]): string[] {
  return raw.map((expression) => {
    try {
      return parseThreshold(expression).expression;
    } catch (e) {
      throw new InstrumentError('bad_argument', `--threshold: ${(e as Error).message}`);
    }
  });
}

/**
 * The engine's scenarios for a run definition. A threshold of the run (`thresholds`, or the
 * command line's `extra`) on a built-in metric applies to every scenario; on a custom metric,
 * to the scenarios that declare it, and to at least one — else it names a metric nobody has.
 *
 * @example
 * const scenarios = buildScenarios(definition, ['p(95)<300']);
 */
export function buildScenarios(definition: RunDefinition, extra: readonly string[] = []): Array<Scenario<unknown, MetricDeclarations>> {
  for (const key of Object.keys(definition)) if (!RUN_KEYS.has(key)) throw refuse(`unknown run option "${key}" (known: ${[...RUN_KEYS].join(', ')})`);
  const entries = Object.entries(definition.scenarios ?? {}) as Array<[string, ScenarioSpec]>;
  if (entries.length === 0) throw refuse('the run defines no scenarios');
  const runRules = [...thresholdRules(definition.thresholds as ThresholdSpec | undefined), ...thresholdRules(extra)];
  const runThresholds = runRules.map((r) => parseThreshold(r.expression));
  for (const t of runThresholds) {
    checkAggregation(t, 'run');
    if (!isBuiltin(t.metric) && !entries.some(([, s]) => s.metrics && Object.hasOwn(s.metrics, t.metric))) {
      const custom = [...new Set(entries.flatMap(([, s]) => Object.keys(s.metrics ?? {})))];
      throw refuse(`threshold "${t.expression}" reads unknown metric "${t.metric}" (known: ${[...Object.keys(BUILTIN_AGGREGATIONS), ...custom].join(', ')})`);
    }
  }
  return entries.map(([name, spec]) => {
    const where = `scenario "${name}"`;
    if (typeof spec !== 'object' || spec === null) throw refuse(`${where} is not an object`);
    for (const key of Object.keys(spec)) if (!SCENARIO_KEYS.has(key)) throw refuse(`${where}: unknown option "${key}" (known: ${[...SCENARIO_KEYS].join(', ')})`);
    const declared = spec.metrics ?? {};
    const ownRules = thresholdRules(spec.thresholds as ThresholdSpec | undefined);
    const own = ownRules.map((r) => parseThreshold(r.expression));
    for (const t of own) {
      checkAggregation(t, where);
      if (!isBuiltin(t.metric) && !Object.hasOwn(declared, t.metric)) {
        throw refuse(`${where}: threshold "${t.expression}" reads unknown metric "${t.metric}" (known: ${[...Object.keys(BUILTIN_AGGREGATIONS), ...Object.keys(declared)].join(', ')}; declare a custom one in metrics)`);
      }
    }
    const inherited = runRules.filter((_, i) => isBuiltin((runThresholds[i] as ParsedThreshold).metric) || Object.hasOwn(declared, (runThresholds[i] as ParsedThreshold).metric));
    // abortOnFail travels with its expression: the engine judges it while the scenario runs.
    const thresholds = [...ownRules, ...inherited].map((r) => (r.abortOnFail ? { threshold: r.expression, abortOnFail: true, delayAbortEval: r.delayAbortEvalMs } : r.expression));
    // The engine's scenario() checks the rest (executor, durations, metric kinds) and throws naming the scenario.
    const { verify, ...rest } = spec as Omit<ScenarioSpec, 'thresholds'>;
    // A verify hook reads every outcome: keep them (unless the file says otherwise).
    return scenario({ ...rest, ...(verify && rest.keepResponses === undefined ? { keepResponses: true } : {}), name, thresholds });
  });
}

/**
 * Imports a scenario file (TypeScript through tsx, or JavaScript) and returns its run
 * definition; a file without `export default defineRun(…)` is refused naming what it exports.
 */
export async function loadRunFile(file: string): Promise<RunDefinition> {
  const absolute = path.resolve(file);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(absolute).href)) as Record<string, unknown>;
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' && (e as Error).message.includes(absolute)) throw new InstrumentError('bad_argument', `no scenario file at ${absolute}`);
    throw new InstrumentError('invalid_scenario', `${file} could not be loaded: ${(e as Error).message}`, { cause: e });
  }
  const exported = mod['default'];
  if (!isDefinedRun(exported)) {
    throw refuse(`${file} must \`export default defineRun({ scenarios: { … } })\` (from @crucible/cli); its exports are: ${Object.keys(mod).join(', ') || 'none'}`);
  }
  return exported.definition;
}
