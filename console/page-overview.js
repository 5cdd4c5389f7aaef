// Overview: the last hour of the daemon's own counters (GET /activity), one chart per series.

import {append, formatTime, h} from './dom.js';
import {api} from './api.js';
import {barChart, paintSwatches} from './chart.js';

const SERIES = [
  ['received', 'Events in', '#3b73b9'],
  ['matched', 'Matched', '#7b5ea7'],
  ['delivered', 'Delivered', '#2e8b57'],
  ['failed', 'Failed attempts', '#d98b1e'],
  ['dead_lettered', 'Dead letters', '#c8423b'],
];

const MEANING = [
  ['Events in', 'events accepted'],
  ['Matched', 'events that matched at least one rule'],
  ['Delivered', 'deliveries that succeeded'],
  ['Failed attempts', 'delivery attempts that failed, retried or final'],
  ['Dead letters', 'dead letters written'],
];

export async function renderOverview(page, ctx) {
  const activity = await api.get('/activity');
  const series = Array.isArray(activity.series) ? activity.series : [];
  const first = series.length ? series[0].start : '';
  const last = series.length ? series[series.length - 1].start : '';
  const refresh = h('button', {type: 'button', id: 'overview-refresh', class: 'secondary'}, 'Refresh');
  refresh.addEventListener('click', () => ctx.rerender());
  append(page,
    h('div', {class: 'page-head'},
      h('h1', null, 'Overview'),
      h('p', {class: 'muted'}, `The last hour, per minute, from ${formatTime(first)} to ${formatTime(last)}.`)),
    h('div', {class: 'charts'}, SERIES.map(([key, label, color]) => barChart(series, key, label, color)),
      h('div', {class: 'chart-card chart-help'},
        h('h2', null, 'What the charts count'),
        h('dl', {class: 'fields small'}, MEANING.map(([k, v]) => [h('dt', null, k), h('dd', null, v)])),
        h('p', {class: 'muted small'}, 'From the daemon\'s own counters since it started; the last bar is the ' +
          `current minute so far. Loaded at ${new Date().toISOString().slice(11, 19)} UTC.`),
        refresh)));
  paintSwatches(page);
}
