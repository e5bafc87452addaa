// The REST API client. The key lives in localStorage and travels in the X-Api-Key header (which the API
// accepts alongside Shodan's ?key=), so it never appears in a URL, the address bar, history or server logs.

const STORAGE_KEY = 'exposureindex.apiKey';

export class ApiError extends Error {
  constructor(status, message, position = null, length = null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.position = position;
    this.length = length;
  }

  get needsKey() {
    return this.status === 401;
  }
}

export const apiKey = {
  get() {
    try { return localStorage.getItem(STORAGE_KEY) || ''; } catch { return ''; }
  },
  set(value) {
    try { localStorage.setItem(STORAGE_KEY, value); } catch { /* storage disabled: key lasts for this page only */ }
    memoryKey = value;
  },
  clear() {
    try { localStorage.removeItem(STORAGE_KEY); } catch { /* nothing stored */ }
    memoryKey = '';
  },
};

let memoryKey = '';

function currentKey() {
  return apiKey.get() || memoryKey;
}

function url(path, params) {
  const u = new URL(path, location.origin);
  for (const [k, v] of Object.entries(params || {})) {
    if (v !== undefined && v !== null && v !== '') u.searchParams.set(k, String(v));
  }
  return u;
}

async function request(path, params, signal, accept) {
  const key = currentKey();
  if (!key) throw new ApiError(401, 'Enter an API key to search.');
  let response;
  try {
    response = await fetch(url(path, params), {
      headers: { 'X-Api-Key': key, Accept: accept },
      signal,
      cache: 'no-store',
      credentials: 'omit',
      referrerPolicy: 'no-referrer',
    });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, 'The server did not answer; is it still running?');
  }
  if (!response.ok) throw await errorOf(response);
  return response;
}

async function errorOf(response) {
  let message = `The server answered ${response.status} ${response.statusText}.`;
  let position = null;
  let length = null;
  try {
    const body = await response.json();
    if (body && typeof body.error === 'string') {
      message = body.error;
      if (Number.isInteger(body.position)) position = body.position;
      if (Number.isInteger(body.length)) length = body.length;
    }
  } catch { /* not JSON: keep the status line */ }
  return new ApiError(response.status, message, position, length);
}

/** GET a JSON resource; throws ApiError (status, message, position) on failure. */
export async function getJson(path, params, signal) {
  const response = await request(path, params, signal, 'application/json');
  return response.json();
}

/**
 * GET a stream into a Blob, reporting progress (bytes so far) as it arrives; the caller aborts with signal.
 */
export async function getBlob(path, params, signal, onProgress) {
  const response = await request(path, params, signal, 'application/x-ndjson');
  const type = response.headers.get('content-type') || 'application/octet-stream';
  if (!response.body) return response.blob();
  const reader = response.body.getReader();
  const parts = [];
  let received = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
    received += value.length;
    onProgress?.(received);
  }
  return new Blob(parts, { type });
}
