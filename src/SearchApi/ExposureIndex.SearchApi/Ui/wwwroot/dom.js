// DOM building for untrusted data. Everything shown here may come from a scanned host, so text only ever
// becomes Text nodes; there is deliberately no way to pass markup. The page's CSP enforces Trusted Types with
// no policy, so even an accidental innerHTML assignment throws instead of parsing.

const FORBIDDEN_ATTRIBUTES = new Set(['style', 'srcdoc', 'formaction', 'action']);

/**
 * Creates an element. props: class, text, dataset, on<event> (functions), aria-* and plain attributes.
 * Children: nodes, strings (as text), arrays, or null/false (skipped).
 */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  if (props) {
    for (const [key, value] of Object.entries(props)) {
      if (value === null || value === undefined || value === false) continue;
      if (key === 'class') el.className = Array.isArray(value) ? value.filter(Boolean).join(' ') : value;
      else if (key === 'text') el.textContent = String(value);
      else if (key === 'dataset') Object.assign(el.dataset, value);
      else if (key.startsWith('on')) {
        if (typeof value !== 'function') throw new TypeError(`${key} must be a function`);
        el.addEventListener(key.slice(2), value);
      } else {
        setSafeAttribute(el, key, value === true ? '' : String(value));
      }
    }
  }
  append(el, children);
  return el;
}

function setSafeAttribute(el, name, value) {
  if (FORBIDDEN_ATTRIBUTES.has(name)) throw new TypeError(`attribute ${name} is not allowed`);
  // Links stay inside the app (hash routes) or point at blobs we made; banners never become links.
  if (name === 'href' && !(value.startsWith('#') || value.startsWith('blob:'))) {
    throw new TypeError('only in-app links are allowed');
  }
  if (name === 'src' && !(value.startsWith('data:image/') || value.startsWith('/ui/'))) {
    throw new TypeError('only data images and UI assets may be sources');
  }
  el.setAttribute(name, value);
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

/** Replaces an element's children. */
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

export function $(selector) {
  return document.querySelector(selector);
}

/** A definition list from [term, value] rows; rows whose value is empty are left out. */
export function definitions(rows, className) {
  const dl = h('dl', { class: className || 'kv' });
  for (const [term, value] of rows) {
    if (isEmpty(value)) continue;
    dl.append(h('dt', null, term), h('dd', null, value));
  }
  return dl.childElementCount ? dl : null;
}

export function isEmpty(value) {
  return value === null || value === undefined || value === '' || (Array.isArray(value) && value.length === 0);
}

/** A list of small chips. */
export function chips(values, className) {
  if (!values || values.length === 0) return null;
  return h('ul', { class: ['chips', className] }, values.map((v) => h('li', null, v)));
}
