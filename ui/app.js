// The page's shell: sign-in, the header, routing by the URL's hash
// (#/queue, #/proposal/12, #/group/12, #/entity/E0000003, #/search?q=…,
// #/merges, #/audit), the
// status line that screen readers announce. Each view is a module with
// `render(main, params, ctx)`.

import { api, session, can, setOnUnauthorized, ApiError } from './api.js';
import { h, replace, field } from './dom.js';
import { t, lang, setLang, pageTitle, errorMessage } from './i18n.js';
import * as queue from './queue.js';
import * as proposal from './proposal.js';
import * as entity from './entity.js';
import * as search from './search.js';
import * as audit from './audit.js';
import * as group from './group.js';
import * as merges from './merges.js';

const main = document.getElementById('main');
const statusLine = document.getElementById('status');

/**
 * Say something to the steward and to screen readers (aria-live). With
 * `{ quiet: true }` the line is for screen readers only: the page already
 * shows the same message where it happened (a decision's outcome), and
 * one message is not shown twice.
 */
export function announce(message, kind = 'ok', { quiet = false } = {}) {
  statusLine.className = `status ${kind}${quiet ? ' sr-only' : ''}`;
  // Cleared first so the same message twice is announced twice.
  statusLine.textContent = '';
  requestAnimationFrame(() => {
    statusLine.textContent = message;
  });
}

function clearStatus() {
  statusLine.className = 'status';
  statusLine.textContent = '';
}

const routes = {
  queue: { view: queue, nav: 'queue' },
  proposal: { view: proposal, nav: 'queue' },
  group: { view: group, nav: 'queue' },
  entity: { view: entity, nav: 'queue' },
  record: { view: entity, nav: 'search' },
  search: { view: search, nav: 'search' },
  audit: { view: audit, nav: 'audit' },
  merges: { view: merges, nav: 'merges' },
};

/** '#/proposal/12?x=1' → {name: 'proposal', id: '12', params: URLSearchParams} */
function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, q] = raw.split('?');
  const [name, ...rest] = path.split('/');
  return { name: name || 'queue', id: rest.length ? decodeURIComponent(rest.join('/')) : null, params: new URLSearchParams(q || '') };
}

export function go(hash) {
  if (location.hash === hash) render();
  else location.hash = hash;
}

let cleanup = null;
let renderSeq = 0;

async function render() {
  const seq = ++renderSeq;
  if (cleanup) {
    cleanup();
    cleanup = null;
  }
  document.documentElement.lang = lang();
  // Each view sets its own title once it knows what it shows.
  document.title = t('app.title');
  renderHeader();
  if (!session.token()) {
    renderSignIn();
    return;
  }
  const route = parseHash();
  const r = routes[route.name] || routes.queue;
  renderNav(r.nav);
  replace(main, h('p', { class: 'loading' }, t('loading')));
  try {
    const ctx = {
      announce,
      go,
      isCurrent: () => seq === renderSeq,
      onLeave: (f) => { cleanup = f; },
      rerender: render,
    };
    await r.view.render(main, route, ctx);
    if (seq !== renderSeq) return;
    const heading = main.querySelector('h1');
    if (heading && document.activeElement === document.body) {
      heading.tabIndex = -1;
      heading.focus({ preventScroll: true });
    }
  } catch (e) {
    if (seq !== renderSeq) return;
    document.title = pageTitle(t('title.error'));
    replace(main, h('h1', {}, t('title.error')), errorText(e),
      h('p', { class: 'crumbs' }, h('a', { href: '#/queue', 'data-testid': 'error-back' }, '← ' + t('error.back'))));
  }
}

/** A failed request as a paragraph in the page's language. */
export function errorText(e) {
  if (e instanceof ApiError) {
    if (e.status === 403) return h('p', { class: 'error', 'data-testid': 'error' }, t('forbidden'));
    if (e.status === 404) return h('p', { class: 'error', 'data-testid': 'error' }, t('notfound'));
  }
  return h('p', { class: 'error', 'data-testid': 'error' }, errorMessage(e));
}

function renderHeader() {
  const me = session.me();
  const who = document.getElementById('who');
  const signout = document.getElementById('signout');
  const langButton = document.getElementById('lang');
  document.getElementById('skip-link').textContent = t('app.skip');
  langButton.textContent = t('lang.switch');
  langButton.setAttribute('lang', lang() === 'ja' ? 'en' : 'ja');
  langButton.setAttribute('aria-label', t('lang.switch.label'));
  signout.textContent = t('signout');
  signout.hidden = !me;
  if (me) {
    replace(who, h('span', { class: 'who-name', 'data-testid': 'who' }, me.name), ' ', h('span', { class: `role role-${me.role}` }, t(`role.${me.role}`)));
  } else {
    replace(who);
  }
}

function renderNav(current) {
  const nav = document.getElementById('nav');
  nav.setAttribute('aria-label', t('nav.label'));
  nav.hidden = false;
  const items = [['queue', '#/queue'], ['search', '#/search'], ['merges', '#/merges']];
  if (can('steward')) items.push(['audit', '#/audit']);
  replace(nav, h('ul', {}, items.map(([k, href]) =>
    h('li', {}, h('a', { href, 'aria-current': k === current ? 'page' : null }, t(`nav.${k}`))))));
}

function renderSignIn(message) {
  document.title = pageTitle(t('signin.title'));
  document.getElementById('nav').hidden = true;
  const input = h('input', { id: 'token', name: 'token', type: 'password', autocomplete: 'off', required: true, spellcheck: 'false' });
  const error = h('p', { class: 'error', id: 'signin-error', role: 'alert' }, message || '');
  const form = h('form', { class: 'card signin', onsubmit: async (ev) => {
    ev.preventDefault();
    const token = input.value.trim();
    if (!token) return;
    try {
      const me = await api('GET', '/v1/me', undefined, token);
      session.set(token, me);
      clearStatus();
      if (!location.hash || location.hash === '#/signin') location.hash = '#/queue';
      else render();
    } catch (e) {
      error.textContent = t('signin.failed', { message: errorMessage(e) });
      input.focus();
    }
  } },
  h('h1', {}, t('signin.title')),
  h('p', {}, t('signin.lead')),
  field(t('signin.token'), input),
  error,
  h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('signin.submit'))));
  replace(main, form);
  input.focus();
}

document.getElementById('lang').addEventListener('click', () => {
  setLang(lang() === 'ja' ? 'en' : 'ja');
  render();
});
document.getElementById('signout').addEventListener('click', () => {
  session.clear();
  clearStatus();
  location.hash = '#/signin';
  render();
});
setOnUnauthorized(() => {
  session.clear();
  renderHeader();
  renderSignIn(t('signin.expired'));
});
window.addEventListener('hashchange', () => {
  clearStatus();
  render();
});
render();
