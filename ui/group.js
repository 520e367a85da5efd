// Review by customer: the connected pending proposals around a proposal
// (`GET /v1/proposals/{id}/group`). Every record that would form the
// customer side by side (one column each), the proposals between them, the
// golden record the whole group would give; a steward approves the group
// at once, or takes records out first (their proposals are rejected, the
// rest approved; a record goes out with the records already one customer
// with it), choosing per field whose value the golden record keeps.
// All or nothing: a proposal decided meanwhile makes the server refuse
// (409), and the page says so and shows the group as it is now.

import { api, can } from './api.js';
import { h, replace, field } from './dom.js';
import { t, label, fieldName, formatNumber, percent, pageTitle, errorMessage } from './i18n.js';
import { recordsCell } from './queue.js';

export async function render(main, route, ctx) {
  const id = route.id;
  let g = await api('GET', `/v1/proposals/${encodeURIComponent(id)}/group`);
  if (!ctx.isCurrent()) return;
  const title = () => t('group.title', { name: groupName(g) });
  document.title = pageTitle(title());
  let outcome = null;
  let busy = false;
  const excluded = new Set();
  const winners = {};

  const draw = () => replace(main, view());

  function view() {
    const steward = can('steward');
    const open = g.proposals.length > 0;
    return [
      h('p', { class: 'crumbs' }, h('a', { href: `#/proposal/${encodeURIComponent(g.proposal)}` }, '← ' + t('group.back', { id: '#' + g.proposal }))),
      h('h1', { tabindex: '-1' }, title()),
      h('p', { class: 'lead' }, t('group.lead', { records: g.records.length, entities: g.entities.length, proposals: g.proposals.length })),
      g.truncated ? h('p', { class: 'outcome info', 'data-testid': 'group-truncated' }, t('group.truncated')) : null,
      outcome ? h('div', { class: `outcome ${outcome.kind}`, 'data-testid': 'outcome' }, outcome.body) : null,
      recordsTable(steward && open),
      proposalsTable(),
      steward && open ? decisionForm() : null,
      !open && !outcome ? h('p', { class: 'empty', 'data-testid': 'group-empty' }, t('group.empty')) : null,
    ];
  }

  /** Each field a row, each record a column, the golden preview last. */
  function recordsTable(choose) {
    const fields = [];
    for (const r of g.records) for (const f of Object.keys(r.fields)) if (!fields.includes(f)) fields.push(f);
    for (const f of Object.keys(g.proposed_golden)) if (!fields.includes(f)) fields.push(f);
    const shown = (r, f) => r.normalized?.[f]?.value || r.fields[f] || '';
    const head = h('tr', {},
      h('th', { scope: 'col' }, t('proposal.field')),
      g.records.map((r) => h('th', { scope: 'col', class: excluded.has(r.id) ? 'excluded' : null, 'data-record': r.id },
        h('span', { class: 'rec-id-main' }, r.id),
        h('span', { class: 'rec-id' }, `${r.source} · ${r.entity_id}`),
        choose ? h('span', { class: 'choice' },
          h('input', { type: 'checkbox', id: `ex-${r.id}`, 'data-exclude': r.id, checked: excluded.has(r.id),
            onchange: (ev) => { toggle(r.id, ev.target.checked); } }),
          h('label', { for: `ex-${r.id}`, 'aria-label': t('group.exclude.label', { id: r.id }) }, t('group.exclude'))) : null)),
      h('th', { scope: 'col' }, t('group.golden')));
    const rows = fields.map((f, i) => {
      const values = g.records.filter((r) => !excluded.has(r.id)).map((r) => shown(r, f)).filter(Boolean);
      const differs = new Set(values).size > 1;
      const gf = g.proposed_golden[f];
      const chosen = winners[f] && g.records.find((r) => r.id === winners[f]);
      let golden;
      if (chosen) golden = h('td', { class: 'golden chosen', 'data-field': f }, shown(chosen, f), h('span', { class: 'rec-id' }, chosen.id));
      else if (gf && excluded.has(gf.record_id)) golden = h('td', { class: 'golden stale', 'data-field': f }, t('group.golden.recomputed'));
      else golden = h('td', { class: 'golden', 'data-field': f }, gf ? [gf.value, h('span', { class: 'rec-id' }, `${gf.record_id} · ${label('rule', gf.rule)}`)] : t('none'));
      return h('tr', { class: differs ? 'differs' : 'same', 'data-field': f },
        h('th', { scope: 'row' }, fieldName(f), h('span', { class: differs ? 'tag differs' : 'tag same' }, differs ? t('proposal.differs') : t('proposal.same'))),
        g.records.map((r) => {
          const v = shown(r, f);
          const out = excluded.has(r.id);
          const pick = choose && differs && v && !out;
          const inputId = `win-${i}-${r.id}`;
          const isWinner = winners[f] ? winners[f] === r.id : gf?.record_id === r.id;
          return h('td', { class: `value${out ? ' excluded' : ''}`, 'data-record': r.id },
            v || h('span', { class: 'missing' }, t('none')),
            pick ? h('span', { class: 'choice pick' },
              h('input', { type: 'radio', id: inputId, name: `win-${i}`, value: r.id, 'data-field': f, checked: isWinner,
                onchange: () => { winners[f] = r.id; draw(); } }),
              h('label', { for: inputId, 'aria-label': t('group.winner.label', { field: fieldName(f), id: r.id }) }, t('proposal.winner'))) : null);
        }),
        golden);
    });
    return h('section', { class: 'card compare', 'aria-labelledby': 'group-records-h' },
      h('h2', { id: 'group-records-h' }, t('group.records')),
      choose ? h('p', { class: 'hint' }, t('group.records.hint')) : null,
      h('div', { class: 'table-wrap' }, h('table', { class: 'compare-table group-table', 'data-testid': 'group-records' },
        h('thead', {}, head), h('tbody', {}, rows))));
  }

  function proposalsTable() {
    const fate = (p) => (p.record_ids.some((r) => excluded.has(r)) ? 'reject' : 'approve');
    return h('section', { class: 'card', 'aria-labelledby': 'group-proposals-h' },
      h('h2', { id: 'group-proposals-h' }, t('group.proposals', { n: g.proposals.length })),
      g.proposals.length ? h('div', { class: 'table-wrap' }, h('table', { class: 'list queue', 'data-testid': 'group-proposals' },
        h('thead', {}, h('tr', {}, ['id', 'records', 'score', 'probability', 'band', 'fate']
          .map((c) => h('th', { scope: 'col' }, t(c === 'fate' ? 'group.col.fate' : `queue.col.${c}`))))),
        h('tbody', {}, g.proposals.map((p) => h('tr', { 'data-id': p.id, 'data-fate': fate(p) },
          h('th', { scope: 'row' }, h('a', { href: `#/proposal/${encodeURIComponent(p.id)}` }, '#' + p.id)),
          h('td', { class: 'col-records' }, recordsCell(p)),
          h('td', { class: 'num' }, formatNumber(p.score)),
          h('td', { class: 'num' }, percent(p.probability)),
          h('td', {}, h('span', { class: `badge band-${p.band}` }, label('band', p.band))),
          h('td', {}, h('span', { class: `badge fate-${fate(p)}` }, t(`group.fate.${fate(p)}`)))))))) : null);
  }

  function decisionForm() {
    const reason = h('input', { id: 'group-reason', name: 'reason', type: 'text', autocomplete: 'off' });
    const n = g.proposals.filter((p) => !p.record_ids.some((r) => excluded.has(r))).length;
    const submit = h('button', { type: 'submit', class: 'primary', 'data-testid': 'group-submit' },
      excluded.size ? t('group.submit.rest', { n, m: g.proposals.length - n }) : t('group.submit.all', { n }));
    return h('form', { class: 'card decision', 'aria-labelledby': 'group-decide-h', onsubmit: (ev) => {
      ev.preventDefault();
      decide(reason.value.trim());
    } },
    h('h2', { id: 'group-decide-h', class: 'sr-only' }, t('proposal.actions')),
    h('div', { class: 'buttons' }, submit),
    field(t('proposal.reason'), reason),
    h('p', { class: 'hint' }, t('group.decide.hint')));
  }

  // A record is taken out with its entity: the records already one
  // customer with it would otherwise bring it back in.
  function toggle(recordId, out) {
    const entity = g.records.find((r) => r.id === recordId)?.entity_id;
    for (const r of g.records) {
      if (r.entity_id !== entity) continue;
      if (out) excluded.add(r.id);
      else excluded.delete(r.id);
    }
    // A record taken out cannot give a value.
    for (const [f, r] of Object.entries(winners)) if (excluded.has(r)) delete winners[f];
    draw();
    main.querySelector(`#ex-${CSS.escape(recordId)}`)?.focus();
  }

  async function decide(reason) {
    if (busy) return;
    busy = true;
    const body = {
      proposals: Object.fromEntries(g.proposals.map((p) => [p.id, p.version])),
      exclude: [...excluded],
      winners: Object.fromEntries(Object.entries(winners).filter(([f, r]) => g.proposed_golden[f]?.record_id !== r)),
    };
    if (reason) body.reason = reason;
    let text;
    let kind = 'ok';
    let done = null;
    try {
      done = await api('POST', `/v1/proposals/${encodeURIComponent(g.proposal)}/group`, body);
      text = t('group.done', { approved: done.approved.length, rejected: done.rejected.length, superseded: done.superseded.length });
    } catch (e) {
      kind = 'error';
      text = e.status === 409 ? t('group.conflict') : t('error', { message: errorMessage(e) });
    }
    try {
      g = await api('GET', `/v1/proposals/${encodeURIComponent(g.proposal)}/group`);
    } finally {
      busy = false;
    }
    excluded.clear();
    for (const k of Object.keys(winners)) delete winners[k];
    if (!ctx.isCurrent()) return;
    const ids = (key) => (done && done[key].length ? h('li', {}, t(`group.list.${key}`), ' ',
      done[key].map((id, i) => [i ? '、' : '', h('a', { href: `#/proposal/${encodeURIComponent(id)}` }, '#' + id)])) : null);
    outcome = {
      kind,
      body: [h('p', {}, text,
        done && done.entity_id ? [' ', h('a', { href: `#/entity/${encodeURIComponent(done.entity_id)}`, 'data-testid': 'group-entity' }, t('proposal.entity', { id: done.entity_id }))] : null),
      done ? h('ul', { class: 'id-list' }, ids('approved'), ids('rejected'), ids('superseded')) : null],
    };
    draw();
    ctx.announce(text, kind, { quiet: true });
    main.querySelector('h1')?.focus();
  }

  draw();
}

/** The customer's name: the golden record's company and person names. */
export function groupName(g) {
  const gold = g.proposed_golden || {};
  const parts = ['company_name', 'person_name'].map((f) => gold[f]?.value).filter(Boolean);
  return parts.length ? parts.join(' ') : g.entities.join('・');
}
