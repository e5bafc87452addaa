// The results page: total, result cards, paging (100 per page, Shodan's page size), a facet sidebar whose
// values refine the query, and the NDJSON export of the whole result set.

import { h, replace, chips } from './dom.js';
import { getJson, getBlob } from './api.js';
import { num, firstLines, parseTime, utc, ago, place, productLine, endpoint, serviceKey, visible, bytes } from './format.js';
import { toggle, termState } from './query.js';
import { SEARCH_FACETS, FACET_LABELS } from './examples.js';

const PAGE_SIZE = 100;

export function searchHref(query, page = 1) {
  const params = new URLSearchParams({ q: query });
  if (page > 1) params.set('page', String(page));
  return `#/search?${params}`;
}

export function hostHref(ip, service) {
  return `#/host/${ip}` + (service ? `?${new URLSearchParams({ service })}` : '');
}

export async function renderSearch(main, { query, page }, ctx) {
  main.classList.add('busy');
  ctx.announce('Searching…');
  const params = { query, facets: SEARCH_FACETS, minify: 'true' };
  if (page > 1) params.page = page;
  const data = await getJson('/shodan/host/search', params, ctx.signal);
  main.classList.remove('busy');

  const total = data.total ?? 0;
  const matches = data.matches || [];
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  const heading = h('h1', { id: 'results-heading', tabindex: '-1' },
    total === 1 ? '1 result' : `${num(total)} results`);
  const head = h('div', { class: 'results-head' },
    heading,
    h('p', { class: 'muted' }, query ? ['for ', h('code', { class: 'query-echo' }, query)] : 'for everything in the index',
      pages > 1 ? ` · page ${num(page)} of ${num(pages)}` : ''),
    exportButton(query, total, ctx));

  const body = matches.length
    ? h('ol', { class: 'result-list', start: String((page - 1) * PAGE_SIZE + 1), 'aria-labelledby': 'results-heading' }, matches.map((m) => h('li', null, card(m))))
    : h('p', { class: 'empty' }, page > 1 && total > 0 ? 'This page is past the last result.' : 'Nothing matches this query. Remove a filter or try broader free text.');

  replace(main, h('div', { class: 'results-layout' },
    facetSidebar(data.facets || {}, query, ctx),
    h('section', { class: 'results', 'aria-labelledby': 'results-heading' }, head, body, pager(query, page, pages))));
  ctx.announce(`${num(total)} results`);
  ctx.setTitle(query || 'All results');
  return heading;
}

function card(m) {
  const when = parseTime(m.timestamp);
  const loc = place(m.location);
  const title = m.http?.title;
  const cn = m.ssl?.cert?.subject?.CN;
  const facts = [
    m.hostnames?.length ? h('span', { class: 'hostnames', title: 'Hostnames' }, visible(m.hostnames.join(', '))) : null,
    loc ? h('span', { title: 'Location' }, visible(loc)) : null,
    m.org ? h('span', { title: 'Organization' }, visible(m.org)) : null,
    m.asn ? h('span', { class: 'mono', title: 'Autonomous system' }, visible(m.asn)) : null,
  ].filter(Boolean);
  return h('article', { class: 'result' },
    h('header', null,
      h('a', { class: 'endpoint', href: hostHref(m.ip_str, serviceKey(m)) }, `${endpoint(m)}/${m.transport || 'tcp'}`),
      productLine(m) ? h('span', { class: 'product' }, visible(productLine(m))) : null,
      when ? h('time', { datetime: when.toISOString(), title: ago(when) }, utc(when)) : null),
    facts.length ? h('p', { class: 'facts' }, facts) : null,
    title || cn ? h('p', { class: 'extras' },
      title ? [h('span', { class: 'label' }, 'Title'), ' ', h('span', { class: 'title' }, visible(title))] : null,
      title && cn ? ' ' : null,
      cn ? [h('span', { class: 'label' }, 'Cert CN'), ' ', h('span', { class: 'mono' }, visible(cn))] : null) : null,
    chips((m.tags || []).map(visible), 'tags'),
    h('pre', { class: 'banner preview' }, firstLines(m.data) || '(no data)'));
}

function facetSidebar(facets, query, ctx) {
  const sections = [];
  for (const name of SEARCH_FACETS.split(',').map((f) => f.split(':')[0])) {
    const buckets = (facets[name] || []).filter((b) => b.value !== '' && b.value !== null);
    if (buckets.length === 0) continue;
    const max = Math.max(...buckets.map((b) => b.count));
    const label = FACET_LABELS[name] || name;
    sections.push(h('section', { class: 'facet', 'aria-labelledby': `facet-${name}` },
      h('h2', { id: `facet-${name}` }, label),
      h('ul', null, buckets.map((b) => facetRow(name, label, b, max, query, ctx)))));
  }
  return h('aside', { class: 'facets', 'aria-label': 'Refine by facet' },
    sections.length ? sections : h('p', { class: 'muted' }, 'No facets for these results.'));
}

function facetRow(name, label, bucket, max, query, ctx) {
  const value = String(bucket.value);
  const state = termState(query, name, value);
  const bar = h('span', { class: 'bar', 'aria-hidden': 'true' });
  bar.style.setProperty('--share', `${Math.max(2, Math.round((bucket.count / max) * 100))}%`);
  return h('li', { class: ['facet-row', state] },
    h('button', {
      type: 'button',
      class: 'facet-value',
      'aria-pressed': state === 'include' ? 'true' : 'false',
      title: state === 'include' ? `Remove ${name}:${value}` : `Only ${label.toLowerCase()} ${value}`,
      dataset: { facet: name, value },
      onclick: () => ctx.navigate(toggle(query, name, value, false), 1),
    }, bar, h('span', { class: 'facet-label' }, visible(value))),
    h('span', { class: 'facet-count' }, num(bucket.count)),
    h('button', {
      type: 'button',
      class: 'facet-exclude',
      'aria-pressed': state === 'exclude' ? 'true' : 'false',
      'aria-label': `${state === 'exclude' ? 'Stop excluding' : 'Exclude'} ${label.toLowerCase()} ${value}`,
      title: `${state === 'exclude' ? 'Stop excluding' : 'Exclude'} ${name}:${value}`,
      dataset: { facet: name, value },
      onclick: () => ctx.navigate(toggle(query, name, value, true), 1),
    }, '−'));
}

function pager(query, page, pages) {
  if (pages <= 1) return null;
  return h('nav', { class: 'pager', 'aria-label': 'Result pages' },
    page > 1 ? h('a', { href: searchHref(query, page - 1), rel: 'prev' }, '← Previous') : h('span', { class: 'disabled' }, '← Previous'),
    h('span', { class: 'page-of' }, `Page ${num(page)} of ${num(pages)}`),
    page < pages ? h('a', { href: searchHref(query, page + 1), rel: 'next' }, 'Next →') : h('span', { class: 'disabled' }, 'Next →'));
}

function exportButton(query, total, ctx) {
  const status = h('span', { class: 'export-status', role: 'status' });
  let controller = null;
  const button = h('button', { type: 'button', class: 'export', disabled: total === 0 ? true : null, title: 'Every match as newline-delimited JSON banners' }, 'Export NDJSON');
  button.addEventListener('click', async () => {
    if (controller) { controller.abort(); return; }
    controller = new AbortController();
    button.textContent = 'Cancel export';
    status.textContent = 'Exporting…';
    try {
      const blob = await getBlob('/api/v1/export', { query }, controller.signal, (n) => { status.textContent = `Exporting… ${bytes(n)}`; });
      const href = URL.createObjectURL(blob);
      const a = h('a', { href, download: exportName(query), hidden: true });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(href), 60_000);
      status.textContent = `Exported ${bytes(blob.size)}.`;
    } catch (e) {
      status.textContent = e.name === 'AbortError' ? 'Export cancelled.' : `Export failed: ${e.message}`;
      if (e.needsKey) ctx.needKey(e);
    } finally {
      controller = null;
      button.textContent = 'Export NDJSON';
    }
  });
  return h('div', { class: 'export-box' }, button, status);
}

function exportName(query) {
  const slug = query.toLowerCase().replace(/[^a-z0-9.]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 48) || 'all';
  const stamp = new Date().toISOString().slice(0, 19).replace(/[-:]/g, '');
  return `exposureindex-${slug}-${stamp}.ndjson`;
}
