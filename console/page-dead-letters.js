// Dead letters (GET /dead-letters), filtered by rule and target, and their redrive per (rule,
// target) pair (POST /dead-letters/redrive, admin role) after a confirmation that says how
// many and which.

import {append, replaceChildren, eventLink, formatTime, h, pre, pretty, section, table} from './dom.js';
import {api, query} from './api.js';

const filters = {rule: '', target: ''};

function letterRow(d) {
  const record = d.record && typeof d.record === 'object' ? d.record : {};
  const event = record.event && typeof record.event === 'object' ? record.event : {};
  const attributes = record.attributes && typeof record.attributes === 'object' ? record.attributes : {};
  return h('tr', {testid: 'dead-letter-row'},
    h('td', {class: 'nowrap small'}, formatTime(d.time)),
    h('td', null, String(d.rule ?? '')),
    h('td', null, String(d.target ?? '')),
    h('td', null, eventLink(String(d.event_id ?? event.id ?? '')),
      h('div', {class: 'muted small', testid: 'dead-letter-event'},
        `${String(event.source ?? '')} · ${String(event['detail-type'] ?? '')}`)),
    h('td', {class: 'small'}, h('div', {class: 'strong'}, String(d.error_code ?? '')),
      h('div', {class: 'muted'}, String(attributes.ERROR_MESSAGE ?? '')),
      d.exhausted_retry_condition ? h('div', {class: 'muted'}, `exhausted: ${String(d.exhausted_retry_condition)}`) : null),
    h('td', {class: 'num'}, String(d.retry_attempts ?? '')),
    h('td', null, h('details', null, h('summary', null, 'Event'), pre(pretty(event), {testid: 'dead-letter-json'}))));
}

// The (rule, target) pairs of the listed letters, in order of first appearance.
function pairsOf(letters) {
  const pairs = new Map();
  for (const d of letters) {
    const key = JSON.stringify([String(d.rule ?? ''), String(d.target ?? '')]);
    pairs.set(key, (pairs.get(key) || 0) + 1);
  }
  return [...pairs.entries()].map(([key, shown]) => {
    const [rule, target] = JSON.parse(key);
    return {rule, target, shown};
  });
}

export async function renderDeadLetters(page, ctx) {
  const answer = await api.get(`/dead-letters${query({...filters, limit: 100})}`);
  const letters = Array.isArray(answer.dead_letters) ? answer.dead_letters : [];
  const total = Number(answer.total) || 0;

  const ruleInput = h('input', {id: 'dl-filter-rule', name: 'rule', placeholder: 'any rule', 'aria-label': 'Rule'});
  ruleInput.value = filters.rule;
  const targetInput = h('input', {id: 'dl-filter-target', name: 'target', placeholder: 'any target', 'aria-label': 'Target'});
  targetInput.value = filters.target;
  const form = h('form', {class: 'filters', id: 'dl-filters', autocomplete: 'off'},
    h('label', {class: 'filter'}, h('span', null, 'Rule'), ruleInput),
    h('label', {class: 'filter'}, h('span', null, 'Target'), targetInput),
    h('button', {type: 'submit', id: 'dl-apply'}, 'Filter'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    filters.rule = ruleInput.value.trim();
    filters.target = targetInput.value.trim();
    ctx.rerender();
  });

  const outcome = h('div', {id: 'redrive-result', class: 'redrive-result', 'aria-live': 'polite'});

  async function redrive(rule, target) {
    ctx.clearError();
    let count;
    try {
      count = Number((await api.get(`/dead-letters${query({rule, target, limit: 1})}`)).total) || 0;
    } catch (error) {
      ctx.handleError(error);
      return;
    }
    const plural = count === 1 ? 'dead letter' : 'dead letters';
    const yes = await ctx.confirm('Redrive dead letters?',
      `Redrive ${count} ${plural} of rule "${rule}", target "${target}"? They go back into delivery ` +
      'and leave the dead-letter file.', `Redrive ${count}`);
    if (!yes) return;
    try {
      const result = await api.post('/dead-letters/redrive', {rule, target});
      const reasons = Array.isArray(result.skipped_reasons) ? result.skipped_reasons : [];
      replaceChildren(outcome, h('div', {class: 'notice', testid: 'redrive-notice'},
        `Redriven: ${Number(result.redriven) || 0}, skipped: ${Number(result.skipped) || 0} ` +
        `(rule "${rule}", target "${target}").`),
      reasons.length ? h('ul', {class: 'errors'}, reasons.map((r) => h('li', null, String(r)))) : null);
      await refreshList();
    } catch (error) {
      ctx.handleError(error);
    }
  }

  const listBox = h('div');
  async function refreshList() {
    const fresh = await api.get(`/dead-letters${query({...filters, limit: 100})}`);
    fill(Array.isArray(fresh.dead_letters) ? fresh.dead_letters : [], Number(fresh.total) || 0);
  }

  function fill(shownLetters, totalCount) {
    const pairs = pairsOf(shownLetters);
    replaceChildren(listBox, 
      h('p', {class: 'muted small', testid: 'dead-letters-count'},
        totalCount ? `${totalCount} ${totalCount === 1 ? 'dead letter' : 'dead letters'}${totalCount > shownLetters.length ? `, the newest ${shownLetters.length} shown` : ''}.`
          : 'No dead letter.'),
      pairs.length ? table(['Rule', 'Target', 'Listed', ''], pairs.map((p) => h('tr', {testid: 'redrive-pair'},
        h('td', null, p.rule), h('td', null, p.target), h('td', {class: 'num'}, String(p.shown)),
        h('td', null, h('button', {type: 'button', class: 'danger small-button', testid: 'redrive-button',
          dataset: {rule: p.rule, target: p.target}, on: {click: () => redrive(p.rule, p.target)}}, 'Redrive…')))),
      {class: 'grid narrow', testid: 'redrive-pairs'}) : null,
      shownLetters.length ? table(['Time', 'Rule', 'Target', 'Event', 'Error', 'Retries', ''],
        shownLetters.map(letterRow), {testid: 'dead-letters-table'}) : null);
  }
  fill(letters, total);

  append(page,
    h('div', {class: 'page-head'}, h('h1', null, 'Dead letters'),
      h('p', {class: 'muted'}, 'Deliveries that ran out of retries. Redriving needs an admin token.')),
    section('Filter', form),
    outcome,
    section('Dead letters', listBox));
}
