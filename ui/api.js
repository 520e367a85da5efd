// The /v1 API with the signed-in token. The token lives in this tab's
// sessionStorage only: closing the tab signs out, and without cookies a
// foreign page cannot make the browser send it (no CSRF surface).

const TOKEN = 'nayose.token';
const ME = 'nayose.me';

export class ApiError extends Error {
  constructor(status, code, message, current) {
    super(message);
    this.status = status;
    this.code = code;
    this.current = current;
  }
}

export const session = {
  token: () => sessionStorage.getItem(TOKEN),
  me: () => JSON.parse(sessionStorage.getItem(ME) || 'null'),
  set(token, me) {
    sessionStorage.setItem(TOKEN, token);
    sessionStorage.setItem(ME, JSON.stringify(me));
  },
  clear() {
    sessionStorage.removeItem(TOKEN);
    sessionStorage.removeItem(ME);
  },
};

const RANK = { viewer: 0, ingest: 1, steward: 2, admin: 3 };

/** Does the signed-in role include `role`'s rights? (ingest cannot decide.) */
export function can(role) {
  const me = session.me();
  if (!me) return false;
  if (role === 'steward') return me.role === 'steward' || me.role === 'admin';
  return RANK[me.role] >= RANK[role];
}

/** Called when the server says the token is no good (set by the app). */
export let onUnauthorized = () => {};
export function setOnUnauthorized(f) { onUnauthorized = f; }

/** One request with the token; an answer that is not 2xx is thrown as an
 * `ApiError` with the server's code. */
async function send(method, path, body, token, accept) {
  const headers = { Accept: accept };
  if (token) headers.Authorization = `Bearer ${token}`;
  const init = { method, headers, cache: 'no-store', credentials: 'omit' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let resp;
  try {
    resp = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, 'network', String(e.message || e));
  }
  if (!resp.ok) {
    let err = {};
    try {
      err = (await resp.json()).error || {};
    } catch {
      err = {};
    }
    if (resp.status === 401 && token === session.token()) onUnauthorized();
    throw new ApiError(resp.status, err.code || 'http_' + resp.status, err.message || resp.statusText, err.current);
  }
  return resp;
}

export async function api(method, path, body, token = session.token()) {
  const resp = await send(method, path, body, token, 'application/json');
  if (resp.status === 204) return null;
  try {
    return await resp.json();
  } catch {
    return null;
  }
}

/** The answer as a blob (a JSON or CSV export to save). */
export async function download(path, body, method = 'POST') {
  const resp = await send(method, path, body, session.token(), 'application/json, text/csv');
  return resp.blob();
}

/** `?a=1&b=2` from an object, leaving out empty values. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, v);
  }
  const s = q.toString();
  return s ? '?' + s : '';
}
