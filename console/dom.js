// Builds the DOM from data without ever parsing markup: every string becomes a text node, so a
// value from an event (a finding title holding "<img onerror=...>") is shown, never run.

const SVG_NS = 'http://www.w3.org/2000/svg';

// Attributes a caller may set. Event handlers (on*) and style are not among them: the CSP
// forbids inline ones, and nothing from an answer should ever choose an attribute name.
const ALLOWED_ATTRIBUTES = new Set([
  'id', 'class', 'href', 'title', 'type', 'value', 'placeholder', 'for', 'name', 'rows',
  'cols', 'min', 'max', 'step', 'role', 'colspan', 'aria-label', 'aria-live', 'spellcheck',
  'selected', 'disabled', 'open', 'datetime', 'hidden', 'autocomplete',
  // SVG geometry and presentation.
  'viewBox', 'width', 'height', 'x', 'y', 'x1', 'x2', 'y1', 'y2', 'cx', 'cy', 'r', 'd',
  'points', 'fill', 'stroke', 'stroke-width', 'text-anchor', 'dominant-baseline',
  'preserveAspectRatio', 'font-size',
]);

function setAttributes(node, attrs) {
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'dataset') {
      for (const [dk, dv] of Object.entries(value)) node.dataset[dk] = String(dv);
    } else if (key === 'testid') {
      node.setAttribute('data-testid', String(value));
    } else if (key === 'on') {
      for (const [event, handler] of Object.entries(value)) node.addEventListener(event, handler);
    } else if (ALLOWED_ATTRIBUTES.has(key)) {
      if (key === 'href' && !String(value).startsWith('#')) {
        throw new Error('only in-console links are built');
      }
      node.setAttribute(key, value === true ? '' : String(value));
    } else {
      throw new Error(`attribute ${key} is not allowed`);
    }
  }
}

export function append(node, ...children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// h('td', {class: 'x'}, 'text', otherNode): an HTML element.
export function h(tag, attrs, ...children) {
  const node = document.createElement(tag);
  setAttributes(node, attrs);
  return append(node, children);
}

// s('rect', {...}): an SVG element.
export function s(tag, attrs, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  setAttributes(node, attrs);
  return append(node, children);
}

export function replaceChildren(node, ...children) {
  node.replaceChildren();
  return append(node, children);
}

// A link to one event's history page, whatever characters its id holds.
export function eventLink(id, label) {
  return h('a', {href: `#/events/${encodeURIComponent(id)}`, class: 'mono'}, label ?? id);
}

export function pretty(value) {
  return JSON.stringify(value, null, 2);
}

// JSON with whatever fits in 60 characters on one line: patterns read better so than with one
// line per array element.
export function compactJson(value, indent = '') {
  const flat = JSON.stringify(value);
  if (flat === undefined || flat.length <= 60 || value === null || typeof value !== 'object') {
    return flat === undefined ? '' : flat;
  }
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    return `[\n${value.map((v) => inner + compactJson(v, inner)).join(',\n')}\n${indent}]`;
  }
  const members = Object.entries(value).map(([k, v]) => `${inner}${JSON.stringify(k)}: ${compactJson(v, inner)}`);
  return `{\n${members.join(',\n')}\n${indent}}`;
}

export function pre(text, attrs) {
  return h('pre', {class: 'code', ...attrs}, text);
}

export function badge(text, kind) {
  return h('span', {class: `badge badge-${kind || 'neutral'}`}, text);
}

// "2026-12-06T15:20:01.118Z" -> "2026-12-06 15:20:01 UTC" (with ".118" when `millis`); other
// text is shown as it is.
export function formatTime(value, millis) {
  if (typeof value !== 'string') return value === undefined || value === null ? '' : String(value);
  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(\.\d+)?Z$/.exec(value);
  if (!match) return value;
  return `${match[1]} ${match[2]}${millis && match[3] ? match[3].slice(0, 4) : ''} UTC`;
}

export function table(columns, rows, attrs) {
  return h('table', {class: 'grid', ...attrs},
    h('thead', null, h('tr', null, columns.map((c) => h('th', null, c)))),
    h('tbody', null, rows));
}

export function field(label, value) {
  return [h('dt', null, label), h('dd', null, value)];
}

export function section(title, ...children) {
  return h('section', {class: 'panel'}, h('h2', null, title), children);
}
