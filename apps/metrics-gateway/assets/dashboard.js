// Crucible live dashboard: subscribes to one run on the metrics gateway and draws its
// per-second snapshots as SVG charts. Plain browser JavaScript, no dependency, inlined
// into the page by the gateway (the page loads nothing else).
(() => {
  'use strict';
  const SVG = 'http://www.w3.org/2000/svg';
  const MAX_POINTS = 600;
  const config = JSON.parse(document.getElementById('dashboard-config').textContent);
  const $ = (id) => document.getElementById(id);
  const el = (tag, attrs = {}, text) => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
    if (text !== undefined) node.textContent = String(text);
    return node;
  };
  const svgEl = (tag, attrs = {}) => {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
    return node;
  };
  const fmt = (n, digits = 1) => (n === undefined || n === null || Number.isNaN(n) ? '–' : Number(n).toFixed(digits));

  if (!config.run_id) {
    listRuns();
    return;
  }

  const state = {
    runId: config.run_id,
    lastSeq: 0,
    received: 0,
    gaps: 0,
    reconnects: 0,
    instance: '',
    status: 'connecting',
    events: 0,
    summary: null,
    error: '',
    scenarios: new Map(),
  };
  // Exposed for operators poking at the page from the console (read-only use).
  window.crucibleDashboard = state;

  let socket;
  let attempt = 0;
  let renderQueued = false;

  function wsUrl() {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    return `${proto}//${location.host}${config.ws_path}`;
  }

  function connect() {
    state.status = attempt === 0 && state.reconnects === 0 ? 'connecting' : 'reconnecting';
    queueRender();
    socket = new WebSocket(wsUrl());
    socket.onopen = () => {
      // Resume right after the last sequence drawn, so a reconnect leaves no hole.
      socket.send(JSON.stringify({ type: 'subscribe', run_id: state.runId, since: state.lastSeq }));
    };
    socket.onmessage = (ev) => {
      let msg;
      try {
        msg = JSON.parse(ev.data);
      } catch {
        return;
      }
      handle(msg);
    };
    socket.onclose = () => {
      if (state.status !== 'reconnecting') state.reconnects++;
      state.status = 'reconnecting';
      queueRender();
      const delay = Math.min(2000, 100 * 2 ** attempt) * (0.5 + Math.random() / 2);
      attempt++;
      setTimeout(connect, delay);
    };
  }

  function accept(seq) {
    if (seq <= state.lastSeq) return false;
    if (state.lastSeq > 0 && seq !== state.lastSeq + 1) state.gaps += seq - state.lastSeq - 1;
    state.lastSeq = seq;
    state.received++;
    return true;
  }

  function handle(msg) {
    switch (msg.type) {
      case 'welcome':
        state.instance = msg.instance;
        break;
      case 'subscribed':
        attempt = 0;
        state.status = 'live';
        break;
      case 'snapshot':
        if (accept(msg.seq)) addSnapshot(msg.snapshot);
        break;
      case 'event':
        if (accept(msg.seq)) state.events++;
        break;
      case 'run_end':
        if (accept(msg.seq)) state.summary = msg.summary;
        break;
      case 'gap':
        state.gaps += msg.to_seq - msg.from_seq + 1;
        state.lastSeq = Math.max(state.lastSeq, msg.to_seq);
        break;
      case 'error':
        state.error = `${msg.error.code}: ${msg.error.message}`;
        break;
      default:
        return;
    }
    queueRender();
  }

  function addSnapshot(s) {
    let sc = state.scenarios.get(s.scenario);
    if (!sc) {
      sc = { name: s.scenario, points: [], requests: 0, errors: 0, last: null, view: null };
      state.scenarios.set(s.scenario, sc);
    }
    sc.requests += s.requests;
    sc.errors += s.errors;
    sc.last = s;
    sc.points.push({ t: s.t, rps: s.rps, errors: s.errors, p50: s.latency_ms.p50, p95: s.latency_ms.p95, p99: s.latency_ms.p99 });
    if (sc.points.length > MAX_POINTS) sc.points.shift();
  }

  function queueRender() {
    if (renderQueued) return;
    renderQueued = true;
    requestAnimationFrame(() => {
      renderQueued = false;
      render();
    });
  }

  function render() {
    $('status').textContent = state.status;
    $('status').className = `status status-${state.status}`;
    $('last-seq').textContent = String(state.lastSeq);
    $('received').textContent = String(state.received);
    $('gaps').textContent = String(state.gaps);
    $('reconnects').textContent = String(state.reconnects);
    $('events').textContent = String(state.events);
    $('error').textContent = state.error;
    const root = $('scenarios');
    $('empty').hidden = state.scenarios.size > 0;
    for (const sc of state.scenarios.values()) {
      if (!sc.view) {
        sc.view = scenarioView(sc.name);
        root.append(sc.view.section);
      }
      const v = sc.view;
      const l = sc.last.latency_ms;
      v.requests.textContent = String(sc.requests);
      v.errors.textContent = String(sc.errors);
      v.rps.textContent = fmt(sc.last.rps);
      v.p50.textContent = fmt(l.p50, 2);
      v.p95.textContent = fmt(l.p95, 2);
      v.p99.textContent = fmt(l.p99, 2);
      v.seconds.textContent = String(sc.points.length);
      drawChart(v.rpsChart, sc.points, [{ key: 'rps', cls: 'line-rps', label: 'req/s' }], 'line');
      drawChart(
        v.latencyChart,
        sc.points,
        [
          { key: 'p50', cls: 'line-p50', label: 'p50' },
          { key: 'p95', cls: 'line-p95', label: 'p95' },
          { key: 'p99', cls: 'line-p99', label: 'p99' },
        ],
        'line',
      );
      drawChart(v.errorChart, sc.points, [{ key: 'errors', cls: 'bar-errors', label: 'errors' }], 'bar');
    }
    renderSummary();
  }

  function scenarioView(name) {
    const section = el('section', { class: 'scenario', 'data-scenario': name });
    section.append(el('h2', {}, name));
    const stats = el('dl', { class: 'stats' });
    const stat = (label, key) => {
      const dd = el('dd', { 'data-stat': key }, '–');
      stats.append(el('dt', {}, label), dd);
      return dd;
    };
    const view = {
      section,
      requests: stat('requests', 'requests'),
      errors: stat('errors', 'errors'),
      rps: stat('req/s (last s)', 'rps'),
      p50: stat('p50 ms', 'p50'),
      p95: stat('p95 ms', 'p95'),
      p99: stat('p99 ms', 'p99'),
      seconds: stat('seconds', 'seconds'),
    };
    section.append(stats);
    const charts = el('div', { class: 'charts' });
    const chart = (title, kind) => {
      const fig = el('figure', { class: 'chart', 'data-chart': kind });
      fig.append(el('figcaption', {}, title));
      const svg = svgEl('svg', { viewBox: '0 0 400 150', role: 'img', 'aria-label': `${title} of ${name}`, 'data-points': 0 });
      fig.append(svg);
      charts.append(fig);
      return svg;
    };
    view.rpsChart = chart('requests per second', 'rps');
    view.latencyChart = chart('latency ms (p50 / p95 / p99)', 'latency');
    view.errorChart = chart('errors per second', 'errors');
    section.append(charts);
    return view;
  }

  function drawChart(svg, points, series, kind) {
    const W = 400;
    const H = 150;
    const pad = { l: 44, r: 8, t: 8, b: 20 };
    while (svg.firstChild) svg.firstChild.remove();
    svg.setAttribute('data-points', String(points.length));
    if (points.length === 0) return;
    const t0 = points[0].t;
    const t1 = Math.max(points[points.length - 1].t, t0 + 1);
    let max = 0;
    for (const p of points) for (const s of series) max = Math.max(max, p[s.key] ?? 0);
    max = max <= 0 ? 1 : max * 1.1;
    const x = (t) => pad.l + ((t - t0) / (t1 - t0)) * (W - pad.l - pad.r);
    const y = (v) => H - pad.b - (v / max) * (H - pad.t - pad.b);
    svg.append(svgEl('line', { class: 'axis', x1: pad.l, y1: H - pad.b, x2: W - pad.r, y2: H - pad.b }));
    svg.append(svgEl('line', { class: 'axis', x1: pad.l, y1: pad.t, x2: pad.l, y2: H - pad.b }));
    const label = (text, attrs) => {
      const node = svgEl('text', attrs);
      node.textContent = text;
      svg.append(node);
    };
    label(fmt(max, max < 10 ? 2 : 0), { class: 'tick', x: pad.l - 4, y: pad.t + 8, 'text-anchor': 'end' });
    label('0', { class: 'tick', x: pad.l - 4, y: H - pad.b, 'text-anchor': 'end' });
    label(`${fmt(t0, 0)} s`, { class: 'tick', x: pad.l, y: H - 4 });
    label(`${fmt(t1, 0)} s`, { class: 'tick', x: W - pad.r, y: H - 4, 'text-anchor': 'end' });
    if (kind === 'bar') {
      const w = Math.max(1, (W - pad.l - pad.r) / Math.max(points.length, 1) - 1);
      for (const p of points) {
        const v = p[series[0].key] ?? 0;
        if (v <= 0) continue;
        const left = Math.min(Math.max(pad.l, x(p.t) - w / 2), W - pad.r - w);
        svg.append(svgEl('rect', { class: series[0].cls, x: left, y: y(v), width: w, height: H - pad.b - y(v) }));
      }
    } else {
      series.forEach((s, i) => {
        const pts = points.filter((p) => typeof p[s.key] === 'number').map((p) => `${x(p.t).toFixed(1)},${y(p[s.key]).toFixed(1)}`);
        if (pts.length === 1) pts.push(pts[0]);
        svg.append(svgEl('polyline', { class: s.cls, points: pts.join(' '), 'data-series': s.key }));
        label(s.label, { class: `legend ${s.cls}`, x: W - pad.r - 4, y: pad.t + 10 + i * 12, 'text-anchor': 'end' });
      });
    }
  }

  function renderSummary() {
    const box = $('summary');
    const s = state.summary;
    if (!s) {
      box.hidden = true;
      return;
    }
    box.hidden = false;
    const verdict = $('verdict');
    // `status` says inconclusive (a starved load generator: nothing failed, a threshold could
    // not be judged); a sender without it has only `passed`.
    const runStatus = s.status ?? (s.passed ? 'pass' : 'fail');
    verdict.textContent = { pass: 'PASSED', fail: 'FAILED', inconclusive: 'INCONCLUSIVE' }[runStatus];
    verdict.className = `verdict ${runStatus}`;
    $('summary-duration').textContent = fmt(s.duration_s, 1);
    const body = $('summary-rows');
    body.replaceChildren();
    for (const sc of s.scenarios) {
      const mark = (t) => ({ pass: '✓', fail: '✗', inconclusive: '?' })[t.status ?? (t.passed ? 'pass' : 'fail')];
      const thresholds = sc.thresholds.length === 0 ? 'none' : sc.thresholds.map((t) => `${mark(t)} ${t.expression} (${fmt(t.actual, 2)})`).join('; ');
      const status = sc.status ?? (sc.passed ? 'pass' : 'fail');
      const row = el('tr', { 'data-scenario': sc.name, class: status });
      row.append(
        el('td', {}, sc.name),
        el('td', { 'data-stat': 'requests' }, sc.requests),
        el('td', { 'data-stat': 'errors' }, sc.errors),
        el('td', { 'data-stat': 'rps' }, fmt(sc.rps)),
        el('td', { 'data-stat': 'p50' }, fmt(sc.latency_ms?.p50, 2)),
        el('td', { 'data-stat': 'p95' }, fmt(sc.latency_ms?.p95, 2)),
        el('td', { 'data-stat': 'p99' }, fmt(sc.latency_ms?.p99, 2)),
        el('td', { 'data-stat': 'thresholds' }, thresholds),
        el('td', { 'data-stat': 'passed' }, status),
      );
      body.append(row);
    }
  }

  async function listRuns() {
    $('run-view').hidden = true;
    $('run-list').hidden = false;
    const list = $('runs');
    try {
      const res = await fetch('/runs');
      const { runs } = await res.json();
      list.replaceChildren();
      for (const r of runs) {
        const li = el('li');
        const a = el('a', { href: `/dashboard/${encodeURIComponent(r.run_id)}` }, r.run_id);
        li.append(a, el('span', {}, ` · ${r.last_seq} messages${r.ended ? ' · ended' : ''}`));
        list.append(li);
      }
      $('no-runs').hidden = runs.length > 0;
    } catch {
      $('no-runs').hidden = false;
    }
    setTimeout(listRuns, 2000);
  }

  render();
  connect();
})();
