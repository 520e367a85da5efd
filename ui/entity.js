// An entity (one customer), titled by its golden name: the golden record
// with each field's source record and rule, the member records, the
// history; a steward can split a member off (undoing a merge). Members
// labelled two customers (an audit answer) are listed as conflicts, each
// with the split the server suggests, one click away. `#/record/ID` lands
// here through the crosswalk.

import { api, can } from './api.js';
import { h, replace, field, confirmDialog } from './dom.js';
import { t, label, fieldName, dateTime, pageTitle, errorMessage, historyName, detailText, actorName } from './i18n.js';
import { warningList } from './proposal.js';

const SUMMARY_FIELDS = ['company_name', 'person_name', 'phone', 'email', 'address'];

export async function render(main, route, ctx) {
  if (route.name === 'record') {
    const x = await api('GET', `/v1/records/${encodeURIComponent(route.id)}/entity`);
    if (ctx.isCurrent()) location.replace(`#/entity/${encodeURIComponent(x.entity_id)}`);
    return;
  }
  const asked = route.id;
  let e = await api('GET', `/v1/entities/${encodeURIComponent(asked)}`);
  if (!ctx.isCurrent()) return;
  document.title = pageTitle(entityTitle(e));
  let outcome = null;
  const draw = () => replace(main, view(e, asked, outcome, split, unsplit));

  async function split(records) {
    const ids = records.join('、');
    const reason = h('input', { id: 'split-reason', name: 'reason', type: 'text', autocomplete: 'off' });
    const ok = await confirmDialog({
      title: t('entity.split.title'),
      message: t('entity.split.confirm', { id: ids }),
      confirmLabel: t('entity.split.ok'),
      cancelLabel: t('cancel'),
      extra: field(t('reason'), reason),
    });
    if (!ok) return;
    try {
      const body = { records };
      if (ok.reason && ok.reason.trim()) body.reason = ok.reason.trim();
      e = await api('POST', `/v1/entities/${encodeURIComponent(e.id)}/split`, body);
      const to = (await api('GET', `/v1/records/${encodeURIComponent(records[0])}/entity`)).entity_id;
      outcome = { text: t('entity.split.done', { id: ids, to }), kind: 'ok', to, undo: true };
    } catch (err) {
      outcome = { text: t('error', { message: errorMessage(err) }), kind: 'error' };
    }
    if (!ctx.isCurrent()) return;
    draw();
    ctx.announce(outcome.text, outcome.kind, { quiet: true });
  }
  // Undo the split just made: the records go back, here.
  async function unsplit(to) {
    try {
      e = await api('POST', `/v1/entities/${encodeURIComponent(to)}/unsplit`, {});
      outcome = { text: t('entity.unsplit.done', { to }), kind: 'ok' };
    } catch (err) {
      outcome = { text: t('error', { message: errorMessage(err) }), kind: 'error' };
    }
    if (!ctx.isCurrent()) return;
    draw();
    ctx.announce(outcome.text, outcome.kind, { quiet: true });
  }
  draw();
}

function view(e, asked, outcome, split, unsplit) {
  const steward = can('steward');
  const golden = Object.entries(e.golden);
  return [
    h('h1', {}, entityTitle(e)),
    asked !== e.id ? h('p', { class: 'outcome info' }, t('entity.merged', { from: asked, into: e.id })) : null,
    outcome ? h('p', { class: `outcome ${outcome.kind}`, 'data-testid': 'outcome' }, outcome.text,
      outcome.to ? [' ', h('a', { href: `#/entity/${encodeURIComponent(outcome.to)}` }, outcome.to)] : null,
      outcome.undo && steward ? [' ', h('button', { type: 'button', class: 'secondary small', 'data-action': 'unsplit',
        onclick: (ev) => { ev.currentTarget.disabled = true; unsplit(outcome.to); } }, t('entity.unsplit'))] : null) : null,
    e.conflicts?.length ? conflicts(e.conflicts, steward, split) : null,
    h('section', { class: 'card', 'aria-labelledby': 'golden-h' },
      h('h2', { id: 'golden-h' }, t('entity.golden')),
      h('div', { class: 'table-wrap' }, h('table', { class: 'list golden-table', 'data-testid': 'golden' },
        h('thead', {}, h('tr', {},
          h('th', { scope: 'col' }, t('proposal.field')),
          h('th', { scope: 'col' }, t('entity.value')),
          h('th', { scope: 'col' }, t('entity.from')),
          h('th', { scope: 'col' }, t('entity.rule')))),
        h('tbody', {}, golden.map(([f, g]) => h('tr', { 'data-field': f },
          h('th', { scope: 'row' }, fieldName(f)),
          h('td', { class: 'value' }, g.value),
          h('td', {}, g.record_id),
          h('td', {}, h('span', { class: `badge rule-${g.rule}`, 'data-rule': g.rule }, label('rule', g.rule)))))))),
      e.warnings?.length ? h('div', { class: 'golden-warnings', 'data-testid': 'warnings', role: 'status' }, warningList(e.warnings)) : null),
    h('section', { class: 'card', 'aria-labelledby': 'members-h' },
      h('h2', { id: 'members-h' }, t('entity.members', { n: e.members.length })),
      h('div', { class: 'table-wrap' }, h('table', { class: 'list members', 'data-testid': 'members' },
        h('thead', {}, h('tr', {},
          h('th', { scope: 'col' }, t('entity.member.id')),
          h('th', { scope: 'col' }, t('entity.member.source')),
          h('th', { scope: 'col' }, t('entity.member.summary')),
          steward && e.members.length > 1 ? h('th', { scope: 'col' }, t('queue.col.actions')) : null)),
        h('tbody', {}, e.members.map((m) => h('tr', { 'data-id': m.id },
          h('th', { scope: 'row' }, m.id),
          h('td', {}, m.source),
          h('td', {}, summary(m)),
          steward && e.members.length > 1
            ? h('td', {}, h('button', { type: 'button', class: 'secondary small', 'data-action': 'split',
              'aria-label': t('entity.split.label', { id: m.id }), onclick: () => split([m.id]) }, t('entity.split')))
            : null)))))),
    h('section', { class: 'card', 'aria-labelledby': 'history-h' },
      h('h2', { id: 'history-h' }, t('entity.history')),
      h('div', { class: 'table-wrap' }, h('table', { class: 'list history', 'data-testid': 'history' },
        h('thead', {}, h('tr', {},
          ['at', 'actor', 'action', 'detail'].map((c) => h('th', { scope: 'col' }, t(`entity.history.${c}`))))),
        h('tbody', {}, e.history.map((x) => h('tr', { 'data-action': x.action },
          h('td', { class: 'nowrap' }, dateTime(x.at)),
          h('td', {}, actorName(x.actor)),
          h('td', {}, historyName(x.action)),
          h('td', { class: 'detail' }, detailText(x.detail)))))))),
  ];
}

/** Members labelled two customers, each with the split that parts them. */
function conflicts(list, steward, split) {
  return h('section', { class: 'card conflicts', 'aria-labelledby': 'conflicts-h', 'data-testid': 'conflicts' },
    h('h2', { id: 'conflicts-h' }, t('entity.conflicts')),
    h('ul', {}, list.map((c) => h('li', { 'data-records': c.record_ids.join(' ') },
      t('entity.conflict', { a: c.record_ids[0], b: c.record_ids[1], source: label('labelSource', c.source), actor: actorName(c.actor), at: dateTime(c.created_at) }),
      ' ',
      c.split
        ? [t('entity.conflict.split', { records: c.split.join('、') }), steward
          ? [' ', h('button', { type: 'button', class: 'secondary small', 'data-action': 'split-suggested',
            onclick: () => split(c.split) }, t('entity.conflict.apply'))]
          : null]
        : t('entity.conflict.large')))));
}

/** An entity is called by its golden record's name, its id beside it. */
export function entityTitle(e) {
  const name = ['company_name', 'person_name'].map((f) => e.golden?.[f]?.value).filter(Boolean).join(' ');
  return name ? t('entity.title.named', { name, id: e.id }) : t('entity.title', { id: e.id });
}

export function summary(r) {
  const parts = [];
  for (const f of SUMMARY_FIELDS) {
    const v = r.normalized?.[f]?.value || r.fields?.[f];
    if (v) parts.push(h('span', { class: 'part', title: fieldName(f) }, v));
  }
  return parts;
}
