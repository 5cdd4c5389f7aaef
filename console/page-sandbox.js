// Pattern sandbox: test a pattern against an event (POST /test-event-pattern), or against the
// last events the daemon received (POST /recent-events/test-event-pattern).

import {append, compactJson, eventLink, formatTime, h, pretty, replaceChildren, section} from './dom.js';
import {ApiError, api, query} from './api.js';

const EXAMPLE_EVENT = {
  'version': '0',
  'id': '7f1a3c2e-0b5d-4e8f-9a6b-2c4d6e8f0a1b',
  'detail-type': 'GuardDuty Finding',
  'source': 'aws.guardduty',
  'account': '123456789012',
  'time': '2026-12-06T14:02:11Z',
  'region': 'us-east-1',
  'resources': [],
  'detail': {
    'type': 'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS',
    'severity': 8,
    'title': 'Credentials for instance role web-tier used from an external IP address.',
    'resource': {'resourceType': 'AccessKey', 'accessKeyDetails': {'userName': 'web-tier-instance-role'}},
  },
};

const EXAMPLE_PATTERN = {
  'source': ['aws.guardduty'],
  'detail': {'severity': [{'numeric': ['>=', 7]}]},
};

function showResult(box, kind, text) {
  replaceChildren(box, h('span', {class: `result result-${kind}`, testid: 'sandbox-result-text'}, text));
  box.dataset.result = kind;
}

export async function renderSandbox(page, ctx) {
  const eventBox = h('textarea', {id: 'sandbox-event', rows: 18, spellcheck: 'false',
    'aria-label': 'Event'});
  eventBox.value = pretty(EXAMPLE_EVENT);
  const patternBox = h('textarea', {id: 'sandbox-pattern', rows: 10, spellcheck: 'false',
    'aria-label': 'Event pattern'});
  patternBox.value = compactJson(EXAMPLE_PATTERN);
  const result = h('div', {id: 'sandbox-result', class: 'result-box', 'aria-live': 'polite'});
  // An answer is about the texts it was given: editing either clears it.
  const resetResult = () => {
    replaceChildren(result, h('span', {class: 'muted'}, 'Press Test to check the pattern against the event.'));
    result.dataset.result = '';
  };
  resetResult();
  eventBox.addEventListener('input', resetResult);
  patternBox.addEventListener('input', resetResult);

  const picker = h('select', {id: 'recent-picker', 'aria-label': 'Pick one of the last events'},
    h('option', {value: ''}, 'Pick one of the last events…'));
  const pickerNote = h('span', {class: 'muted small'});
  let recent = [];
  try {
    const answer = await api.get(`/recent-events${query({limit: 100})}`);
    recent = Array.isArray(answer.events) ? answer.events : [];
    recent.forEach((e, i) => picker.append(h('option', {value: String(i)},
      `${formatTime(e.received_at)} · ${String(e.source)} · ${String(e['detail-type'])} · ${String(e.id)}`)));
    pickerNote.textContent = recent.length ? `${recent.length} recent events` : 'The daemon has received no event yet.';
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) throw error;
    pickerNote.textContent = `Recent events are not available: ${error.message}`;
  }
  picker.addEventListener('change', () => {
    const chosen = recent[Number(picker.value)];
    if (picker.value !== '' && chosen) {
      eventBox.value = pretty(chosen.event);
      resetResult();
    }
  });

  const testButton = h('button', {type: 'button', id: 'sandbox-test'}, 'Test');
  testButton.addEventListener('click', async () => {
    ctx.clearError();
    showResult(result, 'pending', 'Testing…');
    try {
      const answer = await api.post('/test-event-pattern', {Event: eventBox.value, EventPattern: patternBox.value});
      if (answer.Result === true) showResult(result, 'match', 'MATCH');
      else showResult(result, 'nomatch', 'NO MATCH');
    } catch (error) {
      if (error instanceof ApiError && error.status === 400) {
        showResult(result, 'invalid', error.message);
      } else {
        showResult(result, 'error', 'Not tested');
        ctx.handleError(error);
      }
    }
  });

  const limit = h('input', {type: 'number', id: 'recent-limit', min: 1, max: 100, value: 20,
    'aria-label': 'How many of the last events'});
  const whichButton = h('button', {type: 'button', id: 'which-match', class: 'secondary'},
    'Which of the last N events match');
  const whichResult = h('div', {id: 'which-result', class: 'which-result'});
  whichButton.addEventListener('click', async () => {
    ctx.clearError();
    replaceChildren(whichResult, h('span', {class: 'muted'}, 'Testing…'));
    try {
      const n = Math.min(100, Math.max(1, Number(limit.value) || 20));
      const answer = await api.post('/recent-events/test-event-pattern', {EventPattern: patternBox.value, limit: n});
      const matched = Array.isArray(answer.matched) ? answer.matched : [];
      replaceChildren(whichResult, 
        h('p', {testid: 'which-summary'}, `${matched.length} of the last ${Number(answer.examined) || 0} events match.`),
        h('ul', {class: 'plain which-list'}, matched.map((e) => h('li', {testid: 'which-match-row'},
          eventLink(String(e.id)), ' ',
          h('span', {class: 'muted small'},
            `${String(e.source)} · ${String(e['detail-type'])} · ${formatTime(e.received_at)}`)))));
    } catch (error) {
      if (error instanceof ApiError && error.status === 400) {
        replaceChildren(whichResult, h('span', {class: 'result result-invalid', testid: 'which-invalid'}, error.message));
      } else {
        replaceChildren(whichResult);
        ctx.handleError(error);
      }
    }
  });

  append(page,
    h('div', {class: 'page-head'}, h('h1', null, 'Pattern sandbox'),
      h('p', {class: 'muted'}, 'Edit an event and an EventBridge event pattern; the daemon\'s own matcher answers.')),
    h('div', {class: 'two-columns'},
      section('Event', h('div', {class: 'row'}, picker, pickerNote), eventBox),
      section('Event pattern', patternBox,
        h('div', {class: 'row'}, testButton), result)),
    section('Which of the last events match',
      h('div', {class: 'row'}, h('label', {for: 'recent-limit'}, 'Last'), limit,
        h('span', null, 'events'), whichButton),
      whichResult));
}
