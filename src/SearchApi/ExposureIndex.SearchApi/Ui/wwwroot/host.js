// The host page: what one address exposes. Summary (ports, hostnames, location, owner, last update), then
// each service's banner in full with its structured sections; with history, every observation over time,
// grouped by service, newest first, marking what changed.

import { h, replace, definitions, chips } from './dom.js';
import { getJson, ApiError } from './api.js';
import { parseTime, utc, ago, place, productLine, serviceKey, visible, num } from './format.js';
import { bannerData, sections, identification, rawJson, seen } from './banner.js';
import { searchHref, hostHref } from './search.js';
import { term } from './query.js';

export async function renderHost(main, { ip, history, service }, ctx) {
  main.classList.add('busy');
  ctx.announce(`Loading ${ip}…`);
  let host;
  try {
    host = await getJson(`/shodan/host/${encodeURIComponent(ip)}`, history ? { history: 'true' } : {}, ctx.signal);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) {
      const heading = h('h1', { tabindex: '-1' }, ip);
      replace(main, h('section', { class: 'panel notice' }, heading,
        h('p', null, visible(e.message)),
        h('p', { class: 'muted' }, 'The crawler has not recorded any service on this address (or it is outside the ranges it scans).')));
      ctx.setTitle(ip);
      main.classList.remove('busy');
      return heading;
    }
    throw e;
  }
  main.classList.remove('busy');

  const banners = host.data || [];
  const heading = h('h1', { tabindex: '-1', class: 'mono' }, host.ip_str);
  const toggle = h('input', { type: 'checkbox', id: 'history-toggle', role: 'switch', checked: history ? true : null });
  toggle.addEventListener('change', () => ctx.go(hostHref(host.ip_str) + (toggle.checked ? '?history=1' : '')));

  const services = history ? historyView(banners) : currentView(banners);
  replace(main, h('article', { class: 'host' },
    h('header', { class: 'host-head' },
      h('div', null,
        heading,
        host.hostnames?.length ? h('p', { class: 'hostnames' }, visible(host.hostnames.join(', '))) : null),
      h('div', { class: 'host-tools' },
        h('label', { class: 'switch', for: 'history-toggle' }, toggle, h('span', null, 'History')),
        h('a', { class: 'button', href: searchHref(term('ip', host.ip_str)) }, 'Search this address'))),
    h('div', { class: 'host-grid' },
      summary(host),
      h('section', { class: 'services', 'aria-labelledby': 'services-h' },
        h('h2', { id: 'services-h' }, history ? `History (${num(banners.length)} observations)` : `Services (${num(banners.length)})`),
        services))));
  ctx.setTitle(host.ip_str);
  ctx.announce(`${host.ip_str}: ${num(host.ports?.length ?? 0)} open ports`);

  if (service) {
    const target = document.getElementById(sectionId(service));
    if (target) {
      target.classList.add('target');
      target.scrollIntoView({ block: 'start' });
      return target.querySelector('h3') || heading;
    }
  }
  return heading;
}

function summary(host) {
  const updated = parseTime(host.last_update);
  const ports = (host.ports || []).map((p) => h('a', { href: `#${sectionIdForPort(host, p)}`, class: 'port', dataset: { port: String(p) } }, String(p)));
  const dl = definitions([
    ['Ports', ports.length ? h('span', { class: 'ports' }, ports) : null],
    ['Hostnames', chips((host.hostnames || []).map(visible), 'mono')],
    ['Domains', chips((host.domains || []).map(visible), 'mono')],
    ['Location', visible(place(host))],
    ['Organization', visible(host.org || '')],
    ['ISP', visible(host.isp || '')],
    ['ASN', visible(host.asn || '')],
    ['OS', visible(host.os || '')],
    ['Tags', chips((host.tags || []).map(visible), 'tags')],
    ['Last update', updated ? h('time', { datetime: updated.toISOString(), title: ago(updated) }, utc(updated)) : ''],
  ], 'kv summary-list');
  return h('section', { class: 'summary panel', 'aria-label': 'Summary' }, dl);
}

// Ports in the summary jump to their service; an in-page link would fight the hash router, so these are
// handled by app.js (links whose hash is not a route scroll to the element with that id).
function sectionIdForPort(host, port) {
  const banner = (host.data || []).find((b) => b.port === port);
  return sectionId(banner ? serviceKey(banner) : `${port}/tcp`);
}

function sectionId(key) {
  return 'svc-' + key.replace('/', '-');
}

function currentView(banners) {
  if (!banners.length) return h('p', { class: 'muted' }, 'No banners.');
  const sorted = [...banners].sort((a, b) => a.port - b.port || String(a.transport).localeCompare(String(b.transport)));
  return sorted.map((b) => {
    const key = serviceKey(b);
    return h('section', { class: 'service panel', id: sectionId(key), 'aria-labelledby': `${sectionId(key)}-h`, tabindex: '-1' },
      h('header', { class: 'service-head' },
        h('h3', { id: `${sectionId(key)}-h`, tabindex: '-1' }, key),
        productLine(b) ? h('span', { class: 'product' }, visible(productLine(b))) : null,
        h('span', { class: 'seen muted' }, seen(b))),
      bannerData(b),
      h('details', { class: 'section' }, h('summary', null, 'Identification'), identification(b)),
      sections(b),
      rawJson(b));
  });
}

function historyView(banners) {
  if (!banners.length) return h('p', { class: 'muted' }, 'No observations.');
  const groups = new Map();
  for (const b of banners) {
    const key = serviceKey(b);
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(b);
  }
  const keys = [...groups.keys()].sort((a, b) => parseInt(a, 10) - parseInt(b, 10) || a.localeCompare(b));
  return keys.map((key) => {
    const list = groups.get(key).sort((a, b) => (parseTime(b.timestamp)?.getTime() ?? 0) - (parseTime(a.timestamp)?.getTime() ?? 0));
    const newest = parseTime(list[0].timestamp);
    const oldest = parseTime(list[list.length - 1].timestamp);
    return h('section', { class: 'service panel history', id: sectionId(key), 'aria-labelledby': `${sectionId(key)}-h`, tabindex: '-1' },
      h('header', { class: 'service-head' },
        h('h3', { id: `${sectionId(key)}-h`, tabindex: '-1' }, key),
        h('span', { class: 'seen muted' }, `${num(list.length)} observation${list.length === 1 ? '' : 's'}` +
          (list.length > 1 ? ` · ${utc(oldest)} → ${utc(newest)}` : ` · ${utc(newest)}`))),
      h('ol', { class: 'timeline' }, list.map((b, i) => observation(b, list[i + 1], i === 0))));
  });
}

function observation(b, older, open) {
  const when = parseTime(b.timestamp);
  const changes = older ? differences(older, b) : [];
  const badge = !older ? h('span', { class: 'badge' }, 'first seen')
    : changes.length ? h('span', { class: 'badge warn' }, 'changed') : h('span', { class: 'badge muted-badge' }, 'unchanged');
  return h('li', { class: 'observation' },
    h('details', { open },
      h('summary', null,
        when ? h('time', { datetime: when.toISOString() }, utc(when)) : 'unknown time',
        ' ', productLine(b) ? h('span', { class: 'product' }, visible(productLine(b))) : null,
        ' ', badge),
      changes.length ? h('ul', { class: 'changes' }, changes.map((c) => h('li', null, c))) : null,
      bannerData(b),
      sections(b, { open: false })));
}

function differences(before, after) {
  const out = [];
  for (const [field, label] of [['product', 'product'], ['version', 'version'], ['os', 'OS']]) {
    if ((before[field] || '') !== (after[field] || '')) {
      out.push(`${label}: ${visible(before[field] || '–')} → ${visible(after[field] || '–')}`);
    }
  }
  if (before.hash !== after.hash) out.push('banner data changed');
  const cb = before.ssl?.cert?.fingerprint?.sha256;
  const ca = after.ssl?.cert?.fingerprint?.sha256;
  if (cb !== ca) out.push('certificate changed');
  const kb = before.ssh?.fingerprint_sha256;
  const ka = after.ssh?.fingerprint_sha256;
  if (kb !== ka) out.push('SSH host key changed');
  return out;
}
