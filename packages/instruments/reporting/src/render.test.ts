import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { runReportSchema } from '@crucible/contracts';
import { describe, expect, it } from 'vitest';
import { findAll, parseHtml } from '../tests/html-parse.js';
import { latencies, runFrom, scenarioFrom } from '../tests/report-fixture.js';
import { EXIT } from './exit-codes.js';
import { renderHtml } from './render/html.js';
import { renderJunit, xmlEscape } from './render/junit.js';
import { finishRun } from './write-reports.js';

function failingRun() {
  const ok = scenarioFrom('list tasks', [latencies(200, 20, 10, 1), latencies(200, 25, 10, 2), latencies(200, 400, 300, 3)], {
    thresholdExpressions: ['p(95)<1000', 'rate<0.01'],
    evidence: [{ title: 'EXPLAIN ANALYZE list', kind: 'sql-plan', content: 'Index Scan using tasks_project_status_idx <cost=0.1>' }],
    checks: { 'status is 200': { passes: 600, fails: 0 } },
    breakdown: {
      tag: 'endpoint',
      entries: {
        'GET /tasks': { requests: 400, errors: 0, latency_ms: { p50: 20, p90: 30, p95: 35, p99: 50, p999: 60, max: 61, mean: 22, min: 3 } },
        'GET /tasks/next': { requests: 200, errors: 2, latency_ms: { p50: 400, p90: 600, p95: 650, p99: 690, p999: 699, max: 700, mean: 410, min: 100 } },
      },
    },
  });
  const bad = scenarioFrom('reserve <ids> & "more"', [latencies(100, 80, 20, 4), latencies(100, 90, 20, 5)], {
    thresholdExpressions: ['p(99)<10', 'duplicates: count==0'],
    metrics: { duplicates: 2 },
    verdicts: [
      { checker: 'id-uniqueness', status: 'fail', summary: '2 ids handed out twice', counts: { ok: 198, duplicates: 2 }, examples: ['US-001'] },
      { checker: 'contiguity', status: 'indeterminate', summary: '3 timed-out reservations', counts: { indeterminate: 3 }, examples: [] },
    ],
  });
  return runFrom([ok, bad], { config: { rate_per_s: 100, profile_seconds: 30 } });
}

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

describe('report forms', () => {
  it('a failing threshold and verdict make the exit code 1 and are named in console, JSON, Markdown, JUnit and HTML', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'crucible-report-'));
    const out = new Capture();
    const report = failingRun();
    const code = await finishRun(report, { dir, out, color: false, stepSummary: false });
    process.exitCode = 0;
    expect(code).toBe(EXIT.failed);
    const base = path.join(dir, 'fixture', 'stress');
    const [json, md, xml, html] = await Promise.all(['json', 'md', 'xml', 'html'].map((ext) => readFile(`${base}.${ext}`, 'utf8')));
    const parsed = runReportSchema.parse(JSON.parse(json as string));
    expect(parsed.passed).toBe(false);
    for (const [form, text] of [['console', out.text], ['json', json], ['markdown', md], ['junit', xml], ['html', html]] as const) {
      const plain = (text as string).replace(/&lt;/g, '<').replace(/&quot;/g, '"').replace(/&amp;/g, '&');
      expect(plain, form).toContain('p(99)<10');
      expect(plain, form).toContain('duplicates: count==0');
      expect(plain, form).toContain('id-uniqueness');
    }
    expect(out.text).toMatch(/failures:\n(?:.*\n)*.*threshold p\(99\)<10 failed/);
    // The run configuration travels with the report.
    expect(md).toContain('"rate_per_s": 100');
    expect(html).toContain('&quot;rate_per_s&quot;: 100');
    // The per-endpoint breakdown is in the human forms.
    expect(md).toContain('| GET /tasks/next | 200 | 2 | 400 ms | 650 ms | 690 ms | 700 ms |');
    expect(html).toMatch(/<h3>By endpoint<\/h3>/);
    expect(out.text).toContain('endpoint GET /tasks: 400 requests, 0 errors');
  });

  it('JUnit has one test case per threshold and per verdict, failures carrying the message', () => {
    const xml = renderJunit(failingRun());
    expect(xml.match(/<testcase /g)).toHaveLength(6);
    // The indeterminate verdict is <skipped>, and counted so on its suite and on the whole.
    expect(xml).toContain('<testsuites name="fixture suite stress" tests="6" failures="3" errors="0" skipped="1">');
    expect(xml).toMatch(/<testsuite name="list tasks" tests="2" failures="0" errors="0" skipped="0"/);
    expect(xml).toMatch(/<testsuite name="reserve &lt;ids&gt; &amp; &quot;more&quot;" tests="4" failures="3" errors="0" skipped="1"/);
    expect(xml).toMatch(/name="verdict id-uniqueness" time="0">\s*<failure message="verdict id-uniqueness failed: 2 ids handed out twice" type="verdict">/);
    expect(xml).toMatch(/name="verdict contiguity" time="0">\s*<skipped message="indeterminate: 3 timed-out reservations"\/>/);
    expect(xml).toContain('classname="reserve &lt;ids&gt; &amp; &quot;more&quot;"');
    // Well-formed: parses strictly.
    expect(() => parseHtml(xml.replace(/^<\?xml[^>]*\?>/, ''))).not.toThrow();
  });

  it('the HTML file is self-contained, parses, and every scenario has three non-empty charts', () => {
    const html = renderHtml(failingRun());
    const doc = parseHtml(html);
    expect(html).not.toMatch(/<script|<link|src=|@import|url\(/i);
    for (const url of html.match(/https?:\/\/[^"\s<]+/g) ?? []) expect(url).toBe('http://www.w3.org/2000/svg');
    const charts = findAll(doc, (e) => e.tag === 'svg' && e.attrs['class'] === 'chart');
    // Attribute values are escaped in the file; the parser returns them raw.
    const bad = xmlEscape('reserve <ids> & "more"');
    expect(charts.map((c) => `${c.attrs['data-scenario']}|${c.attrs['data-chart']}`)).toEqual([
      'list tasks|latency', 'list tasks|histogram', 'list tasks|rps', `${bad}|latency`, `${bad}|histogram`, `${bad}|rps`,
    ]);
    for (const chart of charts) {
      const kind = chart.attrs['data-chart'];
      if (kind === 'histogram') {
        const bars = findAll(chart, (e) => e.tag === 'rect' && e.attrs['class'] === 'bar');
        expect(bars.length).toBeGreaterThan(3);
        expect(bars.every((b) => Number(b.attrs['height']) > 0)).toBe(true);
      } else {
        const paths = findAll(chart, (e) => e.tag === 'path' && e.attrs['class'] === 'series');
        expect(paths.map((p) => p.attrs['data-series'])).toEqual(kind === 'latency' ? ['p50', 'p95', 'p99'] : ['rps', 'errors', 'dropped']);
        // Each line has a point per second: M plus an L per further second.
        for (const p of paths) expect(p.attrs['d']).toMatch(/^M[\d.]+,[\d.]+( L[\d.]+,[\d.]+)+$/);
      }
    }
    // The latency line of the first scenario climbs in its third second (the slow one).
    const [firstChart] = charts;
    const p99 = firstChart ? findAll(firstChart, (e) => e.attrs['data-series'] === 'p99')[0] : undefined;
    const ys = [...(p99?.attrs['d'] ?? '').matchAll(/,([\d.]+)/g)].map((m) => Number(m[1]));
    expect(ys).toHaveLength(3);
    expect(ys[2]).toBeLessThan(ys[0] ?? 0); // SVG y grows downwards
  });
});
