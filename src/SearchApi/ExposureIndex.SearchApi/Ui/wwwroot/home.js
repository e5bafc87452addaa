// The start page: what the language looks like, example queries, and an overview of the whole index.

import { h, replace } from './dom.js';
import { getJson } from './api.js';
import { num, visible } from './format.js';
import { term } from './query.js';
import { EXAMPLES, OVERVIEW_FACETS, FACET_LABELS } from './examples.js';
import { searchHref } from './search.js';

const TOP_TITLES = { port: 'Top ports', product: 'Top products', country: 'Top countries' };

const SYNTAX = [
  ['port:22', 'a filter; terms are AND-ed'],
  ['port:22,80', 'a comma list is an OR'],
  ['-country:US', 'a leading "-" excludes'],
  ['product:"Apache httpd"', 'quote values with spaces'],
  ['product:nginx*', 'wildcards * and ? on keyword filters'],
  ['"Server: nginx"', 'free text and phrases match the banner'],
];

export async function renderHome(main, ctx) {
  const overview = h('section', { class: 'overview', 'aria-labelledby': 'overview-h' },
    h('h2', { id: 'overview-h' }, 'In the index'),
    h('p', { class: 'muted' }, 'Loading…'));
  const heading = h('h1', { tabindex: '-1' }, 'What does the internet see?');
  replace(main, h('div', { class: 'home' },
    h('section', { class: 'intro' },
      heading,
      h('p', { class: 'lead' }, 'Search every service the crawler has seen, by port, product, version, certificate, location or banner text. Use Shodan\'s query syntax; ',
        h('kbd', null, '/'), ' jumps to the search box.'),
      h('h2', null, 'Examples'),
      h('ul', { class: 'examples' }, EXAMPLES.map(([q, what]) => h('li', null,
        h('a', { href: searchHref(q) }, h('code', null, q)), h('span', { class: 'muted' }, what)))),
      h('h2', null, 'Syntax'),
      h('table', { class: 'syntax' }, h('tbody', null, SYNTAX.map(([q, what]) => h('tr', null, h('td', null, h('code', null, q)), h('td', null, what)))))),
    overview));
  ctx.setTitle(null);

  try {
    const data = await getJson('/shodan/host/count', { query: '', facets: OVERVIEW_FACETS }, ctx.signal);
    const groups = OVERVIEW_FACETS.split(',').map((f) => f.split(':')[0]).map((name) => {
      const buckets = (data.facets?.[name] || []).filter((b) => b.value !== '');
      if (!buckets.length) return null;
      return h('div', { class: 'overview-group' },
        h('h3', null, TOP_TITLES[name] || `Top ${FACET_LABELS[name] || name}`),
        h('ol', { class: 'plain top-list' }, buckets.map((b) => h('li', null,
          h('a', { href: searchHref(term(name, b.value)) }, visible(String(b.value))),
          h('span', { class: 'facet-count' }, num(b.count))))));
    });
    replace(overview, h('h2', { id: 'overview-h' }, 'In the index'),
      h('p', { class: 'big-number' }, h('strong', null, num(data.total ?? 0)), ` service${data.total === 1 ? '' : 's'}`),
      h('div', { class: 'overview-groups' }, groups));
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    replace(overview, h('h2', { id: 'overview-h' }, 'In the index'),
      h('p', { class: 'muted' }, e.needsKey ? 'Enter an API key to see what the index holds.' : `Could not load the overview: ${e.message}`));
    if (e.needsKey) ctx.needKey(e);
  }
  return heading;
}
