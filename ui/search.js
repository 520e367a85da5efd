// Finding a person's records (APPI disclosure and erasure requests): by
// name, kana, phone, e-mail or address. Admins can erase a record, behind
// a confirmation that names it, asks for the reason and starts on Cancel.
// The count says what the table shows: it follows erasures, and a search
// that reached its limit says there may be more.

import { api, query, can } from './api.js';
import { h, replace, field, confirmDialog } from './dom.js';
import { t, pageTitle, errorMessage } from './i18n.js';
import { summary } from './entity.js';

/** The most results one search shows (the API allows more; a steward
 * narrows the search rather than pages through a crowd). */
export const SEARCH_LIMIT = 100;

export async function render(main, route, ctx) {
  const q = route.params.get('q') || '';
  const input = h('input', { id: 'search-q', name: 'q', type: 'search', value: q, autocomplete: 'off', required: true });
  const form = h('form', { class: 'card filters', role: 'search', onsubmit: (ev) => {
    ev.preventDefault();
    const v = input.value.trim();
    if (v) ctx.go('#/search' + query({ q: v }));
  } },
  field(t('search.q'), input),
  h('div', { class: 'field buttons' }, h('button', { type: 'submit', class: 'primary' }, t('search.submit'))));
  // The query stays out of the title: titles go to the browser's
  // history, and a query is often a person's name.
  document.title = pageTitle(t('search.title'));
  let results = null;
  if (q.trim()) {
    const r = await api('GET', '/v1/records' + query({ q, limit: SEARCH_LIMIT }));
    if (!ctx.isCurrent()) return;
    // The API gives no total and no cursor for a search: a full page may
    // have more behind it.
    results = resultsTable(r.items, r.items.length >= SEARCH_LIMIT || Boolean(r.next_cursor), ctx);
  }
  replace(main, h('h1', {}, t('search.title')), h('p', { class: 'lead' }, t('search.lead')), form, results);
  if (!q) input.focus();
}

function resultsTable(items, capped, ctx) {
  const empty = () => h('p', { class: 'empty', 'data-testid': 'search-empty' }, t('search.empty'));
  if (!items.length) return empty();
  const admin = can('admin');
  const count = h('p', { class: 'result-count', 'data-testid': 'search-count' });
  let shown = items.length;
  const setCount = () => {
    count.dataset.count = String(shown);
    count.textContent = capped ? t('search.results.capped', { n: shown }) : t('search.results', { n: shown });
  };
  setCount();
  const rows = items.map((r) => {
    const tr = h('tr', { 'data-id': r.id },
      h('th', { scope: 'row' }, r.id),
      h('td', {}, r.source),
      h('td', {}, summary(r)),
      h('td', {}, h('a', { href: `#/entity/${encodeURIComponent(r.entity_id)}` }, r.entity_id)),
      admin ? h('td', {}, h('button', { type: 'button', class: 'danger small', 'data-action': 'erase',
        'aria-label': t('search.erase.label', { id: r.id }), onclick: () => erase(r, tr) }, t('search.erase'))) : null);
    return tr;
  });
  async function erase(r, tr) {
    // Required, and not blank: an erasure answers a request, and the audit
    // log keeps why. (`pattern` is matched against the whole value.)
    const reason = h('input', { id: 'erase-reason', name: 'reason', type: 'text', autocomplete: 'off',
      required: true, pattern: '.*\\S.*' });
    const ok = await confirmDialog({
      title: t('search.erase.title'),
      message: t('search.erase.confirm', { id: r.id }),
      confirmLabel: t('search.erase.ok'),
      cancelLabel: t('cancel'),
      danger: true,
      extra: field(t('reason.required'), reason),
    });
    if (!ok || !ok.reason || !ok.reason.trim()) return;
    try {
      await api('POST', `/v1/records/${encodeURIComponent(r.id)}/erase`, { reason: ok.reason.trim() });
      tr.remove();
      shown -= 1;
      if (shown === 0) section.replaceWith(empty());
      else setCount();
      ctx.announce(t('search.erase.done', { id: r.id }));
    } catch (e) {
      ctx.announce(t('error', { message: errorMessage(e) }), 'error');
    }
  }
  const section = h('section', { class: 'card', 'aria-label': t('search.title') }, count,
    h('div', { class: 'table-wrap' }, h('table', { class: 'list results', 'data-testid': 'results' },
      h('thead', {}, h('tr', {},
        h('th', { scope: 'col' }, t('entity.member.id')),
        h('th', { scope: 'col' }, t('entity.member.source')),
        h('th', { scope: 'col' }, t('entity.member.summary')),
        h('th', { scope: 'col' }, t('search.entity')),
        admin ? h('th', { scope: 'col' }, t('queue.col.actions')) : null)),
      h('tbody', {}, rows))));
  return section;
}
