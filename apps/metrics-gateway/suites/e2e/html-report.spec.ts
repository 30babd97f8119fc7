import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { expect, test } from '@playwright/test';
import { constantArrivalRate, run, scenario } from '@crucible/load-engine';
import { buildReport, renderHtml } from '@crucible/reporting';
import { startTarget } from './support.js';

test('the HTML report of a real run renders every chart with content', async ({ page }, testInfo) => {
  const target = await startTarget();
  let html: string;
  try {
    const result = await run(
      [
        scenario({
          name: 'ping',
          executor: constantArrivalRate({ rate: 50, duration: '3s', preAllocatedVUs: 10, maxVUs: 40 }),
          request: (ctx) => ctx.http.request({ path: '/' }),
          thresholds: ['p(99)<2000'],
        }),
      ],
      { baseUrl: target.url },
    );
    html = renderHtml(buildReport(result, { suite: 'metrics-gateway e2e html report' }));
  } finally {
    await target.close();
  }
  const file = testInfo.outputPath('report.html');
  writeFileSync(file, html);
  await page.goto(pathToFileURL(file).href);
  // A generous bound on a real run: it passes, or, when the machine starved the load generator
  // (a loaded CI host), it is honestly inconclusive; it never fails.
  await expect(page.locator('header')).toHaveAttribute('data-status', /^(pass|inconclusive)$/);
  await expect(page.locator('header')).toContainText(/passed|inconclusive/i);

  for (const kind of ['latency', 'histogram', 'rps']) {
    const chart = page.locator(`svg.chart[data-chart="${kind}"][data-scenario="ping"]`);
    await expect(chart).toBeVisible();
    const box = (await chart.boundingBox())!;
    expect(box.width).toBeGreaterThan(100);
    expect(box.height).toBeGreaterThan(50);
    if (kind === 'histogram') expect(await chart.locator('rect.bar').count()).toBeGreaterThan(0);
    else expect(await chart.locator('path.series').count()).toBeGreaterThan(0);
    // Not an empty frame: rasterise the SVG as the browser draws it and count inked pixels.
    const inked = await chart.evaluate(async (svg) => {
      const xml = new XMLSerializer().serializeToString(svg);
      const img = new Image();
      img.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(xml)}`;
      await img.decode();
      const canvas = document.createElement('canvas');
      canvas.width = img.naturalWidth || 600;
      canvas.height = img.naturalHeight || 200;
      const g = canvas.getContext('2d')!;
      g.fillStyle = '#fff';
      g.fillRect(0, 0, canvas.width, canvas.height);
      g.drawImage(img, 0, 0);
      const { data } = g.getImageData(0, 0, canvas.width, canvas.height);
      let n = 0;
      // Coloured pixels (the data marks; axes and text are grey).
      for (let i = 0; i < data.length; i += 4) {
        const r = data[i]!, gr = data[i + 1]!, b = data[i + 2]!;
        if (Math.max(r, gr, b) - Math.min(r, gr, b) > 40) n++;
      }
      return n;
    });
    expect(inked, `${kind} chart has coloured marks`).toBeGreaterThan(100);
    await chart.screenshot({ path: testInfo.outputPath(`report-${kind}.png`) });
  }
  await page.screenshot({ path: testInfo.outputPath('report.png'), fullPage: true });
});
