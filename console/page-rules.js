// Rules: every loaded rule with its pattern or schedule, targets, file:line, state and match
// count (GET /rules), and how the last reload went.

import {append, badge, compactJson, field, formatTime, h, pre, section, table} from './dom.js';
import {api} from './api.js';

function ruleRow(rule) {
  const targets = Array.isArray(rule.targets) ? rule.targets : [];
  const matcher = rule.schedule !== undefined
    ? h('div', null, h('span', {class: 'muted'}, 'schedule '), h('code', null, String(rule.schedule)))
    : pre(compactJson(rule.event_pattern), {class: 'code code-small'});
  const extras = [];
  if (rule.dedup !== undefined) extras.push(h('div', {class: 'muted small'}, `dedup: ${JSON.stringify(rule.dedup)}`));
  if (rule.max_invocations !== undefined) {
    extras.push(h('div', {class: 'muted small'}, `max_invocations: ${JSON.stringify(rule.max_invocations)}`));
  }
  return h('tr', {testid: 'rule-row', dataset: {rule: String(rule.name)}},
    h('td', null,
      h('div', {class: 'strong', testid: 'rule-name'}, String(rule.name)),
      rule.description ? h('div', {class: 'muted small'}, String(rule.description)) : null,
      h('div', {class: 'muted small'}, `bus ${String(rule.bus)}`), extras),
    h('td', null, badge(String(rule.state), rule.state === 'ENABLED' ? 'ok' : 'neutral')),
    h('td', {class: 'pattern-cell'}, matcher),
    h('td', null, h('ul', {class: 'plain'}, targets.map((t) =>
      h('li', null, h('span', {class: 'strong'}, String(t.id)), ' ', badge(String(t.type), 'info'))))),
    h('td', {class: 'mono small', testid: 'rule-location'}, `${String(rule.file)}:${String(rule.line)}`),
    h('td', {class: 'num', testid: 'rule-matches'}, String(rule.match_count ?? 0)));
}

export async function renderRules(page) {
  const answer = await api.get('/rules');
  const rules = Array.isArray(answer.rules) ? answer.rules : [];
  const reload = answer.last_reload || {};
  const reloads = answer.reloads || {};
  const errors = Array.isArray(reload.errors) ? reload.errors : [];
  append(page,
    h('div', {class: 'page-head'}, h('h1', null, 'Rules'),
      h('p', {class: 'muted'}, `${rules.length} rules loaded.`)),
    section('Last reload', h('dl', {class: 'fields'},
      field('time', formatTime(reload.time)),
      field('outcome', String(reload.outcome ?? '')),
      field('reloads', `${Number(reloads.succeeded) || 0} succeeded, ${Number(reloads.failed) || 0} failed`)),
    errors.length ? h('ul', {class: 'errors'}, errors.map((e) => h('li', {class: 'mono small'},
      typeof e === 'string' ? e : JSON.stringify(e)))) : null),
    section('Loaded rules', table(['Rule', 'State', 'Pattern or schedule', 'Targets', 'File:line', 'Matches'],
      rules.map(ruleRow), {testid: 'rules-table'})));
}
