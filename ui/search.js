// Finding a person's records (APPI disclosure and erasure requests): by
// name, kana, phone, e-mail or address. Admins can erase a record, behind
// a confirmation that names it.

import { api, query, can } from './api.js';
import { h, replace, field, confirmDialog } from './dom.js';
import { t } from './i18n.js';
import { summary } from './entity.js';

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
  let results = null;
  if (q.trim()) {
    const r = await api('GET', '/v1/records' + query({ q, limit: 100 }));
    if (!ctx.isCurrent()) return;
    results = resultsTable(r.items, ctx);
  }
  replace(main, h('h1', {}, t('search.title')), h('p', { class: 'lead' }, t('search.lead')), form, results);
  if (!q) input.focus();
}

function resultsTable(items, ctx) {
  if (!items.length) return h('p', { class: 'empty', 'data-testid': 'search-empty' }, t('search.empty'));
  const admin = can('admin');
  const count = h('p', { class: 'result-count', 'data-testid': 'search-count' }, t('search.results', { n: items.length }));
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
    const reason = h('input', { id: 'erase-reason', name: 'reason', type: 'text', autocomplete: 'off' });
    const ok = await confirmDialog({
      title: t('search.erase.title'),
      message: t('search.erase.confirm', { id: r.id }),
      confirmLabel: t('search.erase.ok'),
      cancelLabel: t('cancel'),
      danger: true,
      extra: field(t('reason'), reason),
    });
    if (!ok) return;
    try {
      const body = {};
      if (ok.reason && ok.reason.trim()) body.reason = ok.reason.trim();
      await api('POST', `/v1/records/${encodeURIComponent(r.id)}/erase`, body);
      tr.remove();
      ctx.announce(t('search.erase.done', { id: r.id }));
    } catch (e) {
      ctx.announce(t('error', { message: e.message }), 'error');
    }
  }
  return h('section', { class: 'card', 'aria-label': t('search.title') }, count,
    h('div', { class: 'table-wrap' }, h('table', { class: 'list results', 'data-testid': 'results' },
      h('thead', {}, h('tr', {},
        h('th', { scope: 'col' }, t('entity.member.id')),
        h('th', { scope: 'col' }, t('entity.member.source')),
        h('th', { scope: 'col' }, t('entity.member.summary')),
        h('th', { scope: 'col' }, t('search.entity')),
        admin ? h('th', { scope: 'col' }, t('queue.col.actions')) : null)),
      h('tbody', {}, rows))));
}
