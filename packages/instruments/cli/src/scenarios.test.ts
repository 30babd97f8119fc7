import { isInstrumentError } from '@crucible/instrument-kit';
import { constantArrivalRate, run } from '@crucible/load-engine';
import { evaluateThresholds, scenarioReport } from '@crucible/reporting';
import { describe, expect, it } from 'vitest';
import { startItemsServer } from '../tests/items-server.js';
import { defineRun, type RunDefinition } from './define-run.js';
import { BUILTIN_AGGREGATIONS, buildScenarios } from './scenarios.js';

const executor = constantArrivalRate({ rate: 20, duration: '1s', preAllocatedVUs: 2 });
const request = (ctx: { http: { request(r: { path: string; headers: Record<string, string> }): Promise<unknown> } }) => ctx.http.request({ path: '/items', headers: { authorization: 'Bearer dev-token' } });

/** The message `buildScenarios` refuses a definition with (it must refuse it). */
function refusal(definition: unknown, extra: string[] = []): string {
  try {
    buildScenarios(definition as RunDefinition, extra);
  } catch (e) {
    expect(isInstrumentError(e, 'invalid_scenario') || isInstrumentError(e, 'threshold_syntax')).toBe(true);
    return (e as Error).message;
  }
  throw new Error('accepted');
}

describe('buildScenarios', () => {
  it('adds run-level and command-line thresholds to every scenario, custom ones only where declared', () => {
    const { definition } = defineRun({
      scenarios: {
        list: { executor, metrics: { empty_page: 'counter' }, request, thresholds: ['p(99)<200'] },
        create: { executor, request },
      },
      thresholds: { errors: ['rate<0.01'] },
    });
    const [list, create] = buildScenarios(definition, ['empty_page: count==0', 'checks: rate>0.99']);
    expect(list?.thresholds).toEqual(['p(99)<200', 'errors: rate<0.01', 'empty_page: count==0', 'checks: rate>0.99']);
    expect(create?.thresholds).toEqual(['errors: rate<0.01', 'checks: rate>0.99']);
    expect(list?.name).toBe('list');
  });

  it('refuses a metric nobody has, naming it and the known ones, wherever the threshold comes from', () => {
    const { definition } = defineRun({ scenarios: { list: { executor, metrics: { empty_page: 'counter' }, request } } });
    expect(refusal(definition, ['latncy: p(99)<200'])).toMatch(/unknown metric "latncy" \(known: latency, errors, .*empty_page\)/);
    const own = refusal({ scenarios: { list: { executor, request, thresholds: ['empty_pag: count==0'] } } });
    expect(own).toContain('scenario "list": threshold "empty_pag: count==0" reads unknown metric "empty_pag"');
  });

  it('refuses an aggregation the metric does not take, a malformed expression, an unknown option', () => {
    expect(refusal({ scenarios: { a: { executor, request } }, thresholds: { errors: ['p(99)<1'] } })).toContain('errors takes rate, count, value, not p');
    expect(refusal({ scenarios: { a: { executor, request, thresholds: ['schedule_lag: p(97)<5'] } } })).toContain('schedule_lag has p(50)');
    expect(refusal({ scenarios: { a: { executor, request, thresholds: ['p(99)<2OO'] } } })).toContain('"p(99)<2OO" is not valid');
    expect(refusal({ scenarios: { a: { executor, request, thresold: ['p(99)<1'] } } })).toContain('scenario "a": unknown option "thresold"');
    expect(refusal({ scenario: {} })).toContain('unknown run option "scenario"');
    expect(refusal({ scenarios: {} })).toContain('no scenarios');
  });

  // The table above is the CLI's copy of what the report's evaluator reads: measured on a real
  // run, every metric × aggregation the table refuses must be one the evaluator cannot read,
  // and every one it accepts must evaluate to a number.
  it("agrees with the report's threshold evaluator for every built-in metric and aggregation", async () => {
    await using server = await startItemsServer();
    const scenarios = buildScenarios({ scenarios: { list: { executor, request, checks: { ok: () => true } } } } as unknown as RunDefinition);
    const [measuredResult] = (await run(scenarios, { baseUrl: server.url })).scenarios;
    if (!measuredResult) throw new Error('the run measured nothing');
    const measured = scenarioReport(measuredResult);
    for (const [metric, takes] of Object.entries(BUILTIN_AGGREGATIONS)) {
      for (const aggregation of ['p', 'avg', 'min', 'max', 'med', 'rate', 'count', 'value']) {
        const expression = `${metric}: ${aggregation === 'p' ? 'p(99)' : aggregation}<1e9`;
        const [t] = evaluateThresholds([expression], measured);
        const readable = t?.actual !== null;
        expect({ expression, readable }).toEqual({ expression, readable: takes.includes(aggregation) });
      }
    }
  });
});
