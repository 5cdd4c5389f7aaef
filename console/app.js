// The console's shell: hash routing, the token box, the error banner and the confirmation
// dialog. Each page is its own module that renders into <main id="view">.

import {h, replaceChildren} from './dom.js';
import {ApiError, setToken, token} from './api.js';
import {renderOverview} from './page-overview.js';
import {renderRules} from './page-rules.js';
import {renderSandbox} from './page-sandbox.js';
import {renderEvents} from './page-events.js';
import {renderEvent} from './page-event.js';
import {renderDeadLetters} from './page-dead-letters.js';

const view = document.getElementById('view');
const banner = document.getElementById('error-banner');
const bannerText = document.getElementById('error-text');

function showError(error) {
  bannerText.textContent = error instanceof Error ? error.message : String(error);
  banner.hidden = false;
}

function clearError() {
  bannerText.textContent = '';
  banner.hidden = true;
}

// An in-page dialog rather than window.confirm: it can say more, and it can be screenshotted.
function confirmDialog(title, text, confirmLabel) {
  const dialog = document.getElementById('dialog');
  const ok = document.getElementById('dialog-confirm');
  const cancel = document.getElementById('dialog-cancel');
  document.getElementById('dialog-title').textContent = title;
  document.getElementById('dialog-text').textContent = text;
  ok.textContent = confirmLabel || 'Confirm';
  dialog.hidden = false;
  ok.focus();
  return new Promise((resolve) => {
    const close = (answer) => {
      dialog.hidden = true;
      ok.removeEventListener('click', onOk);
      cancel.removeEventListener('click', onCancel);
      document.removeEventListener('keydown', onKey);
      resolve(answer);
    };
    const onOk = () => close(true);
    const onCancel = () => close(false);
    const onKey = (e) => {
      if (e.key === 'Escape') close(false);
    };
    ok.addEventListener('click', onOk);
    cancel.addEventListener('click', onCancel);
    document.addEventListener('keydown', onKey);
  });
}

function showTokenState() {
  const set = Boolean(token());
  document.getElementById('token-state').textContent = set ? 'Token set' : 'No token';
  document.getElementById('token-state').classList.toggle('token-set', set);
  document.getElementById('sign-out').disabled = !set;
}

// A 401 replaces the page with a request for the token; anything else goes to the banner.
function askForToken(message) {
  const input = h('input', {type: 'password', id: 'auth-token-input', placeholder: 'API token', autocomplete: 'off',
    'aria-label': 'API token'});
  const form = h('form', {class: 'auth-form', autocomplete: 'off', on: {
    submit: (e) => {
      e.preventDefault();
      if (!input.value) return;
      setToken(input.value);
      showTokenState();
      route();
    },
  }}, input, h('button', {type: 'submit', id: 'auth-token-save'}, 'Use token'));
  replaceChildren(view, h('section', {class: 'panel auth-required', testid: 'auth-required'},
    h('h2', null, token() ? 'This token was not accepted' : 'This daemon needs a token'),
    h('p', null, message),
    h('p', {class: 'muted'}, 'Enter an API token from the daemon\'s auth.tokens_file. It is kept in ' +
      'this tab only (sessionStorage) and sent as a Bearer token with every data request.'),
    form));
  input.focus();
}

function handleError(error) {
  if (error instanceof ApiError && error.status === 401) {
    askForToken(error.message);
    return;
  }
  showError(error);
}

const PAGES = {
  'overview': renderOverview,
  'rules': renderRules,
  'sandbox': renderSandbox,
  'events': renderEvents,
  'dead-letters': renderDeadLetters,
};

function parseHash() {
  const path = location.hash.replace(/^#\/?/, '');
  const [name, ...rest] = path.split('/');
  let arg = null;
  if (rest.length) {
    try {
      arg = decodeURIComponent(rest.join('/'));
    } catch (e) {
      arg = rest.join('/');  // a stray '%' in a hand-typed address: take it as it is
    }
  }
  return {name: name || 'overview', arg};
}

let generation = 0;

async function route() {
  const {name, arg} = parseHash();
  const current = ++generation;
  clearError();
  for (const link of document.querySelectorAll('.nav a')) {
    link.classList.toggle('active', link.dataset.route === name);
  }
  const render = name === 'events' && arg !== null ? renderEvent : PAGES[name];
  if (!render) {
    replaceChildren(view, h('section', {class: 'panel'}, h('h2', null, 'No such page'),
      h('p', null, 'Pick a page above.')));
    return;
  }
  const page = h('div', {class: 'page', testid: `page-${name}${arg !== null ? '-detail' : ''}`});
  replaceChildren(view, h('div', {class: 'loading'}, 'Loading…'));
  const ctx = {
    arg,
    showError,
    clearError,
    handleError,
    confirm: confirmDialog,
    stillCurrent: () => current === generation,
    rerender: () => route(),
  };
  try {
    await render(page, ctx);
    if (current === generation) {
      replaceChildren(view, page);
      view.dataset.loaded = name;
    }
  } catch (error) {
    if (current !== generation) return;
    replaceChildren(view);
    handleError(error);
  }
}

document.getElementById('token-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const input = document.getElementById('token-input');
  if (!input.value) return;
  setToken(input.value);
  input.value = '';
  showTokenState();
  route();
});
document.getElementById('sign-out').addEventListener('click', () => {
  setToken('');
  showTokenState();
  route();
});
document.getElementById('error-close').addEventListener('click', clearError);
window.addEventListener('hashchange', route);

showTokenState();
route();
