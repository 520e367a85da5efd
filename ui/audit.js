// The audit log, newest first (or oldest), filtered by date range, actor,
// action, subject and record (every entry naming it; kept in the URL), paged with the API's cursor, and
// exported whole as CSV (fetched with the token, saved as a file).
// Actions, subjects and the reasons the server writes itself are shown in
// the page's language; the API's names stay on the rows (data-action) and
// in the filter's values. A decision's entry links to its proposal, where
// it can be undone.

import { api, query, download } from './api.js';
import { save } from './search.js';
import { h, replace, field, select } from './dom.js';
import { t, dateTime, pageTitle, errorMessage, actionName, subjectText, reasonText, detailText, actorName } from './i18n.js';

// src/store/mod.rs `AuditAction`.
const ACTIONS = ['proposal.approve', 'proposal.reject', 'proposal.defer', 'proposal.reopen', 'proposal.assign', 'proposal.comment', 'proposal.rescore',
  'entity.merge', 'entity.auto_merge', 'entity.split', 'record.create', 'record.import', 'record.update',
  'record.delete', 'record.erase', 'entity.unmerge', 'entity.unsplit', 'request.disclose', 'request.erase',
  'labels.import', 'entity.audit', 'token.create', 'model.train', 'job.cancel', 'job.resume'];

const DECISIONS = ['proposal.approve', 'proposal.reject', 'proposal.defer'];

export async function render(main, route, ctx) {
  const f = {
    actor: route.params.get('actor') || '',
    action: route.params.get('action') || '',
    subject: route.params.get('subject') || '',
    record: route.params.get('record') || '',
    since: route.params.get('since') || '',
    until: route.params.get('until') || '',
    order: route.params.get('order') === 'oldest' ? 'oldest' : '',
  };
  const page = await api('GET', '/v1/audit' + query({ ...f, limit: 100 }));
  if (!ctx.isCurrent()) return;
  document.title = pageTitle(t('audit.title'));
  const actor = h('input', { id: 'a-actor', name: 'actor', type: 'text', value: f.actor, autocomplete: 'off' });
  // An action the list does not know (a newer server's) stays choosable.
  const known = ACTIONS.includes(f.action) || !f.action ? ACTIONS : [...ACTIONS, f.action];
  const action = select('a-action', [['', t('audit.action.all')], ...known.map((a) => [a, actionName(a)])], f.action);
  const subject = h('input', { id: 'a-subject', name: 'subject', type: 'text', value: f.subject, autocomplete: 'off', placeholder: 'proposal:3' });
  const record = h('input', { id: 'a-record', name: 'record', type: 'text', value: f.record, autocomplete: 'off', placeholder: 'R0000001' });
  const since = h('input', { id: 'a-since', name: 'since', type: 'date', value: f.since });
  const until = h('input', { id: 'a-until', name: 'until', type: 'date', value: f.until });
  const order = select('a-order', [['', t('audit.order.newest')], ['oldest', t('audit.order.oldest')]], f.order);
  const form = h('form', { class: 'card filters', onsubmit: (ev) => {
    ev.preventDefault();
    ctx.go('#/audit' + query({ since: since.value, until: until.value, actor: actor.value.trim(), action: action.value.trim(),
      subject: subject.value.trim(), record: record.value.trim(), order: order.value }));
  } },
  field(t('audit.since'), since),
  field(t('audit.until'), until, t('audit.until.hint')),
  field(t('audit.actor'), actor),
  field(t('audit.action'), action),
  field(t('audit.subject'), subject, t('audit.subject.hint')),
  field(t('audit.record'), record, t('audit.record.hint')),
  field(t('audit.order'), order),
  h('div', { class: 'field buttons' },
    h('button', { type: 'submit', class: 'primary' }, t('audit.apply')),
    h('button', { type: 'button', class: 'secondary', 'data-testid': 'audit-csv', onclick: async (ev) => {
      const b = ev.currentTarget;
      b.disabled = true;
      try {
        // The whole filtered log, not only the page shown.
        const blob = await download('/v1/audit' + query({ ...f, format: 'csv' }), undefined, 'GET');
        save(blob, `audit-${new Date().toISOString().slice(0, 10)}.csv`);
        ctx.announce(t('audit.csv.done'));
      } catch (e) {
        ctx.announce(t('error', { message: errorMessage(e) }), 'error');
      } finally {
        b.disabled = false;
      }
    } }, t('audit.csv'))));

  const tbody = h('tbody');
  const more = h('button', { type: 'button', class: 'secondary', hidden: true }, t('more'));
  let cursor = null;
  const setPage = (p) => {
    for (const x of p.items) tbody.appendChild(row(x));
    cursor = p.next_cursor;
    more.hidden = !cursor;
  };
  more.addEventListener('click', async () => {
    more.disabled = true;
    try {
      setPage(await api('GET', '/v1/audit' + query({ ...f, limit: 100, cursor })));
    } catch (e) {
      ctx.announce(t('error', { message: errorMessage(e) }), 'error');
    } finally {
      more.disabled = false;
    }
  });
  setPage(page);
  replace(main, h('h1', {}, t('audit.title')), form,
    page.items.length
      ? [h('div', { class: 'table-wrap card' }, h('table', { class: 'list audit', 'data-testid': 'audit' },
        h('thead', {}, h('tr', {}, ['seq', 'at', 'actor', 'action', 'subject', 'reason', 'change', 'actions']
          .map((c) => h('th', { scope: 'col' }, t(`audit.col.${c}`))))),
        tbody)), more]
      : h('p', { class: 'empty', 'data-testid': 'audit-empty' }, t('audit.empty')));
}

function subjectLink(s) {
  const [kind, id] = s.split(':');
  const href = { proposal: '#/proposal/', entity: '#/entity/', record: '#/record/' }[kind];
  return href && id ? h('a', { href: href + encodeURIComponent(id), 'data-subject': s }, subjectText(s)) : h('span', { 'data-subject': s }, subjectText(s));
}

function row(x) {
  const undo = DECISIONS.includes(x.action) && x.subject.startsWith('proposal:')
    ? h('a', { class: 'button-link', 'data-action': 'undo', href: `#/proposal/${encodeURIComponent(x.subject.slice(9))}`,
      'aria-label': t('audit.undo.label', { id: x.subject.slice(9) }) }, t('audit.undo'))
    : null;
  return h('tr', { 'data-action': x.action, 'data-seq': x.seq },
    h('td', { class: 'num' }, String(x.seq)),
    h('td', { class: 'nowrap' }, dateTime(x.at)),
    h('td', { class: 'col-actor' }, actorName(x.actor)),
    h('td', { class: 'col-action' }, actionName(x.action)),
    h('td', { class: 'col-subject' }, subjectLink(x.subject)),
    h('td', { class: 'col-reason' }, reasonText(x.reason)),
    h('td', { class: 'detail' }, h('span', { class: 'before' }, detailText(x.before)), ' → ', h('span', { class: 'after' }, detailText(x.after))),
    h('td', { class: 'col-actions' }, undo));
}
