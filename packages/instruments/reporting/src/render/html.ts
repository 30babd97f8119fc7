import type { RunReport, ScenarioReport } from '@crucible/contracts';
import { decodeHistogram, histogramBuckets } from '@crucible/instrument-kit';
import { runStatus, scenarioStatus, starvedText, thresholdStatus } from '../thresholds.js';
import { breakdownRows, failureLines, inconclusiveLines, ms, num, pct, scenarioLabel } from './format.js';
import { xmlEscape as esc } from './junit.js';
import { barChart, lineChart } from './svg-chart.js';

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d1f21;background:#f6f7f9}
header{padding:18px 28px;color:#fff}header.pass{background:#1f7a3f}header.fail{background:#b42318}header.inconclusive{background:#8a6100}
header h1{margin:0;font-size:22px}header p{margin:4px 0 0;opacity:.9}
main{padding:8px 28px 40px;max-width:1400px}
section.scenario{background:#fff;border:1px solid #dde1e6;border-radius:8px;margin:18px 0;padding:14px 18px}
section.scenario h2{margin:0 0 8px;font-size:18px}.badge{font-size:12px;padding:2px 8px;border-radius:10px;margin-left:8px;vertical-align:middle}
.badge.pass{background:#d3f2dc;color:#155d2f}.badge.fail{background:#fde2df;color:#8f1c12}.badge.indeterminate{background:#eee;color:#444}.badge.inconclusive{background:#fff1c2;color:#6b4b00}
table{border-collapse:collapse;margin:8px 0}td,th{border-bottom:1px solid #e6e8eb;padding:4px 10px;text-align:left}th{background:#f0f2f5;font-weight:600}
td.n{text-align:right;font-variant-numeric:tabular-nums}.charts{display:flex;flex-wrap:wrap;gap:12px}.charts svg{background:#fff;border:1px solid #eceef1;border-radius:6px;max-width:100%;height:auto}
pre{background:#f4f5f7;padding:8px;overflow:auto;max-height:320px;font-size:12px}.failures{background:#fff4f2;border:1px solid #f3c1bb;border-radius:8px;padding:10px 18px}.inconclusive-list,p.starved{background:#fffaeb;border:1px solid #f0d78c;border-radius:8px;padding:10px 18px}
footer{color:#666;font-size:12px;padding:0 28px 24px}`;

function charts(s: ScenarioReport): string {
  const id = scenarioLabel(s);
  const series = s.series;
  const latency = lineChart({ kind: 'latency', scenario: id, title: 'Latency over time', xLabel: 'seconds', yLabel: 'ms' }, [
    { name: 'p50', color: '#4c78a8', points: series.map((p) => [p.t, p.p50] as const) },
    { name: 'p95', color: '#f58518', points: series.map((p) => [p.t, p.p95] as const) },
    { name: 'p99', color: '#e45756', points: series.map((p) => [p.t, p.p99] as const) },
  ]);
  const rps = lineChart({ kind: 'rps', scenario: id, title: 'Requests per second', xLabel: 'seconds', yLabel: 'req/s' }, [
    { name: 'rps', color: '#54a24b', points: series.map((p) => [p.t, p.rps] as const) },
    { name: 'errors', color: '#e45756', points: series.map((p) => [p.t, p.errors] as const) },
    { name: 'dropped', color: '#b279a2', points: series.map((p) => [p.t, p.dropped] as const) },
  ]);
  let buckets: Array<{ upToMs: number; count: number }> = [];
  if (s.histogram) {
    const h = decodeHistogram(s.histogram);
    buckets = histogramBuckets(h, 40);
    h.destroy();
  }
  const histogram = barChart(
    { kind: 'histogram', scenario: id, title: 'Latency distribution', xLabel: 'latency (ms, log buckets)', yLabel: 'requests' },
    buckets.map((b) => ({ label: ms(b.upToMs), value: b.count })),
  );
  return `<div class="charts">\n${latency}\n${histogram}\n${rps}\n</div>`;
}

function scenarioSection(s: ScenarioReport): string {
  const l = s.latency_ms;
  const parts: string[] = [];
  parts.push(`<section class="scenario" data-scenario="${esc(scenarioLabel(s))}">`);
  const st = scenarioStatus(s);
  parts.push(`<h2>${esc(scenarioLabel(s))}<span class="badge ${st}">${({ pass: 'passed', fail: 'failed', inconclusive: 'inconclusive' } as const)[st]}</span></h2>`);
  parts.push(`<p>${esc(s.executor)}${s.segment !== '0:1' ? ` · segment ${esc(s.segment)}` : ''} · ${num(s.duration_s)} s · latency measured from ${s.latency_basis === 'intended' ? 'the intended start (open model)' : 'the send (closed model)'}${Object.keys(s.tags).length ? ` · tags ${esc(Object.entries(s.tags).map(([k, v]) => `${k}=${v}`).join(', '))}` : ''}</p>`);
  parts.push('<table class="summary"><tr><th>requests</th><th>ok</th><th>error rate</th><th>dropped</th><th>rps</th><th>target rps</th><th>p50</th><th>p90</th><th>p95</th><th>p99</th><th>p99.9</th><th>max</th></tr>');
  parts.push(`<tr><td class="n">${s.requests}</td><td class="n">${s.successes}</td><td class="n">${pct(s.error_rate)}</td><td class="n">${s.dropped_iterations}</td><td class="n">${num(s.rps.achieved)}</td><td class="n">${num(s.rps.target)}</td><td class="n">${ms(l?.p50)}</td><td class="n">${ms(l?.p90)}</td><td class="n">${ms(l?.p95)}</td><td class="n">${ms(l?.p99)}</td><td class="n">${ms(l?.p999)}</td><td class="n">${ms(l?.max)}</td></tr></table>`);
  const rows = breakdownRows(s);
  if (rows.length > 0) {
    parts.push(`<h3>By ${esc(s.breakdown?.tag ?? 'tag')}</h3><table class="breakdown"><tr><th>${esc(s.breakdown?.tag ?? 'tag')}</th><th>requests</th><th>errors</th><th>p50</th><th>p95</th><th>p99</th><th>max</th></tr>`);
    for (const [value, e] of rows) parts.push(`<tr><td>${esc(value)}</td><td class="n">${e.requests}</td><td class="n">${e.errors}</td><td class="n">${ms(e.latency_ms?.p50)}</td><td class="n">${ms(e.latency_ms?.p95)}</td><td class="n">${ms(e.latency_ms?.p99)}</td><td class="n">${ms(e.latency_ms?.max)}</td></tr>`);
    parts.push('</table>');
  }
  if (s.aborted) parts.push(`<p class="failures" data-aborted="true">Aborted at ${s.aborted.at_s} s: threshold <code>${esc(s.aborted.threshold)}</code> failed (${s.aborted.actual}); the rest of the schedule was not run.</p>`);
  if (s.generator?.starved) parts.push(`<p class="starved" data-starved="true">Inconclusive: ${esc(starvedText(s.generator))}: ${esc(s.generator.reason ?? '')}. Latency and throughput thresholds are neither passed nor failed.</p>`);
  if (s.schedule_lag_ms) parts.push(`<p class="lag">Start lag of the load generator (actual − intended start): p50 ${ms(s.schedule_lag_ms.p50)} · p99 ${ms(s.schedule_lag_ms.p99)} · max ${ms(s.schedule_lag_ms.max)}</p>`);
  if (s.thresholds.length > 0) {
    parts.push('<h3>Thresholds</h3><table class="thresholds"><tr><th>threshold</th><th>metric</th><th>actual</th><th>result</th></tr>');
    for (const t of s.thresholds) {
      const ts = thresholdStatus(t);
      parts.push(`<tr class="${ts}"><td><code>${esc(t.expression)}</code></td><td>${esc(t.metric)}</td><td class="n">${num(t.actual)}</td><td><span class="badge ${ts}">${ts}</span> ${t.passed ? '' : esc(t.message ?? '')}</td></tr>`);
    }
    parts.push('</table>');
  }
  if (s.verdicts.length > 0) {
    parts.push('<h3>Verdicts</h3><table class="verdicts"><tr><th>checker</th><th>status</th><th>summary</th><th>counts</th></tr>');
    for (const v of s.verdicts) parts.push(`<tr><td>${esc(v.checker)}</td><td><span class="badge ${v.status}">${v.status}</span></td><td>${esc(v.summary)}</td><td>${esc(Object.entries(v.counts).map(([k, n]) => `${k}=${n}`).join(', '))}</td></tr>`);
    parts.push('</table>');
  }
  const checks = Object.entries(s.checks);
  if (checks.length > 0) {
    parts.push('<h3>Checks</h3><table class="checks"><tr><th>check</th><th>passed</th><th>failed</th></tr>');
    for (const [name, c] of checks) parts.push(`<tr><td>${esc(name)}</td><td class="n">${c.passes}</td><td class="n">${c.fails}</td></tr>`);
    parts.push('</table>');
  }
  const errors = Object.entries(s.errors);
  if (errors.length > 0) parts.push(`<h3>Errors</h3><table class="errors"><tr><th>kind</th><th>count</th></tr>${errors.map(([k, v]) => `<tr><td>${esc(k)}</td><td class="n">${v}</td></tr>`).join('')}</table>`);
  parts.push(charts(s));
  for (const e of s.evidence) {
    const body = typeof e.content === 'string' ? e.content : JSON.stringify(e.content, null, 2);
    parts.push(`<details class="evidence"><summary>${esc(e.title)} (${e.kind})</summary><pre>${esc(body)}</pre></details>`);
  }
  parts.push('</section>');
  return parts.join('\n');
}

/**
 * One self-contained HTML page (inline CSS and SVG, no script, no network) with a summary and,
 * per scenario, three charts: `svg.chart[data-chart=latency|histogram|rps][data-scenario=name]`
 * (latency: p50/p95/p99 paths; histogram: `rect.bar`s; rps: requests, errors and dropped paths).
 */
export function renderHtml(report: RunReport): string {
  const r = report.run;
  const status = runStatus(report);
  const title = `${r.suite}${r.target ? ` · ${r.target}` : ''} — ${({ pass: 'passed', fail: 'FAILED', inconclusive: 'INCONCLUSIVE' } as const)[status]}`;
  const failures = failureLines(report);
  const inconclusive = inconclusiveLines(report);
  const comparison = report.comparison
    ? `<section class="comparison"><h2>Baseline ${esc(report.comparison.baseline_id)} — ${report.comparison.regressed ? 'regressed' : 'no regression'}</h2><p>${esc(report.comparison.method)}</p><table><tr><th>scenario</th><th>figure</th><th>baseline</th><th>current</th><th>change</th><th>tolerance</th><th>result</th></tr>${report.comparison.figures
        .map((f) => `<tr><td>${esc(f.scenario)}</td><td>${esc(f.figure)}</td><td class="n">${num(f.baseline)}</td><td class="n">${num(f.current)}</td><td class="n">${f.change_pct === null ? '–' : `${f.change_pct.toFixed(1)} %`}</td><td class="n">±${num(f.tolerance)}</td><td><span class="badge ${f.regressed ? 'fail' : 'pass'}">${f.regressed ? 'regressed' : 'ok'}</span></td></tr>`)
        .join('')}</table></section>`
    : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${CSS}</style>
</head>
<body>
<header class="${status}" data-passed="${report.passed}" data-status="${status}">
<h1>${esc(title)}</h1>
<p>run ${esc(r.id)} · ${esc(r.started_at)} → ${esc(r.finished_at)} · commit ${esc(r.commit ?? 'unknown')} · Node ${esc(r.node)} · ${r.machine.cpus} CPUs · ${esc(r.machine.hostname)}</p>
</header>
<main>
${Object.keys(r.config).length ? `<details class="config"><summary>Run configuration</summary><pre>${esc(JSON.stringify(r.config, null, 2))}</pre></details>` : ''}
${failures.length ? `<section class="failures"><h2>Failures</h2><ul>${failures.map((f) => `<li>${esc(f)}</li>`).join('')}</ul></section>` : ''}
${inconclusive.length ? `<section class="inconclusive-list"><h2>Inconclusive (neither passed nor failed)</h2><ul>${inconclusive.map((f) => `<li>${esc(f)}</li>`).join('')}</ul></section>` : ''}
${report.scenarios.map(scenarioSection).join('\n')}
${comparison}
</main>
<footer>Generated by Crucible · report schema v${report.schema_version} · opens offline, no external resources</footer>
</body>
</html>
`;
}
