// Rendering of one banner (a service observation) in full: the raw data and its structured sections.
// Every value is hostile input from a scanned host and becomes text via dom.js.

import { h, definitions, chips } from './dom.js';
import { visible, utc, parseTime, parseAsn1Time, productLine, num } from './format.js';

// Top-level banner fields that are not protocol sections (Shodan's banner specification plus ours).
const FIELDS = new Set(['ip', 'ip_str', 'ipv6', 'port', 'transport', 'timestamp', 'hash', 'data', 'product', 'version',
  'info', 'os', 'devicetype', 'cpe', 'cpe23', 'tags', 'hostnames', 'domains', 'location', 'asn', 'org', 'isp',
  'http', 'ssl', 'ssh', 'opts', '_shodan', '_exposure']);

const SECTION_TITLES = { ftp: 'FTP', smtp: 'SMTP', pop3: 'POP3', imap: 'IMAP', redis: 'Redis', memcached: 'Memcached',
  mysql: 'MySQL', postgresql: 'PostgreSQL', mqtt: 'MQTT', dns: 'DNS', snmp: 'SNMP', ntp: 'NTP', ldap: 'LDAP', smb: 'SMB',
  rdp: 'RDP', vnc: 'VNC' };

export function bannerData(banner, className = 'banner') {
  const text = visible(banner.data || '');
  return h('pre', { class: className, tabindex: '0', 'aria-label': 'Banner data' }, text || '(no data)');
}

/** Product, version, CPE, tags and provenance of one observation. */
export function identification(banner) {
  const ex = banner._exposure || {};
  return definitions([
    ['Product', productLine(banner)],
    ['Info', banner.info],
    ['OS', banner.os],
    ['Device type', banner.devicetype],
    ['CPE', chips(banner.cpe23, 'mono')],
    ['Tags', chips(banner.tags, 'tags')],
    ['Module', banner._shodan?.module],
    ['Source', [ex.source, banner._shodan?.crawler].filter(Boolean).join(' · ')],
    ['Outcome', ex.outcome && ex.outcome !== 'success' ? ex.outcome : ''],
    ['Error', ex.error],
    ['Banner hash', banner.hash !== undefined ? String(banner.hash) : ''],
    ['Options', banner.opts ? tree(banner.opts) : null],
  ]);
}

/** The structured sections present in a banner, each a <details> (open unless collapsed). */
export function sections(banner, { open = true } = {}) {
  const out = [];
  if (banner.http) out.push(section('HTTP', http(banner.http), open));
  if (banner.ssl) out.push(section(banner.ssl.starttls ? 'TLS (STARTTLS)' : 'TLS', tls(banner.ssl), open));
  if (banner.ssh) out.push(section('SSH', ssh(banner.ssh), open));
  for (const [key, value] of Object.entries(banner)) {
    if (FIELDS.has(key) || value === null || typeof value !== 'object') continue;
    out.push(section(SECTION_TITLES[key] || key, tree(value), open));
  }
  return out;
}

function section(title, body, open) {
  const parts = [body].flat().filter((p) => p !== null && p !== undefined && p !== '');
  return h('details', { class: 'section', open }, h('summary', null, title), parts.length ? parts : h('p', { class: 'muted' }, 'No details.'));
}

function http(x) {
  const rows = [
    ['Status', x.status ? String(x.status) : ''],
    ['Title', x.title ? visible(x.title) : ''],
    ['Server', x.server ? visible(x.server) : ''],
    ['Host', x.host ? visible(x.host) : ''],
    ['Path', x.location ? visible(x.location) : ''],
    ['Redirects', (x.redirects || []).length ? h('ol', { class: 'plain' }, x.redirects.map((r) =>
      h('li', null, `${r.status} ${visible(r.host || '')}${visible(r.location || '')}`))) : null],
    ['Components', chips(Object.keys(x.components || {}))],
    ['WAF', x.waf],
    ['Favicon', x.favicon ? favicon(x.favicon) : null],
    ['robots.txt', x.robots ? `present (hash ${x.robots_hash})` : ''],
    ['HTML hash', x.html_hash !== undefined && x.html_hash !== 0 ? String(x.html_hash) : ''],
  ];
  const headers = Object.entries(x.headers || {});
  return [
    definitions(rows),
    headers.length ? h('details', { class: 'nested' }, h('summary', null, `Headers (${headers.length})`),
      h('table', { class: 'headers' }, h('tbody', null, headers.map(([k, v]) => h('tr', null, h('th', { scope: 'row' }, visible(k)), h('td', null, visible(v))))))) : null,
    x.html ? h('details', { class: 'nested' }, h('summary', null, `HTML body (${num(x.html.length)} characters)`), h('pre', { class: 'banner', tabindex: '0' }, visible(x.html))) : null,
  ];
}

function favicon(f) {
  const parts = [`hash ${f.hash}`];
  if (f.location) parts.push(` · ${visible(f.location)}`);
  // The image is decoded by the browser's image decoder only (an <img> never runs script).
  const img = f.data && /^[A-Za-z0-9+/=]+$/.test(f.data)
    ? h('img', { class: 'favicon', src: `data:image/x-icon;base64,${f.data}`, alt: 'favicon', width: '16', height: '16' })
    : null;
  return h('span', null, img, parts.join(''));
}

function name(n) {
  if (!n) return '';
  return ['CN', 'O', 'OU', 'L', 'ST', 'C', 'emailAddress'].filter((k) => n[k]).map((k) => `${k}=${visible(n[k])}`).join(', ');
}

function tls(x) {
  const cert = x.cert;
  const rows = [
    ['Versions', chips(x.versions)],
    ['Cipher', x.cipher ? [x.cipher.name, x.cipher.bits ? `${x.cipher.bits} bits` : '', x.cipher.version].filter(Boolean).join(' · ') : ''],
    ['ALPN', chips(x.alpn)],
    ['JA3S', x.ja3s],
    ['JARM', x.jarm],
  ];
  const out = [definitions(rows)];
  if (cert) {
    const issued = parseAsn1Time(cert.issued);
    const expires = parseAsn1Time(cert.expires);
    const flags = [cert.expired ? h('span', { class: 'badge bad' }, 'expired') : null, cert.self_signed ? h('span', { class: 'badge warn' }, 'self-signed') : null];
    out.push(h('h4', null, 'Certificate ', flags));
    out.push(definitions([
      ['Subject', name(cert.subject)],
      ['Issuer', name(cert.issuer)],
      ['Subject alt names', chips((cert.subject_alt_names || []).map(visible), 'mono')],
      ['Valid', issued || expires ? `${utc(issued)} → ${utc(expires)}` : ''],
      ['Serial', cert.serial !== undefined ? String(cert.serial) : ''],
      ['Signature', cert.sig_alg],
      ['Public key', cert.pubkey ? [cert.pubkey.type, cert.pubkey.bits ? `${cert.pubkey.bits} bits` : ''].filter(Boolean).join(' · ') : ''],
      ['SHA-256', cert.fingerprint?.sha256 ? h('code', { class: 'wrap' }, cert.fingerprint.sha256) : null],
      ['SHA-1', cert.fingerprint?.sha1 ? h('code', { class: 'wrap' }, cert.fingerprint.sha1) : null],
    ]));
  }
  if (x.chain && x.chain.length) {
    out.push(h('details', { class: 'nested' }, h('summary', null, `Chain (${x.chain.length} PEM)`), h('pre', { class: 'banner', tabindex: '0' }, x.chain.map(visible).join(''))));
  }
  return out;
}

function ssh(x) {
  const kex = x.kex || {};
  return [
    definitions([
      ['Identification', x.banner ? visible(x.banner) : ''],
      ['Host key type', x.type],
      ['Fingerprint (MD5)', x.fingerprint ? h('code', { class: 'wrap' }, x.fingerprint) : null],
      ['Fingerprint (SHA-256)', x.fingerprint_sha256 ? h('code', { class: 'wrap' }, x.fingerprint_sha256) : null],
      ['HASSH', x.hassh],
      ['Key exchange', chips(kex.kex_algorithms, 'mono')],
      ['Host key algorithms', chips(kex.server_host_key_algorithms, 'mono')],
      ['Ciphers', chips(kex.encryption_algorithms, 'mono')],
      ['MACs', chips(kex.mac_algorithms, 'mono')],
      ['Compression', chips(kex.compression_algorithms, 'mono')],
    ]),
    x.key ? h('details', { class: 'nested' }, h('summary', null, 'Host key (base64)'), h('pre', { class: 'banner wrap', tabindex: '0' }, x.key)) : null,
  ];
}

/** Any JSON value as nested definition lists (for protocol sections without a dedicated view). */
export function tree(value, depth = 0) {
  if (value === null || value === undefined) return '';
  if (typeof value !== 'object') return visible(String(value));
  if (depth > 6) return '…';
  if (Array.isArray(value)) {
    if (value.length === 0) return '';
    if (value.every((v) => v === null || typeof v !== 'object')) return chips(value.map((v) => visible(String(v))));
    return h('ol', { class: 'plain' }, value.map((v) => h('li', null, tree(v, depth + 1))));
  }
  const entries = Object.entries(value).filter(([, v]) => v !== null && v !== '' && !(Array.isArray(v) && v.length === 0));
  if (entries.length === 0) return '';
  const dl = h('dl', { class: 'kv' });
  for (const [k, v] of entries) dl.append(h('dt', null, visible(k)), h('dd', null, tree(v, depth + 1)));
  return dl;
}

/** Raw JSON of a banner, for analysts who want every field. */
export function rawJson(banner) {
  return h('details', { class: 'section raw' }, h('summary', null, 'Raw JSON'), h('pre', { class: 'banner', tabindex: '0' }, visible(JSON.stringify(banner, null, 2))));
}

/** When a banner was seen: timestamp, or first/last seen with the number of observations. */
export function seen(banner) {
  const ex = banner._exposure || {};
  const first = parseTime(ex.first_seen);
  const last = parseTime(ex.last_seen) || parseTime(banner.timestamp);
  const parts = [];
  if (first && last && first.getTime() !== last.getTime()) parts.push(`first seen ${utc(first)}`);
  parts.push(`${first && last && first.getTime() !== last.getTime() ? 'last seen' : 'seen'} ${utc(last)}`);
  if (ex.observations > 1) parts.push(`${num(ex.observations)} observations`);
  return parts.join(' · ');
}
