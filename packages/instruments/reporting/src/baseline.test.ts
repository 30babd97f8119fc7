import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { latencies, runFrom, scenarioFrom } from '../tests/report-fixture.js';
import { bootstrapMedianDiff, compareWithBaseline, createBaseline, loadBaseline, saveBaseline, withComparison } from './baseline.js';
import { EXIT, exitCodeFor } from './exit-codes.js';
import { renderConsole } from './render/console.js';
import { renderJunit } from './render/junit.js';
import { renderMarkdown } from './render/markdown.js';

/** A run whose latency centre is `center` ms; `seed` varies the noise between repeats. */
const runAt = (center: number, seed: number, rps = 100) =>
  runFrom([scenarioFrom('next id', [latencies(rps, center, center * 0.3, seed), latencies(rps, center, center * 0.3, seed + 100)])]);

describe('statistics', () => {
  it('a bootstrap interval that brackets the true shift', () => {
    const [lo, hi] = bootstrapMedianDiff([10, 11, 12, 10.5, 11.5], [20, 21, 22, 20.5, 21.5]);
    expect(lo).toBeGreaterThan(8);
    expect(hi).toBeLessThan(12);
  });
});

describe('baseline comparison', () => {
  it('repeated runs at the same level do not regress; a 60 % slower p99 does, and the figure is named', async () => {
    const baseline = createBaseline([runAt(20, 1), runAt(20, 2), runAt(20, 3)], 'ids@v1');
    const file = path.join(await mkdtemp(path.join(os.tmpdir(), 'crucible-baseline-')), 'baselines', 'stress.json');
    await saveBaseline(baseline, file);
    const loaded = await loadBaseline(file);
    expect(loaded.figures['next id']?.['latency_ms.p99']).toHaveLength(3);

    const same = compareWithBaseline(loaded, [runAt(20, 4), runAt(20, 5), runAt(20, 6)]);
    expect(same.regressed).toBe(false);
    expect(same.figures.map((f) => f.figure)).toEqual(['latency_ms.p50', 'latency_ms.p95', 'latency_ms.p99', 'rps.achieved', 'error_rate']);

    const slow = compareWithBaseline(loaded, [runAt(32, 4), runAt(32, 5), runAt(32, 6)]);
    expect(slow.regressed).toBe(true);
    const regressed = slow.figures.filter((f) => f.regressed).map((f) => f.figure);
    expect(regressed).toEqual(expect.arrayContaining(['latency_ms.p50', 'latency_ms.p99']));
    expect(regressed).not.toContain('rps.achieved');
    expect(slow.figures.find((f) => f.figure === 'latency_ms.p99')?.note).toMatch(/bootstrap CI/);

    // Exit code 3 tells a regression from a failure (1) and a crash (2); every form names the figure.
    const report = withComparison(runAt(32, 7), slow);
    expect(exitCodeFor(report)).toBe(EXIT.regression);
    expect(exitCodeFor({ ...report, passed: false })).toBe(EXIT.failed);
    expect(exitCodeFor({ ...report, crash: 'db never came up' })).toBe(EXIT.crash);
    for (const text of [renderConsole(report), renderMarkdown(report), renderJunit(report)]) expect(text).toMatch(/latency_ms\.p99 regressed/);
  });

  it('a baseline taken on a starved generator compares no timing figure: the comparison is inconclusive (exit 4), never a silent pass', () => {
    const starved = runAt(20, 1);
    const s0 = starved.scenarios[0] as (typeof starved.scenarios)[number];
    const starvedRun = { ...starved, scenarios: [{ ...s0, generator: { lag_p99_ms: 140, loop_delay_p99_ms: 62, loop_delay_max_ms: 90, cpu_share: 0.3, cpu_cores: 0.3, load_per_core: 2.1, starved: true, reason: 'event-loop delay p99 62 ms > 50 ms' } }] };
    const baseline = createBaseline([starvedRun], 'ids@starved');
    expect(Object.keys(baseline.figures['next id'] ?? {})).toEqual(['error_rate']);
    const comparison = compareWithBaseline(baseline, [runAt(20, 4)]);
    expect(comparison.regressed).toBe(false);
    expect(comparison.figures.map((f) => f.figure)).toEqual(['error_rate']);
    expect(comparison.unjudged.map((u) => u.figure)).toEqual(['latency_ms.p50', 'latency_ms.p95', 'latency_ms.p99', 'rps.achieved']);
    const report = withComparison(runAt(20, 4), comparison);
    expect(exitCodeFor(report)).toBe(EXIT.inconclusive);
    expect(renderConsole(report)).toMatch(/INCONCLUSIVE: 4 figure\(s\) not compared/);
    expect(renderConsole(report)).toMatch(/latency_ms\.p99 not compared with the baseline: the baseline has no value for it/);
    // The same the other way round: a starved run against a sound baseline.
    const sound = createBaseline([runAt(20, 2)], 'ids@v1');
    expect(compareWithBaseline(sound, [starvedRun]).unjudged.map((u) => u.why)).toContain('this run has no value for it (its load generator was starved)');
  });

  it('noise is not a regression: a single noisy run within 3 × MAD of a noisy baseline passes', () => {
    const noisy = (p99: number) => runFrom([{ ...scenarioFrom('x', [latencies(50, 20, 5, p99)]), latency_ms: { p50: 20, p90: 30, p95: 35, p99, p999: p99, max: p99, mean: 21, min: 1 } }]);
    const baseline = createBaseline([noisy(40), noisy(60), noisy(50), noisy(45), noisy(70)]);
    expect(compareWithBaseline(baseline, [noisy(75)]).figures.find((f) => f.figure === 'latency_ms.p99')?.regressed).toBe(false);
    expect(compareWithBaseline(baseline, [noisy(140)]).figures.find((f) => f.figure === 'latency_ms.p99')?.regressed).toBe(true);
  });
});
