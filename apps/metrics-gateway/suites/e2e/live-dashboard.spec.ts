import { expect, test } from '@playwright/test';
import { constantArrivalRate, run, scenario, startLiveSink } from '@crucible/load-engine';
import { buildReport, runEndSummary } from '@crucible/reporting';
import { startGateway, startTarget, token } from './support.js';

test('the dashboard shows a live run as it happens, and its numbers match the final report', async ({ page }, testInfo) => {
  const gateway = await startGateway();
  const target = await startTarget();
  try {
    const runId = `e2e-live-${Date.now()}`;
    const live = await startLiveSink({ gatewayUrl: gateway.url, token, runId, summarize: runEndSummary });
    expect(live.dashboardUrl).toBe(`${gateway.url}/dashboard/${runId}`);
    await page.goto(live.dashboardUrl);
    await expect(page.locator('#status')).toHaveText('live');

    const scenarios = [
      scenario({
        name: 'ping',
        executor: constantArrivalRate({ rate: 40, duration: '8s', preAllocatedVUs: 10, maxVUs: 40 }),
        request: (ctx) => ctx.http.request({ path: '/' }),
        // Every 25th answer is a 500: `errors: count==0` fails whatever the machine's load, so
        // the run shows FAILED even when a starved generator leaves the latency bounds unjudged.
        thresholds: ['p(99)<2000', 'rate<0.5', 'errors: count==0'],
      }),
      scenario({
        name: 'slow',
        executor: constantArrivalRate({ rate: 10, duration: '8s', preAllocatedVUs: 5, maxVUs: 20 }),
        request: (ctx) => ctx.http.request({ path: '/slow' }),
        // Every request takes 20 ms: this latency bound fails (or, on a starved generator, is inconclusive).
        thresholds: ['p(50)<1'],
      }),
    ];
    const finished = run(scenarios, { baseUrl: target.url, runId, sinks: [live.sink] });

    // While the run is still going, the charts fill second by second.
    const ping = page.locator('section.scenario[data-scenario="ping"]');
    await expect.poll(async () => Number(await ping.locator('[data-stat=seconds]').textContent()), { timeout: 20_000 }).toBeGreaterThanOrEqual(2);
    await expect(page.locator('#summary')).toBeHidden();
    expect(Number(await ping.locator('[data-stat=requests]').textContent())).toBeGreaterThan(0);
    await expect(ping.locator('[data-chart=latency] polyline[data-series=p99]')).toHaveCount(1);
    await page.screenshot({ path: testInfo.outputPath('dashboard-live.png'), fullPage: true });

    const result = await finished;
    const report = buildReport(result, { suite: 'metrics-gateway e2e live dashboard' });
    expect(report.passed).toBe(false);
    await expect(page.locator('#verdict')).toHaveText('FAILED');

    for (const s of report.scenarios) {
      const section = page.locator(`section.scenario[data-scenario="${s.name}"]`);
      const row = page.locator(`#summary-rows tr[data-scenario="${s.name}"]`);
      // Live totals (summed from the per-second snapshots) equal the final report's.
      await expect(section.locator('[data-stat=requests]')).toHaveText(String(s.requests));
      await expect(section.locator('[data-stat=errors]')).toHaveText(String(s.requests - s.successes));
      await expect(section.locator('[data-chart=rps] svg')).toHaveAttribute('data-points', String(s.series.length));
      await expect(row.locator('[data-stat=requests]')).toHaveText(String(s.requests));
      await expect(row.locator('[data-stat=errors]')).toHaveText(String(s.requests - s.successes));
      await expect(row.locator('[data-stat=p99]')).toHaveText(s.latency_ms!.p99.toFixed(2));
      await expect(row.locator('[data-stat=passed]')).toHaveText(s.status ?? (s.passed ? 'pass' : 'fail'));
      for (const t of s.thresholds) await expect(row.locator('[data-stat=thresholds]')).toContainText(`${{ pass: '✓', fail: '✗', inconclusive: '?' }[t.status ?? (t.passed ? 'pass' : 'fail')]} ${t.expression}`);
    }
    expect(report.scenarios.find((s) => s.name === 'ping')!.requests - report.scenarios.find((s) => s.name === 'ping')!.successes).toBeGreaterThan(0);
    await expect(page.locator('#gaps')).toHaveText('0');
    await page.screenshot({ path: testInfo.outputPath('dashboard-finished.png'), fullPage: true });
  } finally {
    await target.close();
    await gateway.stop();
  }
});

test('a run whose load generator was starved shows INCONCLUSIVE, not FAILED or PASSED', async ({ page }) => {
  const gateway = await startGateway();
  const target = await startTarget();
  try {
    const runId = `e2e-starved-${Date.now()}`;
    const live = await startLiveSink({ gatewayUrl: gateway.url, token, runId, summarize: runEndSummary });
    await page.goto(live.dashboardUrl);
    await expect(page.locator('#status')).toHaveText('live');
    const result = await run(
      scenario({
        name: 'starved',
        executor: constantArrivalRate({ rate: 40, duration: '3s', preAllocatedVUs: 10, maxVUs: 40 }),
        // Every 4th iteration holds the generator's own thread for 80 ms: its event-loop delay
        // p99 goes past the 50 ms bound, so the latency threshold cannot be judged.
        request: (ctx) => {
          if (ctx.iteration % 4 === 0) for (const end = performance.now() + 80; performance.now() < end; );
          return ctx.http.request({ path: '/' });
        },
        thresholds: ['p(99)<2000', 'rate<0.5'],
      }),
      { baseUrl: target.url, runId, sinks: [live.sink] },
    );
    const report = buildReport(result, { suite: 'metrics-gateway e2e starved generator' });
    expect(report.status).toBe('inconclusive');
    await expect(page.locator('#verdict')).toHaveText('INCONCLUSIVE');
    const row = page.locator('#summary-rows tr[data-scenario="starved"]');
    await expect(row.locator('[data-stat=passed]')).toHaveText('inconclusive');
    await expect(row.locator('[data-stat=thresholds]')).toContainText('? p(99)<2000');
    await expect(row.locator('[data-stat=thresholds]')).toContainText('✓ rate<0.5');
  } finally {
    await target.close();
    await gateway.stop();
  }
});
