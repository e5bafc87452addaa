// Shodan query text helpers, mirroring ExposureIndex.Query's lexer closely enough to edit queries safely:
// terms are separated by whitespace outside quotes; "-" at the start negates; a filter is the text before the
// first ':' of a bare token; inside quotes a backslash makes the next character literal; a comma splits an
// OR-list (inside quotes too) unless escaped. The server remains the judge of validity. Pure functions, no DOM.

const SPACE = /\s/;

/** Splits a query into terms: { start, end, text, negated, name (lower case) | null, values: [unescaped] }. */
export function terms(query) {
  const out = [];
  let i = 0;
  const n = query.length;
  while (i < n) {
    while (i < n && SPACE.test(query[i])) i++;
    if (i >= n) break;
    const start = i;
    let quoted = false;
    while (i < n) {
      const c = query[i];
      if (quoted && c === '\\') { i += 2; continue; }
      if (c === '"') quoted = !quoted;
      else if (!quoted && SPACE.test(c)) break;
      i++;
    }
    const end = Math.min(i, n);
    out.push(describe(query.slice(start, end), start, end));
  }
  return out;
}

function describe(text, start, end) {
  const negated = text.length > 1 && text[0] === '-';
  const body = negated ? text.slice(1) : text;
  const colon = body.indexOf(':');
  const quote = body.indexOf('"');
  if (colon > 0 && (quote < 0 || quote > colon)) {
    return { start, end, text, negated, name: body.slice(0, colon).toLowerCase(), values: values(body.slice(colon + 1)) };
  }
  return { start, end, text, negated, name: null, values: [] };
}

/** Unescapes a filter value and splits its OR-list (commas, unless escaped inside quotes). */
export function values(raw) {
  const items = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (quoted && c === '\\' && i + 1 < raw.length) { current += raw[++i]; continue; }
    if (c === '"') { quoted = !quoted; continue; }
    if (c === ',') { items.push(current.trim()); current = ''; continue; }
    current += c;
  }
  items.push(current.trim());
  return items;
}

/**
 * Writes a value so the parser reads it back unchanged: bare when it is plain, otherwise quoted with '\'
 * before '\', '"', ',' (a list separator) and '*' '?' (wildcards), so a facet value is matched literally.
 */
export function quote(value) {
  const text = String(value);
  if (text !== '' && /^[\p{L}\p{N}._\-/+@:]+$/u.test(text) && !text.startsWith('-')) return text;
  return '"' + text.replace(/[\\",*?]/g, (c) => '\\' + c) + '"';
}

export function term(name, value, negated = false) {
  return `${negated ? '-' : ''}${name}:${quote(value)}`;
}

function sameValue(t, name, value) {
  return t.name === name.toLowerCase() && t.values.length === 1 && t.values[0].toLowerCase() === String(value).toLowerCase();
}

/** 'include' when the query has name:value, 'exclude' when it has -name:value, otherwise null. */
export function termState(query, name, value) {
  for (const t of terms(query)) {
    if (sameValue(t, name, value)) return t.negated ? 'exclude' : 'include';
  }
  return null;
}

/**
 * Refines a query with name:value (or -name:value): adds the term; if the same term is already there it is
 * removed (a toggle); if its opposite is there it is replaced.
 */
export function toggle(query, name, value, negated = false) {
  const all = terms(query);
  const existing = all.find((t) => sameValue(t, name, value));
  if (!existing) return (query.trim() + ' ' + term(name, value, negated)).trim();
  const kept = all.filter((t) => t !== existing).map((t) => t.text);
  if (existing.negated !== negated) kept.push(term(name, value, negated));
  return kept.join(' ');
}

/**
 * The filter name being typed at the caret, for completion: { start, end, prefix } where start..end is the
 * name (after any '-'), or null when the caret is in a value, a phrase, or between terms.
 */
export function nameAt(query, caret) {
  for (const t of terms(query)) {
    if (caret < t.start || caret > t.end) continue;
    const nameStart = t.start + (t.text[0] === '-' ? 1 : 0);
    const typed = query.slice(nameStart, caret);
    if (typed.includes(':') || typed.includes('"') || caret < nameStart) return null;
    let end = caret;
    while (end < t.end && query[end] !== ':' && query[end] !== '"') end++;
    return { start: nameStart, end, prefix: typed.toLowerCase() };
  }
  return null;
}

/** Filter names for a prefix: those starting with it, then those containing it, alphabetical within each. */
export function suggest(names, prefix, limit = 8) {
  if (!prefix) return [];
  const p = prefix.toLowerCase();
  const starts = names.filter((n) => n.startsWith(p) && n !== p);
  const contains = names.filter((n) => !n.startsWith(p) && n.includes(p));
  return [...starts.sort(), ...contains.sort()].slice(0, limit);
}

/** Replaces a name being typed with the chosen filter and a colon; returns { query, caret }. */
export function complete(query, at, name) {
  const after = query.slice(at.end);
  const rest = after.startsWith(':') ? after.slice(1) : after;
  const text = query.slice(0, at.start) + name + ':' + rest;
  return { query: text, caret: at.start + name.length + 1 };
}
