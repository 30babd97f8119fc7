import { runReportSchema, type GeneratorReport } from '@crucible/contracts';
import { describe, expect, it } from 'vitest';
import { parseHtml } from '../tests/html-parse.js';
import { latencies, runFrom, scenarioFrom } from '../tests/report-fixture.js';
import { collectFigures } from './baseline.js';
import { combineReports } from './combine.js';
import { EXIT, exitCodeFor } from './exit-codes.js';
import { renderConsole } from './render/console.js';
import { renderHtml } from './render/html.js';
import { renderJunit } from './render/junit.js';
import { renderMarkdown } from './render/markdown.js';
import { runStatus } from './thresholds.js';

const STARVED: GeneratorReport = { lag_p99_ms: 140, loop_delay_p99_ms: 62, loop_delay_max_ms: 310, cpu_share: 0.41, cpu_cores: 0.35, load_per_core: 2.1, starved: true, reason: 'event-loop delay p99 62 ms > 50 ms; start lag p99 140 ms > 100 ms' };
const FIGURES = 'load generator starved (event-loop delay p99 62 ms, lag p99 140 ms, CPU share 41 %, load 2.1 per core)';
const TIMING = ['p(99)<100', 'avg<50', 'med<40', 'max<1000', 'min<1', 'latency: count>=10', 'requests: rate>=90', 'requests: count>=10', 'dropped_iterations: count==0', 'schedule_lag: p(99)<20'];
const CORRECTNESS = ['rate<0.01', 'errors: count==0', 'checks: rate==1', 'duplicates: count==0'];

function scenario(generator: GeneratorReport | undefined, duplicates = 0) {
  return scenarioFrom('writes', [latencies(100, 30, 10, 1), latencies(100, 35, 10, 2)], {
    thresholdExpressions: [...TIMING, ...CORRECTNESS],
    metrics: { duplicates },
    checks: { 'status is 201': { passes: 200, fails: 0 } },
    schedule_lag_ms: { p50: 1, p90: 2, p95: 3, p99: 4, p999: 5, max: 6, mean: 1, min: 0 },
    ...(generator ? { generator } : {}),
  });
}

describe('a starved load generator', () => {
  it('makes latency and throughput thresholds inconclusive, naming its figures, and judges correctness ones as usual', () => {
    const s = scenario(STARVED, 2);
    const by = Object.fromEntries(s.thresholds.map((t) => [t.expression, t]));
    for (const e of TIMING) {
      expect(by[e], e).toMatchObject({ status: 'inconclusive', passed: false });
      expect(by[e]?.message, e).toContain(`inconclusive: ${FIGURES}; measured`);
      expect(by[e]?.actual, e).not.toBeNull(); // the figure is still shown
    }
    expect(by['requests: rate>=90']?.message).toMatch(/requests rate = 100 req\/s sustained of 100 req\/s targeted/);
    for (const e of ['rate<0.01', 'errors: count==0', 'checks: rate==1']) expect(by[e], e).toMatchObject({ status: 'pass', passed: true });
    expect(by['duplicates: count==0']).toMatchObject({ status: 'fail', passed: false, actual: 2 });
    // A real failure wins over inconclusive.
    expect(s.status).toBe('fail');
    expect(scenario(STARVED).status).toBe('inconclusive');
  });

  it('leaves every threshold judged when the generator was not starved', () => {
    const s = scenario({ ...STARVED, starved: false, reason: null, loop_delay_p99_ms: 3, lag_p99_ms: 2, cpu_share: 0.9 });
    const by = Object.fromEntries(s.thresholds.map((t) => [t.expression, t]));
    expect(s.thresholds.every((t) => t.status !== 'inconclusive')).toBe(true);
    expect(by['p(99)<100']).toMatchObject({ status: 'pass', passed: true });
    expect(by['min<1']).toMatchObject({ status: 'fail', passed: false });
    expect(scenario(undefined).thresholds.find((t) => t.expression === 'p(99)<100')?.status).toBe('pass');
  });

  it('a threshold that cannot be evaluated still fails, starved or not', () => {
    const s = scenarioFrom('x', [latencies(10, 5, 1)], { thresholdExpressions: ['ghost: count==0'], generator: STARVED });
    expect(s.thresholds[0]).toMatchObject({ status: 'fail', passed: false });
  });
});

describe('exit codes with inconclusive', () => {
  const inconclusive = () => runFrom([scenario(STARVED)]);
  const passing = () => runFrom([scenario(undefined)].map((s) => ({ ...s, thresholds: s.thresholds.filter((t) => t.expression !== 'min<1'), status: 'pass' as const, passed: true })));

  it('0 pass · 1 a real failure (wins) · 2 crash · 4 only inconclusive (beats a regression)', () => {
    expect(exitCodeFor(passing())).toBe(EXIT.ok);
    expect(EXIT.inconclusive).toBe(4);
    expect(exitCodeFor(inconclusive())).toBe(EXIT.inconclusive);
    expect(exitCodeFor([inconclusive(), passing()])).toBe(EXIT.inconclusive);
    expect(exitCodeFor(runFrom([scenario(STARVED, 1)]))).toBe(EXIT.failed);
    expect(exitCodeFor([inconclusive(), runFrom([scenario(undefined, 3)])])).toBe(EXIT.failed);
    expect(exitCodeFor({ ...inconclusive(), crash: 'boom' })).toBe(EXIT.crash);
    const regressed = { baseline_id: 'b', baseline_runs: 3, current_runs: 1, method: 'median', figures: [], regressed: true, unjudged: [] };
    expect(exitCodeFor({ ...passing(), comparison: regressed })).toBe(EXIT.regression);
    expect(exitCodeFor({ ...inconclusive(), comparison: regressed })).toBe(EXIT.inconclusive);
  });

  it('reads reports written before status existed by their passed flags', () => {
    const old = runReportSchema.parse(JSON.parse(JSON.stringify({ ...runFrom([{ ...scenario(undefined, 1), status: undefined }]), status: undefined })));
    expect(old.status).toBeUndefined();
    expect(exitCodeFor(old)).toBe(EXIT.failed);
    expect(exitCodeFor({ ...old, passed: true, scenarios: old.scenarios.map((s) => ({ ...s, passed: true, thresholds: [] })) })).toBe(EXIT.ok);
  });

  it('a verdict pushed after the report was built still fails the run', () => {
    const r = inconclusive();
    r.scenarios[0]?.verdicts.push({ checker: 'durability', status: 'fail', summary: '3 acknowledged writes missing', counts: { missing: 3 }, examples: [] });
    expect(exitCodeFor(r)).toBe(EXIT.failed);
  });

  it('a combined report is inconclusive when its runs are, and failed once one failed', () => {
    expect(runStatus(combineReports([inconclusive(), passing()]))).toBe('inconclusive');
    expect(combineReports([inconclusive(), runFrom([scenario(undefined, 3)])]).status).toBe('fail');
  });
});

describe('baselines', () => {
  it("take no timing figure from a starved scenario, only its error rate", () => {
    expect(Object.keys(collectFigures([runFrom([scenario(STARVED)])])['writes'] ?? {})).toEqual(['error_rate']);
    expect(Object.keys(collectFigures([runFrom([scenario(undefined)])])['writes'] ?? {})).toContain('latency_ms.p99');
  });
});

describe('every report form shows inconclusive', () => {
  const report = () => runFrom([scenario(STARVED), { ...scenario(undefined), name: 'reads', thresholds: [], status: 'pass' as const, passed: true }]);

  it('console and Markdown say INCONCLUSIVE, list each item with the figures, and call nothing a failure', () => {
    const text = renderConsole(report());
    expect(text).toMatch(/^fixture suite \(stress\) — INCONCLUSIVE/);
    expect(text).toContain(`? threshold p(99)<100  actual`);
    expect(text).toMatch(/inconclusive \(neither passed nor failed\):\n(?:.*\n)*.*writes: threshold p\(99\)<100 inconclusive: load generator starved/);
    expect(text).not.toMatch(/failures:/);
    const md = renderMarkdown(report());
    expect(md).toMatch(/^## ⚠️ fixture suite · stress — INCONCLUSIVE/);
    expect(md).toContain(`> ⚠️ **Inconclusive:** ${FIGURES}`);
    expect(md).toContain('| `p(99)<100` | latency |');
    expect(md).not.toContain('**Failures**');
  });

  it('HTML marks the run, the scenario and each threshold inconclusive', () => {
    const html = renderHtml(report());
    expect(() => parseHtml(html)).not.toThrow();
    expect(html).toContain('<header class="inconclusive" data-passed="false" data-status="inconclusive">');
    expect(html).toContain('<span class="badge inconclusive">inconclusive</span></h2>');
    expect(html).toMatch(/<tr class="inconclusive"><td><code>p\(99\)&lt;100<\/code>/);
    expect(html).toContain('data-starved="true"');
  });

  it('JUnit makes each inconclusive threshold <skipped> and counts it on its suite and on the whole', () => {
    const xml = renderJunit(report());
    const skipped = TIMING.length;
    expect(xml.match(/<skipped /g)).toHaveLength(skipped);
    expect(xml).toMatch(new RegExp(`<testsuites [^>]*tests="${TIMING.length + CORRECTNESS.length}" failures="0" errors="0" skipped="${skipped}">`));
    expect(xml).toMatch(new RegExp(`<testsuite name="writes" tests="${TIMING.length + CORRECTNESS.length}" failures="0" errors="0" skipped="${skipped}"`));
    expect(xml).toMatch(/<testsuite name="reads" tests="0" failures="0" errors="0" skipped="0"/);
    expect(xml).toMatch(/name="threshold p\(99\)&lt;100" time="0">\s*<skipped message="inconclusive: load generator starved \(event-loop delay p99 62 ms/);
  });
});

describe('a verdict that could not decide', () => {
  const withVerdict = (status: 'pass' | 'fail' | 'indeterminate') => {
    const s = scenarioFrom('capacity', [latencies(100, 30, 10, 1)], { thresholdExpressions: ['rate<0.01'] });
    return { ...s, verdicts: [{ checker: 'capacity', status, summary: `capacity ${status}`, counts: {}, examples: [] }] };
  };

  it('makes its scenario and run inconclusive (exit 4), never a silent pass; a failed verdict still fails', () => {
    expect(runStatus(runFrom([withVerdict('pass')]))).toBe('pass');
    expect(runStatus(runFrom([withVerdict('indeterminate')]))).toBe('inconclusive');
    expect(exitCodeFor(runFrom([withVerdict('indeterminate')]))).toBe(EXIT.inconclusive);
    expect(runStatus(runFrom([withVerdict('indeterminate'), withVerdict('fail')]))).toBe('fail');
  });
});
