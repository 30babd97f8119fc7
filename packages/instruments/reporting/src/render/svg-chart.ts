import { xmlEscape } from './junit.js';

/** One line of a line chart. */
export interface LineSeries {
  readonly name: string;
  readonly color: string;
  readonly points: ReadonlyArray<readonly [number, number]>;
}

/** Options common to the charts. */
export interface ChartOptions {
  /** `data-chart` value (latency, histogram, rps). */
  readonly kind: string;
  /** `data-scenario` value. */
  readonly scenario: string;
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly width?: number;
  readonly height?: number;
}

const PAD = { left: 56, right: 12, top: 28, bottom: 36 };

/** A round step (1, 2, 2.5 or 5 × 10^k) giving about four intervals up to `v`. */
function niceStep(v: number): number {
  if (v <= 0) return 0.25;
  const raw = v / 4;
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

/** The axis maximum: the data maximum rounded up to a whole number of round steps. */
function niceMax(v: number): number {
  const step = niceStep(v);
  return Math.max(step, Math.ceil(v / step - 1e-9) * step);
}

function fmt(v: number): string {
  if (v === 0) return '0';
  if (Math.abs(v) >= 1000) return `${+(v / 1000).toFixed(1)}k`;
  return String(+v.toFixed(2));
}

function frame(o: ChartOptions, xMax: number, yMax: number, body: string, legend: string, xTicks = true): string {
  const w = o.width ?? 560;
  const h = o.height ?? 240;
  const iw = w - PAD.left - PAD.right;
  const ih = h - PAD.top - PAD.bottom;
  const grid: string[] = [];
  const yStep = niceStep(yMax);
  for (let v = 0; v <= yMax + 1e-9; v += yStep) {
    const y = +(PAD.top + ih - (ih * v) / yMax).toFixed(1);
    grid.push(`<line class="grid" x1="${PAD.left}" x2="${PAD.left + iw}" y1="${y}" y2="${y}" stroke="#e3e6ea"/>`);
    grid.push(`<text x="${PAD.left - 6}" y="${y + 4}" text-anchor="end" font-size="11" fill="#555">${fmt(v)}</text>`);
  }
  const xStep = niceStep(xMax);
  for (let v = 0; xTicks && v <= xMax + 1e-9; v += xStep) {
    const x = +(PAD.left + (iw * v) / xMax).toFixed(1);
    grid.push(`<text x="${x}" y="${PAD.top + ih + 16}" text-anchor="middle" font-size="11" fill="#555">${fmt(v)}</text>`);
  }
  return [
    `<svg class="chart" data-chart="${xmlEscape(o.kind)}" data-scenario="${xmlEscape(o.scenario)}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-label="${xmlEscape(o.title)}">`,
    `<title>${xmlEscape(o.title)}</title>`,
    `<text x="${PAD.left}" y="16" font-size="13" font-weight="600" fill="#222">${xmlEscape(o.title)}</text>`,
    ...grid,
    `<line x1="${PAD.left}" x2="${PAD.left}" y1="${PAD.top}" y2="${PAD.top + ih}" stroke="#888"/>`,
    `<line x1="${PAD.left}" x2="${PAD.left + iw}" y1="${PAD.top + ih}" y2="${PAD.top + ih}" stroke="#888"/>`,
    `<text x="${PAD.left + iw / 2}" y="${h - 4}" text-anchor="middle" font-size="11" fill="#555">${xmlEscape(o.xLabel)}</text>`,
    `<text x="12" y="${PAD.top + ih / 2}" text-anchor="middle" font-size="11" fill="#555" transform="rotate(-90 12 ${PAD.top + ih / 2})">${xmlEscape(o.yLabel)}</text>`,
    body,
    legend,
    `</svg>`,
  ].join('\n');
}

/** A line chart as inline SVG with one `<path class="series">` per series. */
export function lineChart(o: ChartOptions, series: readonly LineSeries[]): string {
  const w = o.width ?? 560;
  const h = o.height ?? 240;
  const iw = w - PAD.left - PAD.right;
  const ih = h - PAD.top - PAD.bottom;
  const all = series.flatMap((s) => s.points);
  const xMax = niceMax(Math.max(1, ...all.map((p) => p[0])));
  const yMax = niceMax(Math.max(0, ...all.map((p) => p[1])));
  const sx = (x: number): number => +(PAD.left + (x / xMax) * iw).toFixed(1);
  const sy = (y: number): number => +(PAD.top + ih - (y / yMax) * ih).toFixed(1);
  const paths = series
    .filter((s) => s.points.length > 0)
    .map((s) => {
      // A single point still draws a short segment, so the chart is never blank.
      const pts = s.points.length === 1 && s.points[0] ? [s.points[0], [s.points[0][0] + xMax / 100, s.points[0][1]] as const] : s.points;
      const d = pts.map((p, i) => `${i === 0 ? 'M' : 'L'}${sx(p[0])},${sy(p[1])}`).join(' ');
      return `<path class="series" data-series="${xmlEscape(s.name)}" d="${d}" fill="none" stroke="${s.color}" stroke-width="1.8"/>`;
    })
    .join('\n');
  const legend = series
    .map((s, i) => `<g class="legend"><rect x="${w - PAD.right - 70 * (series.length - i)}" y="8" width="10" height="10" fill="${s.color}"/><text x="${w - PAD.right - 70 * (series.length - i) + 14}" y="17" font-size="11" fill="#333">${xmlEscape(s.name)}</text></g>`)
    .join('');
  return frame(o, xMax, yMax, paths, legend);
}

/** A bar chart (histogram) as inline SVG with one `<rect class="bar">` per non-empty bucket. */
export function barChart(o: ChartOptions, bars: ReadonlyArray<{ label: string; value: number }>): string {
  const w = o.width ?? 560;
  const h = o.height ?? 240;
  const iw = w - PAD.left - PAD.right;
  const ih = h - PAD.top - PAD.bottom;
  const yMax = niceMax(Math.max(0, ...bars.map((b) => b.value)));
  const bw = bars.length === 0 ? 0 : iw / bars.length;
  const rects = bars
    .map((b, i) => {
      if (b.value <= 0) return '';
      const bh = Math.max(1, (b.value / yMax) * ih);
      return `<rect class="bar" x="${(PAD.left + i * bw + 0.5).toFixed(1)}" y="${(PAD.top + ih - bh).toFixed(1)}" width="${Math.max(1, bw - 1).toFixed(1)}" height="${bh.toFixed(1)}" fill="#4c78a8"><title>≤ ${xmlEscape(b.label)}: ${b.value}</title></rect>`;
    })
    .join('\n');
  const labels = bars
    .map((b, i) => (i % Math.max(1, Math.ceil(bars.length / 6)) === 0 ? `<text x="${(PAD.left + i * bw + bw / 2).toFixed(1)}" y="${PAD.top + ih + 16}" text-anchor="middle" font-size="10" fill="#555">${xmlEscape(b.label)}</text>` : ''))
    .join('');
  // Numeric x ticks mean nothing for log-spaced buckets: the bucket labels replace them.
  return frame(o, 0, yMax, rects + labels, '', false);
}
