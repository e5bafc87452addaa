// The query box: a combobox (WAI-ARIA APG "combobox with listbox popup") completing filter names, and the
// display of positioned query errors (the API's {"error", "position", "length"}).

import { h, replace, $ } from './dom.js';
import { nameAt, suggest, complete } from './query.js';

let filterNames = [];
let active = -1;
let options = [];
let lastError = null;

const input = () => $('#q');
const list = () => $('#q-suggestions');

export function setFilterNames(names) {
  filterNames = [...names].sort();
}

export function getQuery() {
  return input().value.trim();
}

export function setQuery(text) {
  if (input().value !== text) input().value = text;
}

export function focusQuery(selectAll = false) {
  const q = input();
  q.focus();
  if (selectAll) q.select();
}

export function initSearchBox(onSubmit) {
  const form = $('#search-form');
  const q = input();
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    close();
    onSubmit(getQuery());
  });
  q.addEventListener('input', () => {
    q.removeAttribute('aria-invalid');
    update(false);
  });
  q.addEventListener('click', () => update(false));
  q.addEventListener('blur', () => setTimeout(close, 120));
  q.addEventListener('keydown', (e) => {
    const open = !list().hidden;
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      if (!open) { update(true); return; }
      move(e.key === 'ArrowDown' ? 1 : -1);
    } else if ((e.key === 'Enter' || e.key === 'Tab') && open && active >= 0) {
      e.preventDefault();
      accept(options[active]);
    } else if (e.key === 'Escape' && open) {
      e.preventDefault();
      close();
    }
  });
}

function update(showAll) {
  const q = input();
  const at = nameAt(q.value, q.selectionStart ?? q.value.length);
  if (!at) { close(); return; }
  const names = at.prefix ? suggest(filterNames, at.prefix) : (showAll ? filterNames : []);
  if (names.length === 0) { close(); return; }
  options = names;
  active = showAll ? 0 : -1;
  render();
}

function render() {
  const ul = list();
  replace(ul, options.map((name, i) => h('li', {
    id: `q-option-${i}`,
    role: 'option',
    'aria-selected': i === active ? 'true' : 'false',
    onmousedown: (e) => { e.preventDefault(); accept(name); },
  }, name)));
  ul.hidden = false;
  input().setAttribute('aria-expanded', 'true');
  if (active >= 0) {
    input().setAttribute('aria-activedescendant', `q-option-${active}`);
    ul.children[active]?.scrollIntoView({ block: 'nearest' });
  } else {
    input().removeAttribute('aria-activedescendant');
  }
}

function move(delta) {
  active = (active + delta + options.length) % options.length;
  render();
}

function accept(name) {
  const q = input();
  const at = nameAt(q.value, q.selectionStart ?? q.value.length);
  if (!at) { close(); return; }
  const done = complete(q.value, at, name);
  q.value = done.query;
  q.setSelectionRange(done.caret, done.caret);
  close();
  q.focus();
}

function close() {
  const ul = list();
  if (!ul || ul.hidden) return;
  ul.hidden = true;
  replace(ul);
  options = [];
  active = -1;
  input().setAttribute('aria-expanded', 'false');
  input().removeAttribute('aria-activedescendant');
}

/**
 * Shows a query error under the box: the API's message, and the query with the offending span marked; the
 * same span is selected in the box so typing replaces it.
 */
export function showQueryError(error, query) {
  const box = $('#query-error');
  const start = Math.max(0, Math.min(error.position ?? 0, query.length));
  const length = Math.max(0, error.length ?? 0);
  const end = Math.min(query.length, start + length);
  replace($('#query-error-message'), h('strong', null, 'Query error: '), error.message);
  const context = $('#query-error-context');
  if (error.position === null || error.position === undefined) {
    replace(context);
    context.hidden = true;
  } else {
    const marked = end > start ? query.slice(start, end) : ' ';
    replace(context, query.slice(0, start), h('mark', { class: end > start ? null : 'at-end' }, marked), query.slice(end));
    context.hidden = false;
  }
  box.hidden = false;
  const q = input();
  q.setAttribute('aria-invalid', 'true');
  q.setAttribute('aria-describedby', 'q-hint query-error-message');
  if (q.value === query) {
    q.focus();
    q.setSelectionRange(start, Math.max(end, start));
  }
  lastError = error;
}

export function clearQueryError() {
  if (!lastError && $('#query-error').hidden) return;
  $('#query-error').hidden = true;
  replace($('#query-error-message'));
  replace($('#query-error-context'));
  input().removeAttribute('aria-invalid');
  input().setAttribute('aria-describedby', 'q-hint');
  lastError = null;
}
