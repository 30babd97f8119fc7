import { expect, test, type Page } from '@playwright/test';
import { dashboardUrl, GatewayPublisher } from '@crucible/load-engine';
import { freePort, type RunningApp } from '@crucible/testbed';
import { startGateway, token } from './support.js';

const seqOf = async (page: Page) => Number(await page.locator('#last-seq').textContent());

test('a dropped connection reconnects and the charts continue with no gap in sequence', async ({ page }, testInfo) => {
  // A fixed port, so the restarted gateway is found at the same URL.
  const port = await freePort();
  let gateway: RunningApp = await startGateway({ PORT: String(port) });
  const runId = `e2e-reconnect-${Date.now()}`;
  const publisher = new GatewayPublisher({ gatewayUrl: gateway.url, token });
  let t = 0;
  const timer = setInterval(() => {
    t++;
    publisher.publish({
      type: 'snapshot',
      run_id: runId,
      snapshot: { run_id: runId, scenario: 'steady', t, requests: 50 + (t % 7), errors: t % 5 === 0 ? 1 : 0, rps: 50 + (t % 7), latency_ms: { p50: 2 + (t % 3), p95: 6, p99: 9 + (t % 4) } },
    });
  }, 100);
  try {
    await page.goto(dashboardUrl(gateway.url, runId));
    await expect(page.locator('#status')).toHaveText('live');
    await expect.poll(() => seqOf(page)).toBeGreaterThanOrEqual(10);

    // 1. The gateway drops every socket (as a proxy or load balancer would).
    const before = await seqOf(page);
    const res = await fetch(`${gateway.url}/admin/drop-connections`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    await expect(page.locator('#reconnects')).toHaveText('1');
    await expect(page.locator('#status')).toHaveText('live');
    await expect.poll(() => seqOf(page)).toBeGreaterThanOrEqual(before + 10);
    await page.screenshot({ path: testInfo.outputPath('after-socket-drop.png'), fullPage: true });

    // 2. The gateway process dies and a new one starts on the same port: its history is
    //    gone, the publisher replays its recent window, the page resumes from its last seq.
    await gateway.kill();
    await expect(page.locator('#status')).toHaveText('reconnecting');
    const during = await seqOf(page);
    gateway = await startGateway({ PORT: String(port) });
    await expect(page.locator('#status')).toHaveText('live');
    await expect.poll(() => seqOf(page)).toBeGreaterThanOrEqual(during + 10);
    expect(Number(await page.locator('#reconnects').textContent())).toBe(2);
  } finally {
    clearInterval(timer);
  }
  await publisher.close();
  const published = t;
  // Every snapshot arrived exactly once and in order: last seq = count = published, no gap.
  await expect.poll(() => seqOf(page)).toBe(published);
  await expect(page.locator('#received')).toHaveText(String(published));
  await expect(page.locator('#gaps')).toHaveText('0');
  const steady = page.locator('section.scenario[data-scenario="steady"]');
  await expect(steady.locator('[data-chart=rps] svg')).toHaveAttribute('data-points', String(published));
  await expect(steady.locator('[data-chart=latency] svg')).toHaveAttribute('data-points', String(published));
  await page.screenshot({ path: testInfo.outputPath('after-gateway-restart.png'), fullPage: true });
  await gateway.stop();
});
