import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { defineConfig } from '@playwright/test';

// Artifacts (screenshots, traces, the HTML and JSON results) stay with the other reports.
const out = path.join(import.meta.dirname, '../../../reports/@crucible/metrics-gateway-suites/e2e');

/**
 * The system Chromium: `CHROMIUM_PATH`, else the first executable of the paths
 * tools/install-chromium.sh looks at (the `tools:install-chromium` target every `e2e`
 * depends on installs one when none is there).
 */
function chromiumPath(): string {
  const explicit = process.env['CHROMIUM_PATH'];
  if (explicit) return explicit;
  const candidates = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];
  const found = candidates.find((c) => {
    try {
      accessSync(c, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
  // Unfound, Playwright names the first path in its launch error.
  return found ?? candidates[0]!;
}

/**
 * Browser tests of the live dashboard and the HTML report in the system Chromium (never a
 * Playwright browser download), see {@link chromiumPath}.
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
      executablePath: chromiumPath(),
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
