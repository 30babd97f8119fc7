import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';

// The assets sit next to src/ and dist/, so the same path works from sources and build output.
const assets = path.join(import.meta.dirname, '..', 'assets');
const script = readFileSync(path.join(assets, 'dashboard.js'), 'utf8');
const style = readFileSync(path.join(assets, 'dashboard.css'), 'utf8');
const sha = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

/**
 * The page allows only its own inline script and style (by hash) and WebSocket/fetch to its
 * own origin, so it provably loads nothing from elsewhere (no CDN).
 */
const csp = [
  "default-src 'none'",
  `script-src ${sha(script)}`,
  `style-src ${sha(style)}`,
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The live dashboard: one self-contained HTML page (inline script and style, no external
 * resource) that subscribes to `runId` over `/ws` and draws its snapshots; with no run it
 * lists the runs the gateway holds.
 */
export function dashboardPage(runId: string | null): { html: string; csp: string } {
  // `<` is escaped so a run id can never close the JSON data block.
  const config = JSON.stringify({ run_id: runId, ws_path: '/ws' }).replace(/</g, '\\u003c');
  const title = runId ? `Crucible live · ${escapeHtml(runId)}` : 'Crucible live runs';
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<style>${style}</style>
</head>
<body>
<header>
  <h1>${title}</h1>
  <div class="meta">
    <span>connection <b id="status" class="status">connecting</b></span>
    <span>last seq <b id="last-seq">0</b></span>
    <span>messages <b id="received">0</b></span>
    <span>gaps <b id="gaps">0</b></span>
    <span>reconnects <b id="reconnects">0</b></span>
    <span>events <b id="events">0</b></span>
  </div>
  <span id="error" role="alert"></span>
</header>
<main>
  <div id="run-view">
    <section id="summary" hidden>
      <h2>Run finished: <span id="verdict" class="verdict"></span> in <span id="summary-duration"></span> s</h2>
      <table>
        <thead><tr><th>scenario</th><th>requests</th><th>errors</th><th>req/s</th><th>p50 ms</th><th>p95 ms</th><th>p99 ms</th><th>thresholds</th><th>result</th></tr></thead>
        <tbody id="summary-rows"></tbody>
      </table>
    </section>
    <p id="empty">Waiting for the first snapshot…</p>
    <div id="scenarios"></div>
  </div>
  <section id="run-list" hidden>
    <h2>Runs on this gateway</h2>
    <ul id="runs"></ul>
    <p id="no-runs" hidden>No run has published yet.</p>
  </section>
</main>
<script type="application/json" id="dashboard-config">${config}</script>
<script>${script}</script>
</body>
</html>
`;
  return { html, csp };
}
