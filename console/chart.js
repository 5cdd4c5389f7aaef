// One bar chart per series of GET /activity: a bar per minute, the y axis from 0 to a round
// maximum, times on the x axis, and a legend with the hour's total. Inline SVG, no library.

import {h, s} from './dom.js';

const WIDTH = 420;
const HEIGHT = 170;
const MARGIN = {top: 12, right: 10, bottom: 26, left: 40};

// The smallest of 1, 2, 4 x 10^n at or above `value` (at least 2), so that the axis and its
// middle line are whole numbers that read well.
function niceMax(value) {
  if (value <= 2) return 2;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 4, 10]) {
    if (step * magnitude >= value) return step * magnitude;
  }
  return 10 * magnitude;
}

function clock(start) {
  const match = /T(\d{2}:\d{2})/.exec(String(start));
  return match ? match[1] : '';
}

function formatCount(n) {
  return Number(n).toLocaleString('en-US');
}

// series: the /activity entries; key: which counter; label, color: the legend's.
export function barChart(series, key, label, color) {
  const values = series.map((entry) => {
    const n = Number(entry[key]);
    return Number.isFinite(n) && n > 0 ? n : 0;
  });
  const total = values.reduce((a, b) => a + b, 0);
  const top = niceMax(Math.max(0, ...values));
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const slot = plotWidth / Math.max(values.length, 1);
  const bottom = MARGIN.top + plotHeight;

  const grid = [0, 0.5, 1].map((fraction) => {
    const y = bottom - fraction * plotHeight;
    const value = top * fraction;
    return [
      s('line', {x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: y, y2: y, class: 'chart-grid'}),
      s('text', {x: MARGIN.left - 6, y, class: 'chart-axis', 'text-anchor': 'end',
        'dominant-baseline': 'middle'}, formatCount(value)),
    ];
  });

  const bars = values.map((value, i) => {
    const height = (value / top) * plotHeight;
    const start = series[i] ? series[i].start : '';
    return s('rect', {
      x: MARGIN.left + i * slot + slot * 0.15, y: bottom - height,
      width: Math.max(slot * 0.7, 1), height: Math.max(height, 0),
      class: 'chart-bar', fill: color, dataset: {value, start: String(start)},
    }, s('title', null, `${clock(start)} UTC: ${formatCount(value)} ${label.toLowerCase()}`));
  });

  const ticks = [0, Math.floor(values.length / 2), values.length - 1]
    .filter((i, index, all) => i >= 0 && all.indexOf(i) === index)
    .map((i) => {
      const anchor = i === 0 ? 'start' : i === values.length - 1 ? 'end' : 'middle';
      const x = MARGIN.left + i * slot + (anchor === 'start' ? 0 : anchor === 'end' ? slot : slot / 2);
      return s('text', {x, y: HEIGHT - 8, class: 'chart-axis', 'text-anchor': anchor},
        series[i] ? clock(series[i].start) : '');
    });

  const svg = s('svg', {
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`, class: 'chart', role: 'img',
    'aria-label': `${label} per minute over the last hour`, testid: `chart-${key}`,
    dataset: {total},
  }, grid, s('line', {x1: MARGIN.left, x2: MARGIN.left, y1: MARGIN.top, y2: bottom, class: 'chart-axis-line'}),
  bars, ticks);

  const last = values.length ? values[values.length - 1] : 0;
  return h('figure', {class: 'chart-card', testid: `card-${key}`},
    h('figcaption', {class: 'chart-legend'},
      h('span', {class: 'legend-swatch', dataset: {color}}),
      h('span', {class: 'legend-label'}, label),
      h('span', {class: 'legend-total', testid: `total-${key}`}, formatCount(total)),
      h('span', {class: 'legend-note'}, `in the last hour · ${formatCount(last)} this minute`)),
    svg,
    h('div', {class: 'chart-unit'}, 'per minute, UTC'));
}

// The swatch's color comes from a data attribute through the CSSOM (allowed by the CSP, unlike
// a style attribute).
export function paintSwatches(root) {
  for (const swatch of root.querySelectorAll('.legend-swatch')) {
    swatch.style.backgroundColor = swatch.dataset.color;
  }
}
