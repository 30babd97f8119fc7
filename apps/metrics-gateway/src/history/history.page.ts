import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';

// The assets sit next to src/ and dist/ (../../assets from src/history and dist/history).
const assets = path.join(import.meta.dirname, '..', '..', 'assets');
const script = readFileSync(path.join(assets, 'history.js'), 'utf8');
const style = readFileSync(path.join(assets, 'history.css'), 'utf8');
const sha = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

/** Its own inline script and style (by hash) and fetch to its own origin only: no CDN, nothing else loads. */
const csp = ["default-src 'none'", `script-src ${sha(script)}`, `style-src ${sha(style)}`, "connect-src 'self'", "img-src 'self' data:", "base-uri 'none'", "form-action 'none'"].join('; ');

/** What the page was asked for (validated by the route). */
export interface HistoryPageQuery {
  scenario?: string | undefined;
  run?: string | undefined;
  last: number;
  k: number;
}

/**
 * The run history page: one self-contained HTML page whose script reads `/api/v1` with the
 * project API key the user gives it (`#key=` in the URL, a fragment the browser never sends,
 * or the form; kept in the tab's sessionStorage), draws the trend of p50/p95/p99 across the
 * scenario's runs as inline SVG, flags the runs `/api/v1/trend` judged regressed, and opens a
 * run's detail (its scenarios, thresholds, per-second latency and regression verdicts) when
 * its point is clicked.
 */
export function historyPage(q: HistoryPageQuery): { html: string; csp: string } {
  // `<` is escaped so no value can close the JSON data block.
  const config = JSON.stringify({ scenario: q.scenario ?? null, run: q.run ?? null, last: q.last, k: q.k }).replace(/</g, '\\u003c');
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Crucible run history</title>
<style>${style}</style>
</head>
<body>
<header>
  <h1>Crucible run history <span id="heading-scenario"></span></h1>
  <span class="meta">state <b id="status">loading</b></span>
  <form id="key-form" hidden>
    <label>project API key <input id="key-input" type="password" autocomplete="off" required></label>
    <button type="submit">Show</button>
  </form>
  <span id="error" role="alert"></span>
</header>
<main>
  <section id="scenario-list" class="card" hidden>
    <h2>Scenarios of the latest run</h2>
    <ul id="scenarios"></ul>
    <p id="no-runs" hidden>This project has no ended run yet.</p>
  </section>
  <section id="trend" class="card" hidden>
    <h2>p50 / p95 / p99 per run (oldest left), each run against its last <span id="k"></span> runs on the same machine class</h2>
    <svg id="trend-chart" viewBox="0 0 800 260" role="img" aria-label="latency trend"></svg>
    <table>
      <thead><tr><th>run</th><th>started</th><th>machine</th><th>outcome</th><th>p50 ms</th><th>p95 ms</th><th>p99 ms</th><th>regression</th></tr></thead>
      <tbody id="trend-rows"></tbody>
    </table>
  </section>
  <section id="run" class="card" hidden>
    <h2>Run <span id="run-id"></span>: <span id="run-outcome" class="verdict"></span></h2>
    <p id="run-meta" class="muted"></p>
    <table>
      <thead><tr><th>scenario</th><th>requests</th><th>errors</th><th>req/s</th><th>p50 ms</th><th>p95 ms</th><th>p99 ms</th><th>thresholds</th><th>result</th><th>against earlier runs</th></tr></thead>
      <tbody id="run-rows"></tbody>
    </table>
    <figure class="chart"><figcaption>latency per second of <span id="run-chart-scenario"></span></figcaption><svg id="run-chart" viewBox="0 0 800 200"></svg></figure>
  </section>
</main>
<script type="application/json" id="history-config">${config}</script>
<script>${script}</script>
</body>
</html>
`;
  return { html, csp };
}
