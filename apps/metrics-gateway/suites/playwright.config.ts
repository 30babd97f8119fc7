import path from 'node:path';
import { defineConfig } from '@playwright/test';

// Artifacts (screenshots, traces, the HTML and JSON results) stay with the other reports.
const out = path.join(import.meta.dirname, '../../../reports/@crucible/metrics-gateway-suites/e2e');

/**
 * Browser tests of the live dashboard and the HTML report in the system Chromium (never a
 * Playwright browser download): `CHROMIUM_PATH`, else `/usr/bin/chromium`.
 */
export default defineConfig({
  testDir: './e2e',
  testMatch: '**/*.spec.ts',
  outputDir: path.join(out, 'test-results'),
  forbidOnly: !!process.env['CI'],
  retries: 0,
  workers: 1,
  timeout: 120_000,
  expect: { timeout: 20_000 },
  reporter: [
    ['list'],
    ['json', { outputFile: path.join(out, 'results.json') }],
    ['html', { outputFolder: path.join(out, 'html'), open: 'never' }],
  ],
  use: {
    browserName: 'chromium',
    headless: true,
    screenshot: 'on',
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: process.env['CHROMIUM_PATH'] || '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--headless',
        '--disable-gpu',
        '--disable-dev-shm-usage',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    },
  },
});
