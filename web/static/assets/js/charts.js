// Charts drawn as inline SVG by hand (no chart library): horizontal bars, grouped vertical bars
// and lines. Every chart carries a text title and a table-like description for screen readers;
// values are shown as text next to the marks, so nothing depends on colour alone.
import { number } from './format.js';

const NS = 'http://www.w3.org/2000/svg';
const PALETTE = ['#1d4f91', '#c62828', '#2e7d32', '#b26a00', '#5b3a9c', '#0b6470'];

function svg(tag, attrs, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v !== undefined && v !== null) el.setAttribute(k, String(v));
  for (const c of children.flat(Infinity)) if (c !== null && c !== undefined) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

function frame(title, desc, w, hgt, body) {
  return svg('svg', { viewBox: `0 0 ${w} ${hgt}`, role: 'img', class: 'chart', preserveAspectRatio: 'xMinYMin meet' },
    svg('title', {}, title), svg('desc', {}, desc), body);
}

function fmt(v, unit) {
  if (v === null || v === undefined || Number.isNaN(v)) return '-';
  return unit === '%' ? (Math.round(v * 1000) / 10) + '%' : number(v);
}

/** Horizontal bars: items [{label, value}]; unit '%' for ratios in 0..1. */
export function barChart(title, items, unit) {
  const w = 640;
  const row = 26;
  const left = 170;
  const hgt = Math.max(40, items.length * row + 10);
  const max = unit === '%' ? 1 : Math.max(1, ...items.map((i) => i.value || 0));
  const desc = items.map((i) => `${i.label}: ${fmt(i.value, unit)}`).join('; ');
  const body = items.map((i, n) => {
    const y = 5 + n * row;
    const bw = Math.max(0, ((i.value || 0) / max) * (w - left - 70));
    return svg('g', {},
      svg('text', { x: left - 8, y: y + 16, 'text-anchor': 'end', class: 'chart-label' }, i.label.length > 12 ? i.label.slice(0, 12) + '…' : i.label),
      svg('rect', { x: left, y: y + 3, width: bw, height: row - 8, fill: i.color || PALETTE[0], rx: 2 }),
      svg('text', { x: left + bw + 6, y: y + 16, class: 'chart-value' }, fmt(i.value, unit)));
  });
  return frame(title, desc, w, hgt, body);
}

/** Whether any series has a number to draw (a chart of none is an empty box: say so instead). */
export function hasData(series) {
  return series.some((s) => s.values.some((v) => typeof v === 'number' && !Number.isNaN(v)));
}

/** Lines over categories: labels [x…], series [{name, values:[…]}]; unit '%' for 0..1. */
export function lineChart(title, labels, series, unit) {
  const w = 640;
  const hgt = 240;
  const pad = { l: 48, r: 16, t: 12, b: 44 };
  const all = series.flatMap((s) => s.values).filter((v) => typeof v === 'number');
  const max = unit === '%' ? 1 : Math.max(1, ...all);
  const x = (i) => pad.l + (labels.length <= 1 ? 0 : (i * (w - pad.l - pad.r)) / (labels.length - 1));
  const y = (v) => pad.t + (1 - v / max) * (hgt - pad.t - pad.b);
  const grid = [0, 0.25, 0.5, 0.75, 1].map((f) => svg('g', {},
    svg('line', { x1: pad.l, x2: w - pad.r, y1: y(f * max), y2: y(f * max), class: 'chart-grid' }),
    svg('text', { x: pad.l - 6, y: y(f * max) + 4, 'text-anchor': 'end', class: 'chart-axis' }, fmt(f * max, unit))));
  const xlabels = labels.map((l, i) => svg('text', { x: x(i), y: hgt - pad.b + 16, 'text-anchor': 'middle', class: 'chart-axis' }, l));
  const lines = series.map((s, k) => {
    const color = PALETTE[k % PALETTE.length];
    const pts = s.values.map((v, i) => (typeof v === 'number' ? [x(i), y(v), v] : null)).filter(Boolean);
    // A series with one month of data has no line to draw: its point is drawn larger and
    // labelled with its name and value, so that the chart never looks empty (a 0% point sits
    // on the axis, where a bare dot disappears).
    const single = pts.length === 1;
    return svg('g', {},
      pts.length > 1 ? svg('polyline', { points: pts.map((p) => p[0] + ',' + p[1]).join(' '), fill: 'none', stroke: color, 'stroke-width': 2 }) : null,
      pts.map((p) => svg('circle', { cx: p[0], cy: p[1], r: single ? 6 : 3.5, fill: color }, svg('title', {}, `${s.name}: ${fmt(p[2], unit)}`))),
      single ? pts.map((p) => {
        let ty = p[1] - 12 - k * 18;
        if (ty < 14) ty = p[1] + 22 + k * 18;
        const anchor = p[0] > w - 140 ? 'end' : p[0] < pad.l + 70 ? 'start' : 'middle';
        return svg('text', { x: p[0], y: ty, 'text-anchor': anchor, class: 'chart-value chart-point-value' }, `${s.name} ${fmt(p[2], unit)}`);
      }) : null);
  });
  const legend = series.map((s, k) => svg('g', {},
    svg('rect', { x: pad.l + k * 150, y: hgt - 16, width: 12, height: 12, fill: PALETTE[k % PALETTE.length] }),
    svg('text', { x: pad.l + k * 150 + 16, y: hgt - 6, class: 'chart-label' }, s.name)));
  const desc = series.map((s) => s.name + ': ' + labels.map((l, i) => `${l} ${fmt(s.values[i], unit)}`).join(', ')).join('; ');
  return frame(title, desc, w, hgt, [grid, xlabels, lines, legend]);
}
