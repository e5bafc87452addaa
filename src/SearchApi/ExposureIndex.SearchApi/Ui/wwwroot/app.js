// Entry point: hash routing (#/, #/search?q=&page=, #/host/<ip>?history=1&service=22/tcp), the API key
// dialog, the query box and the header tools. Routes live in the fragment so the server serves one page
// and the API key never has to be in any URL.

import { h, replace, $ } from './dom.js';
import { apiKey, getJson, ApiError } from './api.js';
import { initSearchBox, setFilterNames, setQuery, focusQuery, showQueryError, clearQueryError } from './searchbox.js';
import { renderSearch, searchHref, hostHref } from './search.js';
import { renderHost } from './host.js';
import { renderHome } from './home.js';
import { visible } from './format.js';

const main = $('#main');
let current = null;
let filtersLoaded = false;

function parseRoute(hash) {
  if (!hash || hash === '#' || hash === '#/') return { view: 'home' };
  if (!hash.startsWith('#/')) return null;
  const [path, search = ''] = hash.slice(2).split('?', 2);
  const params = new URLSearchParams(search);
  if (path === 'search') {
    const page = Number.parseInt(params.get('page') || '1', 10);
    return { view: 'search', query: params.get('q') || '', page: Number.isFinite(page) && page > 0 ? page : 1 };
  }
  if (path.startsWith('host/')) {
    return { view: 'host', ip: decodeURIComponent(path.slice(5)), history: params.get('history') === '1', service: params.get('service') };
  }
  return { view: 'missing' };
}

const ctx = (signal) => ({
  signal,
  announce: (text) => { $('#status').textContent = text; },
  setTitle: (text) => { document.title = text ? `${text} – ExposureIndex` : 'ExposureIndex'; },
  navigate: (query, page) => go(searchHref(query, page)),
  go,
  needKey: (error) => openKeyDialog(error),
});

function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

async function route() {
  const r = parseRoute(location.hash);
  if (!r) return; // an in-page anchor, not a route
  current?.abort();
  const controller = new AbortController();
  current = controller;
  const hadFocusInMain = main.contains(document.activeElement) || document.activeElement === document.body;
  if (r.view !== 'search') clearQueryError();
  setQuery(r.view === 'search' ? r.query : '');
  try {
    let heading;
    if (r.view === 'home') heading = await renderHome(main, ctx(controller.signal));
    else if (r.view === 'search') {
      heading = await renderSearch(main, r, ctx(controller.signal));
      clearQueryError();
    } else if (r.view === 'host') heading = await renderHost(main, r, ctx(controller.signal));
    else heading = notFound();
    if (controller !== current) return;
    loadFilters();
    // Moving to a new view from inside the page: put focus on its heading, as a page load would.
    if (hadFocusInMain && heading) heading.focus({ preventScroll: r.view !== 'host' || !r.service });
    if (!r.service) window.scrollTo(0, 0);
  } catch (e) {
    if (e.name === 'AbortError' || controller !== current) return;
    main.classList.remove('busy');
    showFailure(e, r);
  }
}

function showFailure(e, r) {
  if (e instanceof ApiError && e.needsKey) {
    replace(main, h('section', { class: 'panel notice' },
      h('h1', { tabindex: '-1' }, 'An API key is needed'),
      h('p', null, visible(e.message)),
      h('button', { type: 'button', class: 'primary', onclick: () => openKeyDialog(e) }, 'Enter API key')));
    openKeyDialog(e);
    return;
  }
  if (e instanceof ApiError && r.view === 'search' && e.status === 400) {
    showQueryError(e, r.query);
    replace(main, h('section', { class: 'panel notice' }, h('p', null, 'Fix the query above and search again.')));
    return;
  }
  replace(main, h('section', { class: 'panel notice error' },
    h('h1', { tabindex: '-1' }, 'Something went wrong'),
    h('p', null, visible(e.message || String(e))),
    h('button', { type: 'button', onclick: () => route() }, 'Try again')));
}

function notFound() {
  const heading = h('h1', { tabindex: '-1' }, 'No such page');
  replace(main, h('section', { class: 'panel notice' }, heading, h('p', null, h('a', { href: '#/' }, 'Back to search'))));
  return heading;
}

async function loadFilters() {
  if (filtersLoaded || !apiKey.get()) return;
  filtersLoaded = true;
  try {
    setFilterNames(await getJson('/shodan/host/search/filters'));
  } catch {
    filtersLoaded = false; // completion is a convenience; try again after the next view
  }
}

// --- API key dialog ----------------------------------------------------------------------------------------

function openKeyDialog(error) {
  const dialog = $('#key-dialog');
  const message = $('#key-error');
  const input = $('#key-input');
  const text = error && apiKey.get() ? error.message : '';
  message.textContent = text;
  message.hidden = !text;
  $('#key-forget').hidden = !apiKey.get();
  input.value = '';
  if (!dialog.open) dialog.showModal();
  input.focus();
}

function initKeyDialog() {
  const dialog = $('#key-dialog');
  $('#key-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const value = $('#key-input').value.trim();
    if (value.length < 8) {
      const message = $('#key-error');
      message.textContent = 'A key has at least 8 characters.';
      message.hidden = false;
      return;
    }
    apiKey.set(value);
    filtersLoaded = false;
    dialog.close();
    updateKeyButton();
    route();
  });
  $('#key-cancel').addEventListener('click', () => dialog.close());
  $('#key-forget').addEventListener('click', () => {
    apiKey.clear();
    filtersLoaded = false;
    dialog.close();
    updateKeyButton();
    route();
  });
  $('#key-button').addEventListener('click', () => openKeyDialog(null));
}

function updateKeyButton() {
  const has = Boolean(apiKey.get());
  const button = $('#key-button');
  button.textContent = has ? 'API key ✓' : 'Set API key';
  button.classList.toggle('attention', !has);
  button.setAttribute('aria-label', has ? 'API key (set): change or forget it' : 'Set API key');
}

// --- Header tools and keyboard ---------------------------------------------------------------------------

async function myIp() {
  const button = $('#my-ip');
  button.disabled = true;
  try {
    const ip = await getJson('/tools/myip');
    go(hostHref(String(ip)));
  } catch (e) {
    showFailure(e, { view: 'myip' });
  } finally {
    button.disabled = false;
  }
}

function initKeyboard() {
  document.addEventListener('keydown', (e) => {
    if (e.key !== '/' || e.ctrlKey || e.metaKey || e.altKey) return;
    const t = e.target;
    if (t instanceof HTMLInputElement || t instanceof HTMLTextAreaElement || t instanceof HTMLSelectElement || t?.isContentEditable) return;
    if ($('#key-dialog').open) return;
    e.preventDefault();
    focusQuery(true);
  });
  // In-page anchors (#main, #svc-22-tcp) would be taken for routes; scroll to them instead.
  document.addEventListener('click', (e) => {
    const a = e.target instanceof Element ? e.target.closest('a[href^="#"]') : null;
    if (!a || a.getAttribute('href').startsWith('#/') || e.button !== 0 || e.ctrlKey || e.metaKey || e.shiftKey) return;
    const target = document.getElementById(a.getAttribute('href').slice(1));
    e.preventDefault();
    if (!target) return;
    if (!target.hasAttribute('tabindex')) target.setAttribute('tabindex', '-1');
    target.scrollIntoView({ block: 'start' });
    target.focus({ preventScroll: true });
  });
}

initSearchBox((query) => {
  clearQueryError();
  go(searchHref(query, 1));
});
initKeyDialog();
initKeyboard();
updateKeyButton();
$('#my-ip').addEventListener('click', myIp);
window.addEventListener('hashchange', route);
route();
