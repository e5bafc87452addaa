// Formatting of API values for display. Pure functions, no DOM.

const numberFormat = new Intl.NumberFormat();
const relativeFormat = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

export function num(n) {
  return typeof n === 'number' ? numberFormat.format(n) : String(n ?? '');
}

/**
 * Makes hostile banner text safe to *read*: C0 controls (except tab and newline) become Unicode control
 * pictures (U+2400 block), and bidirectional overrides / zero-width characters become visible <U+XXXX>
 * markers, so a banner cannot reorder or hide what is displayed ("Trojan Source", CVE-2021-42574).
 * CR LF and lone CR become newlines.
 */
export function visible(text) {
  if (!text) return '';
  return String(text)
    .replace(/\r\n?/g, '\n')
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, (c) => (c === '\u007f' ? '\u2421' : String.fromCharCode(0x2400 + c.charCodeAt(0))))
    .replace(/[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g, (c) => `<U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}>`);
}

/** The first lines of a banner, for result lists. */
export function firstLines(text, lines = 6, chars = 480) {
  const shown = visible(text);
  let cut = shown.split('\n').slice(0, lines).join('\n');
  let more = cut.length < shown.trimEnd().length;
  if (cut.length > chars) {
    cut = cut.slice(0, chars);
    more = true;
  }
  return more ? cut.trimEnd() + '\n…' : cut.trimEnd();
}

/** The API's timestamps are UTC without a zone ("2026-04-01T10:00:00.000000"). */
export function parseTime(text) {
  if (!text) return null;
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(\.\d{1,3})?\d*(Z|[+-]\d{2}:?\d{2})?$/.exec(text);
  if (!m) return null;
  const d = new Date(`${m[1]}T${m[2]}${m[3] || ''}${m[4] || 'Z'}`);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** "2026-04-01 10:00 UTC": analysts compare times across sources, so UTC always. */
export function utc(date) {
  if (!date) return '';
  return date.toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
}

export function ago(date, now = new Date()) {
  if (!date) return '';
  const seconds = (date.getTime() - now.getTime()) / 1000;
  const steps = [[60, 'second'], [3600, 'minute'], [86400, 'hour'], [86400 * 30, 'day'], [86400 * 365, 'month'], [Infinity, 'year']];
  const sizes = { second: 1, minute: 60, hour: 3600, day: 86400, month: 86400 * 30, year: 86400 * 365 };
  for (const [limit, unit] of steps) {
    if (Math.abs(seconds) < limit) return relativeFormat.format(Math.round(seconds / sizes[unit]), unit);
  }
  return '';
}

/** An X.509 time as the API gives it ("20260401100000Z") to a Date. */
export function parseAsn1Time(text) {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text || '');
  return m ? new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6])) : null;
}

/** "Austin, TX, United States" from a banner's location or a host object's top level. */
export function place(loc) {
  if (!loc) return '';
  const country = loc.country_name || loc.country_code;
  return [loc.city, loc.region_code, country].filter(Boolean).join(', ');
}

export function productLine(banner) {
  return [banner.product, banner.version].filter(Boolean).join(' ');
}

export function serviceKey(banner) {
  return `${banner.port}/${banner.transport || 'tcp'}`;
}

/** ip:port with brackets for IPv6 (RFC 3986 §3.2.2). */
export function endpoint(banner) {
  const ip = banner.ip_str || '';
  return ip.includes(':') ? `[${ip}]:${banner.port}` : `${ip}:${banner.port}`;
}

export function bytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
