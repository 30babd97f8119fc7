import { expect, test } from '@playwright/test';
import { startSut } from '@crucible/testbed';
import { drained, publishRun } from '../src/history-fixtures.js';
import { HistoryPublisher } from '../src/history-publisher.js';

const app = 'metrics-gateway';

test('the history page draws a scenario’s trend, flags the planted regression, and a click opens that run', async ({ page }, testInfo) => {
  // The gateway as a process on a real (embedded) PostgreSQL, as the history tests run it.
  await using sut = await startSut({ apps: [app], env: { LOG_LEVEL: 'warn' } });
  const suffix = Math.random().toString(36).slice(2, 8);
  const { api_key: key } = await sut.createProject(`e2e-history-${suffix}`, app);
  const pub = await HistoryPublisher.connect(sut.url(app), key);
  const t0 = Date.now() - 600_000;
  // Three clean runs, then one with a planted p99 regression (80 ms against a median of 40).
  const runs = [
    { id: `clean-1-${suffix}`, p99: 40 },
    { id: `clean-2-${suffix}`, p99: 42 },
    { id: `clean-3-${suffix}`, p99: 39 },
    { id: `planted-${suffix}`, p99: 80 },
  ];
  for (const [i, r] of runs.entries()) {
    const answers = await publishRun(pub, r.id, { scenario: 'checkout', p99: r.p99, passed: true, branch: 'main', points: 5, startedAt: new Date(t0 + i * 60_000) });
    expect(answers.every((a) => a.ok), r.id).toBe(true);
  }
  pub.close();
  await drained(sut.url(app));

  // The key travels in the fragment (never sent to the server) and leaves the address bar.
  await page.goto(`${sut.url(app)}/history?scenario=checkout#key=${encodeURIComponent(key)}`);
  await expect(page.locator('#status')).toHaveText('ready');
  expect(page.url()).not.toContain(key);
  const chart = page.locator('#trend-chart');
  await expect(chart).toHaveAttribute('data-points', '4');
  for (const s of ['p50', 'p95', 'p99']) await expect(chart.locator(`polyline[data-series=${s}]`)).toHaveCount(1);
  // Oldest left: the points in publish order, only the planted one flagged.
  await expect(chart.locator('g.run-point')).toHaveCount(4);
  expect(await chart.locator('g.run-point').evaluateAll((gs) => gs.map((g) => g.getAttribute('data-run-id')))).toEqual(runs.map((r) => r.id));
  await expect(chart.locator('g.run-point.regressed')).toHaveCount(1);
  const flagged = chart.locator(`g.run-point[data-run-id="planted-${suffix}"]`);
  await expect(flagged).toHaveAttribute('data-regressed', 'true');
  await expect(flagged.locator('text.flag-label')).toHaveText('regression');
  await expect(page.locator(`#trend-rows tr[data-run-id="planted-${suffix}"] [data-stat=regression]`)).toContainText('latency_ms.p99 +40.00 (bound 6.00)');
  await expect(page.locator(`#trend-rows tr[data-run-id="clean-3-${suffix}"] [data-stat=regression]`)).toContainText('not judged');
  await page.screenshot({ path: testInfo.outputPath('history-trend.png'), fullPage: true });

  // A click on the flagged point opens that run: its detail, per-second chart and verdict.
  await flagged.locator('rect.hit').click();
  await expect(page.locator('#run')).toBeVisible();
  await expect(page.locator('#run-id')).toHaveText(`planted-${suffix}`);
  await expect(page.locator('#run-outcome')).toHaveText('PASSED');
  const row = page.locator('#run-rows tr[data-scenario=checkout]');
  await expect(row.locator('[data-stat=p99]')).toHaveText('80.00');
  await expect(row.locator('[data-stat=regression]')).toContainText('REGRESSED');
  await expect(page.locator('#run-chart')).toHaveAttribute('data-points', '5');
  expect(new URL(page.url()).searchParams.get('run')).toBe(`planted-${suffix}`);
  await page.screenshot({ path: testInfo.outputPath('history-run.png'), fullPage: true });

  // Another point opens its run; back returns to the flagged one.
  await chart.locator(`g.run-point[data-run-id="clean-1-${suffix}"] rect.hit`).click();
  await expect(page.locator('#run-id')).toHaveText(`clean-1-${suffix}`);
  await page.goBack();
  await expect(page.locator('#run-id')).toHaveText(`planted-${suffix}`);

  // A wrong key is told, and the page asks for one.
  await page.evaluate(() => sessionStorage.clear());
  await page.goto(`${sut.url(app)}/history?scenario=checkout#key=ck_wrong`);
  await expect(page.locator('#key-form')).toBeVisible();
  await expect(page.locator('#error')).not.toBeEmpty();
});
