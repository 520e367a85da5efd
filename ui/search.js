// Finding a customer and answering their request (個人情報保護法: 開示・消去).
// `GET /v1/search` finds a customer in any notation (spaces, width,
// hiragana/katakana, variant kanji, phone formats) and lists every record
// of each customer found, the matching ones marked. A request is answered
// for a whole customer: a request id and a required reason, then a
// disclosure (JSON or CSV, downloaded) or, for admins, the erasure of
// every record, behind a confirmation that starts on Cancel.

import { api, query, can, download } from './api.js';
import { h, replace, field, confirmDialog } from './dom.js';
import { t, pageTitle, errorMessage } from './i18n.js';
import { summary } from './entity.js';

/** The most customers one search shows (the API's limit). */
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
    const r = await api('GET', '/v1/search' + query({ q, limit: SEARCH_LIMIT }));
    if (!ctx.isCurrent()) return;
    results = customers(r, ctx);
  }
  replace(main, h('h1', {}, t('search.title')), h('p', { class: 'lead' }, t('search.lead')), form, results);
  if (!q) input.focus();
}

function customers(r, ctx) {
  const empty = () => h('p', { class: 'empty', 'data-testid': 'search-empty' }, t('search.empty'));
  if (!r.entities.length) return empty();
  const count = h('p', { class: 'result-count', 'data-testid': 'search-count' });
  let shown = r.entities.length;
  const setCount = () => {
    count.dataset.count = String(shown);
    count.textContent = r.truncated ? t('search.customers.capped', { n: shown }) : t('search.customers', { n: shown });
  };
  setCount();
  const list = h('div', { class: 'customers' });
  const section = h('section', { 'aria-label': t('search.title') }, count, list);
  const gone = (card) => {
    card.remove();
    shown -= 1;
    if (shown === 0) section.replaceWith(empty());
    else setCount();
  };
  for (const hit of r.entities) list.appendChild(customer(hit, ctx, gone));
  return section;
}

/** One customer found: the golden name, every member (the ones that
 * matched marked), and the request buttons. */
function customer(hit, ctx, gone) {
  const matched = new Set(hit.matched);
  const name = ['company_name', 'person_name'].map((f) => hit.golden?.[f]?.value).filter(Boolean).join(' ') || hit.entity_id;
  const hid = `cust-${hit.entity_id}`;
  const result = h('div', { class: 'request-result', 'data-testid': 'request-result' });
  const card = h('section', { class: 'card customer', 'aria-labelledby': hid, 'data-entity': hit.entity_id },
    h('h2', { id: hid }, name, ' ', h('a', { class: 'rec-id inline', href: `#/entity/${encodeURIComponent(hit.entity_id)}` }, t('entity.title', { id: hit.entity_id }))),
    h('p', { class: 'hint' }, t('search.members', { n: hit.members.length, m: hit.matched.length })),
    h('div', { class: 'table-wrap' }, h('table', { class: 'list results', 'data-testid': 'results' },
      h('thead', {}, h('tr', {},
        h('th', { scope: 'col' }, t('entity.member.id')),
        h('th', { scope: 'col' }, t('entity.member.source')),
        h('th', { scope: 'col' }, t('entity.member.summary')),
        h('th', { scope: 'col' }, t('search.matched')))),
      h('tbody', {}, hit.members.map((m) => h('tr', { 'data-id': m.id, 'data-matched': matched.has(m.id) ? 'true' : 'false', class: matched.has(m.id) ? 'matched' : null },
        h('th', { scope: 'row' }, m.id),
        h('td', {}, m.source),
        h('td', {}, summary(m)),
        h('td', {}, matched.has(m.id) ? h('span', { class: 'badge matched' }, t('search.matched.yes')) : t('none'))))))),
    can('steward') ? h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'secondary', 'data-action': 'request', 'aria-label': t('request.open.label', { name }),
        onclick: () => request(hit, name, ctx, result, card, gone) }, t('request.open'))) : null,
    result);
  return card;
}

/** The request workflow for one customer: id and reason, then disclose
 * (JSON, CSV) or erase everything. */
async function request(hit, name, ctx, result, card, gone) {
  const admin = can('admin');
  const requestId = h('input', { id: 'request-id', name: 'request_id', type: 'text', autocomplete: 'off', required: true,
    maxlength: 128, pattern: '[^\\/]+' });
  const reason = h('input', { id: 'request-reason', name: 'reason', type: 'text', autocomplete: 'off', required: true,
    maxlength: 1000, pattern: '.*\\S.*' });
  const kind = h('select', { id: 'request-kind', name: 'kind' },
    h('option', { value: 'json' }, t('request.kind.json')),
    h('option', { value: 'csv' }, t('request.kind.csv')),
    admin ? h('option', { value: 'erase' }, t('request.kind.erase')) : null);
  const ok = await confirmDialog({
    title: t('request.title', { name }),
    message: t('request.lead', { n: hit.members.length }),
    confirmLabel: t('request.next'),
    cancelLabel: t('cancel'),
    extra: [field(t('request.id'), requestId, t('request.id.hint')), field(t('reason.required'), reason), field(t('request.kind'), kind)],
  });
  if (!ok || !ok.reason?.trim() || !ok.request_id?.trim()) return;
  const body = { request_id: ok.request_id.trim(), reason: ok.reason.trim() };
  const path = `/v1/entities/${encodeURIComponent(hit.entity_id)}`;
  try {
    if (ok.kind === 'erase') {
      const sure = await confirmDialog({
        title: t('request.erase.title'),
        message: t('request.erase.confirm', { name, n: hit.members.length, ids: hit.members.map((m) => m.id).join('、') }),
        confirmLabel: t('request.erase.ok'),
        cancelLabel: t('cancel'),
        danger: true,
      });
      if (!sure) return;
      const done = await api('POST', `${path}/erase`, body);
      ctx.announce(t('request.erased', { n: done.erased.length, id: done.request_id }));
      gone(card);
      return;
    }
    const format = ok.kind === 'csv' ? 'csv' : 'json';
    const blob = await download(`${path}/disclose`, { ...body, format });
    save(blob, `disclosure-${safeName(body.request_id)}.${format}`);
    replace(result, h('p', { class: 'outcome ok', 'data-testid': 'disclosed' }, t('request.disclosed', { id: body.request_id, format: format.toUpperCase() })));
    ctx.announce(t('request.disclosed', { id: body.request_id, format: format.toUpperCase() }), 'ok', { quiet: true });
  } catch (e) {
    const text = t('error', { message: errorMessage(e) });
    replace(result, h('p', { class: 'outcome error', 'data-testid': 'request-error' }, text));
    ctx.announce(text, 'error', { quiet: true });
  }
}

/** Hand a blob to the browser as a download. */
export function save(blob, filename) {
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: filename, hidden: true });
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

function safeName(s) {
  return s.replace(/[^\w.-]+/g, '_').slice(0, 60);
}
