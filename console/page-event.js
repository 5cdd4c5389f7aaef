// One event's history (GET /events/{id}): each reception with its fields and matched rules,
// then its steps as a vertical timeline colored by kind. The event's body is shown too while
// the daemon still holds it among its recent events.

import {append, field, formatTime, h, pre, pretty, section} from './dom.js';
import {ApiError, api, query} from './api.js';
import {detailTypeOf, eventIdOf, outcomeBadge} from './page-events.js';

const KIND_LABEL = {
  retrying: 'Failed, will retry',
  delivered: 'Delivered',
  dead_lettered: 'Dead-lettered',
  dead_letter_failed: 'Dead letter not written',
  suppressed: 'Suppressed',
};

function present(value) {
  return value !== undefined && value !== null && value !== '';
}

function step(s) {
  const kind = String(s.kind ?? '');
  const facts = [];
  if (present(s.rule)) facts.push(['rule', String(s.rule)]);
  if (present(s.target)) facts.push(['target', String(s.target)]);
  if (present(s.attempt)) facts.push(['attempt', String(s.attempt)]);
  if (present(s.status)) facts.push(['status', String(s.status)]);
  if (present(s.duration_ms)) facts.push(['duration', `${Number(s.duration_ms).toFixed(1)} ms`]);
  if (present(s.error_code)) facts.push(['error code', String(s.error_code)]);
  return h('li', {class: `step step-${kind.replace(/[^a-z_]/g, '')}`, testid: 'timeline-step', dataset: {kind}},
    h('div', {class: 'step-dot'}),
    h('div', {class: 'step-body'},
      h('div', {class: 'step-head'},
        h('span', {class: 'step-kind', testid: 'step-kind'}, KIND_LABEL[kind] || kind),
        h('span', {class: 'muted small'}, formatTime(s.at, true))),
      h('dl', {class: 'step-facts'}, facts.map(([k, v]) => [h('dt', null, k), h('dd', null, v)])),
      present(s.error) ? h('div', {class: 'step-error', testid: 'step-error'}, String(s.error)) : null,
      present(s.output) ? h('details', {open: true}, h('summary', null, 'Output (last 4 KiB)'),
        pre(String(s.output), {testid: 'step-output'})) : null));
}

function reception(r, index, total) {
  const rules = Array.isArray(r.rules) ? r.rules : [];
  const steps = Array.isArray(r.steps) ? r.steps : [];
  return section(total > 1 ? `Reception ${total - index} of ${total}` : 'Reception',
    h('dl', {class: 'fields', testid: 'reception-fields'},
      field('received', formatTime(r.received_at, true)),
      field('origin', String(r.origin ?? '')),
      field('bus', String(r.bus ?? '')),
      field('source', h('span', {testid: 'reception-source'}, String(r.source ?? ''))),
      field('detail type', h('span', {testid: 'reception-detail-type'}, detailTypeOf(r))),
      field('size', `${Number(r.size) || 0} bytes`),
      field('outcome', outcomeBadge(r.outcome)),
      field('deliveries', `${Number(r.deliveries) || 0} (${Number(r.delivered) || 0} delivered, ` +
        `${Number(r.failed) || 0} failed)`)),
    h('h3', null, 'Matched rules'),
    rules.length ? h('ul', {class: 'chips', testid: 'matched-rules'}, rules.map((name) => h('li', null, String(name))))
      : h('p', {class: 'muted'}, 'No rule matched.'),
    h('h3', null, 'Timeline'),
    steps.length ? h('ol', {class: 'timeline', testid: 'timeline'}, steps.map(step))
      : h('p', {class: 'muted'}, 'No delivery step (yet).'));
}

async function recentBody(id) {
  try {
    const answer = await api.get(`/recent-events${query({limit: 100})}`);
    const events = Array.isArray(answer.events) ? answer.events : [];
    const found = events.find((e) => String(e.id) === id);
    return found ? found.event : null;
  } catch (error) {
    return null;
  }
}

export async function renderEvent(page, ctx) {
  const id = ctx.arg;
  let history;
  try {
    history = await api.get(`/events/${encodeURIComponent(id)}`);
  } catch (error) {
    if (!(error instanceof ApiError) || error.status === 401) throw error;
    ctx.showError(error);
    history = null;
  }
  const receptions = history && Array.isArray(history.receptions) ? history.receptions : [];
  const body = await recentBody(id);
  append(page,
    h('div', {class: 'page-head'},
      h('p', null, h('a', {href: '#/events'}, '← Events')),
      h('h1', null, 'Event ', h('span', {class: 'mono', testid: 'event-id'}, history ? eventIdOf(history) || id : id))),
    receptions.map((r, i) => reception(r, i, receptions.length)),
    body ? section('Event (as received)', h('details', {open: true}, h('summary', null, 'JSON'),
      pre(pretty(body), {testid: 'event-body'}))) : null);
}
