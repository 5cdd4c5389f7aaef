// Events: the history (GET /events) with its filters, a page at a time (`next`), newest first.

import {append, replaceChildren, badge, eventLink, formatTime, h, section, table} from './dom.js';
import {ApiError, api, query} from './api.js';

const OUTCOMES = ['', 'unmatched', 'suppressed', 'pending', 'delivered', 'failed'];
const OUTCOME_KIND = {delivered: 'ok', failed: 'bad', pending: 'warn', suppressed: 'neutral', unmatched: 'neutral'};

// The filters survive going to an event and back.
const filters = {since: '', until: '', rule: '', outcome: '', bus: '', limit: '50'};

// The history names fields event_id/detail_type; the recent-events ring id/detail-type.
export function eventIdOf(e) {
  return String(e.event_id ?? e.id ?? '');
}

export function detailTypeOf(e) {
  return String(e.detail_type ?? e['detail-type'] ?? '');
}

export function outcomeBadge(outcome) {
  return badge(String(outcome ?? ''), OUTCOME_KIND[outcome] || 'neutral');
}

function eventRow(e) {
  const rules = Array.isArray(e.rules) ? e.rules : [];
  return h('tr', {testid: 'event-row', dataset: {eventId: eventIdOf(e)}},
    h('td', {class: 'nowrap small'}, formatTime(e.received_at)),
    h('td', null, eventLink(eventIdOf(e))),
    h('td', {testid: 'event-source'}, String(e.source ?? '')),
    h('td', {testid: 'event-detail-type'}, detailTypeOf(e)),
    h('td', {class: 'small'}, rules.map(String).join(', ')),
    h('td', null, outcomeBadge(e.outcome)),
    h('td', {class: 'num small'}, `${Number(e.delivered) || 0} / ${Number(e.failed) || 0}`),
    h('td', {class: 'small muted'}, String(e.origin ?? '')));
}

function input(name, label, placeholder) {
  const box = h('input', {id: `filter-${name}`, name, placeholder, 'aria-label': label});
  box.value = filters[name];
  return h('label', {class: 'filter'}, h('span', null, label), box);
}

export async function renderEvents(page, ctx) {
  const outcome = h('select', {id: 'filter-outcome', name: 'outcome', 'aria-label': 'Outcome'},
    OUTCOMES.map((o) => h('option', {value: o, selected: o === filters.outcome}, o || 'any')));
  const form = h('form', {class: 'filters', id: 'events-filters', autocomplete: 'off'},
    input('since', 'Since', '15m, 2h, 7d or RFC 3339'),
    input('until', 'Until', 'RFC 3339 or 5m'),
    input('rule', 'Rule', 'rule name'),
    h('label', {class: 'filter'}, h('span', null, 'Outcome'), outcome),
    input('bus', 'Bus', 'default'),
    input('limit', 'Page size', '50'),
    h('button', {type: 'submit', id: 'events-apply'}, 'Search'));

  const body = h('tbody');
  const more = h('button', {type: 'button', id: 'events-more', class: 'secondary', hidden: true}, 'Older events');
  const count = h('p', {class: 'muted small', testid: 'events-count'});
  let next = null;
  let shown = 0;

  async function load(append) {
    const params = {...filters};
    if (append && next !== null) params.before = next;
    const answer = await api.get(`/events${query(params)}`);
    const events = Array.isArray(answer.events) ? answer.events : [];
    if (!append) {
      replaceChildren(body);
      shown = 0;
    }
    body.append(...events.map(eventRow));
    shown += events.length;
    next = answer.next === undefined || answer.next === null ? null : answer.next;
    more.hidden = next === null;
    count.textContent = shown ? `${shown} receptions shown${next === null ? '' : ', more below'}.`
      : 'No event matches these filters.';
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    for (const name of Object.keys(filters)) {
      filters[name] = form.elements[name].value.trim();
    }
    ctx.clearError();
    try {
      await load(false);
    } catch (error) {
      ctx.handleError(error);
    }
  });
  more.addEventListener('click', async () => {
    try {
      await load(true);
    } catch (error) {
      ctx.handleError(error);
    }
  });

  try {
    await load(false);
  } catch (error) {
    if (!(error instanceof ApiError) || error.status === 401) throw error;
    // A bad filter or the history being off: keep the form so it can be fixed.
    ctx.showError(error);
    count.textContent = '';
  }
  const grid = table(['Received', 'Event id', 'Source', 'Detail type', 'Rules', 'Outcome', 'Delivered / failed', 'Origin'],
    [], {testid: 'events-table'});
  grid.querySelector('tbody').replaceWith(body);
  append(page,
    h('div', {class: 'page-head'}, h('h1', null, 'Events'),
      h('p', {class: 'muted'}, 'What the daemon received and what became of it, newest first.')),
    section('Search', form),
    section('Receptions', count, grid, h('div', {class: 'row'}, more)));
}
