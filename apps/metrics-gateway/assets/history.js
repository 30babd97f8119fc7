// Crucible run history page: reads /api/v1 with the project API key the user gives it and
// draws the trend of a scenario's p50/p95/p99 across runs as inline SVG, regressions flagged;
// a click on a run's point opens the run. Plain browser JavaScript, no dependency, inlined
// into the page by the gateway (the page loads nothing else).
(() => {
  'use strict';
  const SVG = 'http://www.w3.org/2000/svg';
  const KEY = 'crucible-history-key';
  const config = JSON.parse(document.getElementById('history-config').textContent);
  const $ = (id) => document.getElementById(id);
  const el = (tag, attrs = {}, text) => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
    if (text !== undefined) node.textContent = String(text);
    return node;
  };
  const svgEl = (tag, attrs = {}, text) => {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
    if (text !== undefined) node.textContent = String(text);
    return node;
  };
  const fmt = (n, digits = 1) => (n === undefined || n === null || Number.isNaN(n) ? '–' : Number(n).toFixed(digits));
  const clear = (node) => {
    while (node.firstChild) node.firstChild.remove();
  };
  const SERIES = [
    { key: 'p50_ms', cls: 'line-p50', label: 'p50' },
    { key: 'p95_ms', cls: 'line-p95', label: 'p95' },
    { key: 'p99_ms', cls: 'line-p99', label: 'p99' },
  ];

  // The key: from `#key=` (a fragment, never sent to the server; dropped from the address bar
  // at once), else what this tab was given before, else the form.
  const fromHash = new URLSearchParams(location.hash.slice(1)).get('key');
  if (fromHash) {
    sessionStorage.setItem(KEY, fromHash);
    history.replaceState(history.state, '', location.pathname + location.search);
  }
  let trend = null;

  const setStatus = (s) => ($('status').textContent = s);
  const showError = (message) => {
    $('error').textContent = message;
    setStatus('error');
  };

  async function api(path) {
    const res = await fetch(path, { headers: { authorization: `Bearer ${sessionStorage.getItem(KEY) ?? ''}` } });
    const body = await res.json().catch(() => ({}));
    if (res.status === 401) {
      sessionStorage.removeItem(KEY);
      $('key-form').hidden = false;
    }
    if (!res.ok) throw new Error(body.error?.message ?? `${path}: HTTP ${res.status}`);
    return body;
  }

  function regressionText(r) {
    if (!r) return '–';
    if (!r.judged) return `not judged (${r.baseline_runs.length} earlier run(s), needs 3)`;
    if (!r.regressed) return `within noise of ${r.baseline_runs.length} runs`;
    return `REGRESSED ${r.figures.map((f) => `${f.metric} +${fmt(f.by, 2)} (bound ${fmt(f.bound, 2)})`).join(', ')}`;
  }

  function drawTrend(runs) {
    const svg = $('trend-chart');
    clear(svg);
    const W = 800;
    const H = 260;
    const pad = { l: 52, r: 70, t: 22, b: 24 };
    let max = 0;
    for (const r of runs) for (const s of SERIES) max = Math.max(max, r[s.key] ?? 0);
    max = max <= 0 ? 1 : max * 1.15;
    const step = runs.length > 1 ? (W - pad.l - pad.r) / (runs.length - 1) : 0;
    const x = (i) => (runs.length > 1 ? pad.l + i * step : (pad.l + W - pad.r) / 2);
    const y = (v) => H - pad.b - (v / max) * (H - pad.t - pad.b);
    svg.setAttribute('data-points', String(runs.length));
    svg.append(svgEl('line', { class: 'axis', x1: pad.l, y1: H - pad.b, x2: W - pad.r, y2: H - pad.b }));
    svg.append(svgEl('line', { class: 'axis', x1: pad.l, y1: pad.t, x2: pad.l, y2: H - pad.b }));
    svg.append(svgEl('text', { class: 'tick', x: pad.l - 4, y: pad.t + 8, 'text-anchor': 'end' }, `${fmt(max, max < 10 ? 2 : 0)} ms`));
    svg.append(svgEl('text', { class: 'tick', x: pad.l - 4, y: H - pad.b, 'text-anchor': 'end' }, '0'));
    SERIES.forEach((s, i) => {
      const pts = runs.map((r, j) => (typeof r[s.key] === 'number' ? `${x(j).toFixed(1)},${y(r[s.key]).toFixed(1)}` : null)).filter(Boolean);
      svg.append(svgEl('polyline', { class: s.cls, points: pts.join(' '), 'data-series': s.label }));
      svg.append(svgEl('text', { class: `legend ${s.cls}`, x: W - 4, y: pad.t + 10 + i * 13, 'text-anchor': 'end' }, s.label));
    });
    runs.forEach((r, j) => {
      const regressed = Boolean(r.regression?.regressed);
      const g = svgEl('g', { class: `run-point${regressed ? ' regressed' : ''}`, 'data-run-id': r.run_id, 'data-regressed': String(regressed), tabindex: 0, role: 'link' });
      g.append(svgEl('title', {}, `${r.run_id} · p50 ${fmt(r.p50_ms)} · p95 ${fmt(r.p95_ms)} · p99 ${fmt(r.p99_ms)} ms · ${regressionText(r.regression)}`));
      const half = Math.max(step / 2, 8);
      g.append(svgEl('rect', { class: 'hit', x: x(j) - half, y: pad.t - 18, width: 2 * half, height: H - pad.t - pad.b + 18 }));
      for (const s of SERIES) if (typeof r[s.key] === 'number') g.append(svgEl('circle', { class: s.cls, cx: x(j), cy: y(r[s.key]), r: 3.5 }));
      if (regressed) {
        const top = y(Math.max(...SERIES.map((s) => r[s.key] ?? 0)));
        g.append(svgEl('circle', { class: 'flag', cx: x(j), cy: top, r: 8 }));
        g.append(svgEl('text', { class: 'flag-label', x: x(j), y: Math.max(top - 12, 12), 'text-anchor': 'middle' }, 'regression'));
      }
      g.addEventListener('click', () => openRun(r.run_id));
      g.addEventListener('keydown', (e) => e.key === 'Enter' && openRun(r.run_id));
      svg.append(g);
    });
  }

  function renderTrend() {
    const runs = [...trend.runs].reverse();
    $('trend').hidden = false;
    $('k').textContent = String(trend.k);
    drawTrend(runs);
    const rows = $('trend-rows');
    clear(rows);
    for (const r of trend.runs) {
      const tr = el('tr', { 'data-run-id': r.run_id, class: r.regression?.regressed ? 'regressed' : '' });
      const link = el('a', { href: pageUrl(r.run_id) }, r.run_id);
      link.addEventListener('click', (e) => {
        e.preventDefault();
        openRun(r.run_id);
      });
      const first = el('td');
      first.append(link);
      tr.append(first, el('td', {}, r.started_at), el('td', {}, r.machine ?? '–'), el('td', {}, r.outcome ?? 'running'));
      for (const s of SERIES) tr.append(el('td', {}, fmt(r[s.key], 2)));
      tr.append(el('td', { 'data-stat': 'regression', class: r.regression?.regressed ? 'regression-flag' : '' }, regressionText(r.regression)));
      rows.append(tr);
    }
  }

  function pageUrl(runId) {
    const p = new URLSearchParams();
    if (config.scenario) p.set('scenario', config.scenario);
    if (runId) p.set('run', runId);
    p.set('last', String(config.last));
    p.set('k', String(config.k));
    return `/history?${p}`;
  }

  function openRun(runId) {
    config.run = runId;
    history.pushState({ run: runId }, '', pageUrl(runId));
    void showRun(runId);
  }

  function drawRunChart(points) {
    const svg = $('run-chart');
    clear(svg);
    svg.setAttribute('data-points', String(points.length));
    if (points.length === 0) return;
    const W = 800;
    const H = 200;
    const pad = { l: 52, r: 40, t: 10, b: 22 };
    const t0 = points[0].t;
    const t1 = Math.max(points[points.length - 1].t, t0 + 1);
    let max = 0;
    for (const p of points) for (const s of SERIES) max = Math.max(max, p[s.key] ?? 0);
    max = max <= 0 ? 1 : max * 1.1;
    const x = (t) => pad.l + ((t - t0) / (t1 - t0)) * (W - pad.l - pad.r);
    const y = (v) => H - pad.b - (v / max) * (H - pad.t - pad.b);
    svg.append(svgEl('line', { class: 'axis', x1: pad.l, y1: H - pad.b, x2: W - pad.r, y2: H - pad.b }));
    svg.append(svgEl('text', { class: 'tick', x: pad.l - 4, y: pad.t + 8, 'text-anchor': 'end' }, `${fmt(max, max < 10 ? 2 : 0)} ms`));
    svg.append(svgEl('text', { class: 'tick', x: W - pad.r, y: H - 4, 'text-anchor': 'end' }, `${fmt(t1, 0)} s`));
    SERIES.forEach((s, i) => {
      const pts = points.filter((p) => typeof p[s.key] === 'number').map((p) => `${x(p.t).toFixed(1)},${y(p[s.key]).toFixed(1)}`);
      if (pts.length === 1) pts.push(pts[0]);
      svg.append(svgEl('polyline', { class: s.cls, points: pts.join(' '), 'data-series': s.label }));
      svg.append(svgEl('text', { class: `legend ${s.cls}`, x: W - 4, y: pad.t + 10 + i * 13, 'text-anchor': 'end' }, s.label));
    });
  }

  async function showRun(runId) {
    for (const tr of $('trend-rows').children) tr.classList.toggle('selected', tr.dataset.runId === runId);
    for (const g of $('trend-chart').querySelectorAll('.run-point')) g.classList.toggle('selected', g.dataset.runId === runId);
    setStatus('loading');
    const enc = encodeURIComponent(runId);
    const [detail, verdicts] = await Promise.all([api(`/api/v1/runs/${enc}`), api(`/api/v1/runs/${enc}/regressions?k=${config.k}`)]);
    const run = detail.run;
    $('run').hidden = false;
    $('run').dataset.runId = run.run_id;
    $('run-id').textContent = run.run_id;
    $('run-outcome').textContent = (run.outcome ?? 'running').toUpperCase();
    $('run-outcome').className = `verdict ${run.outcome ?? ''}`;
    $('run-meta').textContent = `started ${run.started_at} · ${fmt(run.duration_s)} s · commit ${run.commit ?? '–'} · branch ${run.branch ?? '–'} · machine ${run.machine ?? '–'} · profile ${run.profile ?? '–'}`;
    const rows = $('run-rows');
    clear(rows);
    const judged = new Map(verdicts.scenarios.map((s) => [s.scenario, s]));
    for (const s of detail.scenarios) {
      const v = judged.get(s.scenario);
      const tr = el('tr', { 'data-scenario': s.scenario, class: v?.regressed ? 'regressed' : '' });
      const thresholds = (s.thresholds ?? []).map((t) => `${t.passed ? '✓' : '✗'} ${t.expression}`).join('  ');
      for (const [key, text] of [['scenario', s.scenario], ['requests', s.requests], ['errors', s.errors], ['rps', fmt(s.rps)], ['p50', fmt(s.p50_ms, 2)], ['p95', fmt(s.p95_ms, 2)], ['p99', fmt(s.p99_ms, 2)], ['thresholds', thresholds], ['passed', s.status ?? (s.passed ? 'pass' : 'fail')], ['regression', regressionText(v)]]) {
        tr.append(el('td', { 'data-stat': key }, text));
      }
      rows.append(tr);
    }
    const chartScenario = config.scenario ?? detail.scenarios[0]?.scenario ?? '';
    $('run-chart-scenario').textContent = chartScenario;
    drawRunChart(detail.points.filter((p) => p.scenario === chartScenario));
    setStatus('ready');
    $('run').scrollIntoView({ block: 'nearest' });
  }

  async function listScenarios() {
    const { runs } = await api('/api/v1/runs?limit=20');
    const ended = runs.find((r) => r.outcome !== null);
    $('scenario-list').hidden = false;
    if (!ended) {
      $('no-runs').hidden = false;
      return;
    }
    const detail = await api(`/api/v1/runs/${encodeURIComponent(ended.run_id)}`);
    const list = $('scenarios');
    clear(list);
    for (const s of detail.scenarios) {
      const li = el('li');
      li.append(el('a', { href: `/history?scenario=${encodeURIComponent(s.scenario)}` }, s.scenario));
      list.append(li);
    }
  }

  async function load() {
    $('error').textContent = '';
    if (!sessionStorage.getItem(KEY)) {
      $('key-form').hidden = false;
      setStatus('needs a key');
      return;
    }
    $('key-form').hidden = true;
    setStatus('loading');
    if (!config.scenario) {
      await listScenarios();
      setStatus('ready');
      return;
    }
    $('heading-scenario').textContent = `· ${config.scenario}`;
    trend = await api(`/api/v1/trend?scenario=${encodeURIComponent(config.scenario)}&last=${config.last}&k=${config.k}`);
    renderTrend();
    if (config.run) await showRun(config.run);
    else setStatus('ready');
  }

  $('key-form').addEventListener('submit', (e) => {
    e.preventDefault();
    sessionStorage.setItem(KEY, $('key-input').value.trim());
    load().catch((err) => showError(err.message));
  });
  window.addEventListener('popstate', () => {
    config.run = new URLSearchParams(location.search).get('run');
    if (config.run) showRun(config.run).catch((err) => showError(err.message));
    else $('run').hidden = true;
  });
  load().catch((err) => showError(err.message));
})();
