// The audit of merges (#/merges): one pair at a time of records the
// service holds as one customer, drawn at random in a fixed order by the
// server (GET /v1/merge-audit). The steward answers "one customer" or
// "two customers" (POST /v1/merge-audit); the answers give the precision
// of the merges, shown with its interval. Pairs come in the server's order
// and cannot be skipped: choosing which to answer would bias the estimate.
// An answer changes no entity; the entity is a link, for a split.

import { api, can } from './api.js';
import { h, replace } from './dom.js';
import { t, fieldName, percent, pageTitle, errorMessage } from './i18n.js';
import { explanation } from './proposal.js';
import { numbersHelp } from './queue.js';

export async function render(main, route, ctx) {
  let outcome = null;
  const draw = async () => {
    const [sample, model] = await Promise.all([
      api('GET', '/v1/merge-audit?limit=1'),
      // The bands, for the help: without a model, none.
      api('GET', '/v1/model/bands').then((bands) => ({ bands })).catch(() => null),
    ]);
    const pair = sample.items[0];
    const records = pair
      ? await Promise.all(pair.record_ids.map((id) => api('GET', `/v1/records/${encodeURIComponent(id)}`)))
      : [];
    if (!ctx.isCurrent()) return;
    document.title = pageTitle(t('merges.title'));
    replace(main, view(sample, pair, records, model, outcome, answer));
  };

  async function answer(pair, label) {
    try {
      await api('POST', '/v1/merge-audit', { record_ids: pair.record_ids, label });
      outcome = { text: t(`merges.done.${label}`, { a: pair.record_ids[0], b: pair.record_ids[1] }), kind: 'ok', entity: label === 'non_match' ? pair.entity_id : null };
    } catch (e) {
      outcome = { text: t('error', { message: errorMessage(e) }), kind: 'error' };
    }
    if (!ctx.isCurrent()) return;
    await draw();
    ctx.announce(outcome.text, outcome.kind, { quiet: true });
  }
  await draw();
}

function view(sample, pair, records, model, outcome, answer) {
  const e = sample.merged_precision;
  return [
    h('h1', {}, t('merges.title')),
    h('p', { class: 'hint' }, t('merges.lead')),
    h('p', { class: 'summary-line', 'data-testid': 'merges-progress' },
      t('merges.progress', { pairs: sample.pairs, labelled: sample.labelled, audited: sample.audited }), ' ',
      h('span', { 'data-testid': 'merges-estimate' }, e
        ? t('merges.estimate', { value: percent(e.value), low: percent(e.low), high: percent(e.high) })
        : t('merges.estimate.none'))),
    outcome ? h('p', { class: `outcome ${outcome.kind}`, 'data-testid': 'outcome' }, outcome.text,
      outcome.entity ? [' ', h('a', { href: `#/entity/${encodeURIComponent(outcome.entity)}` }, t('merges.split'))] : null) : null,
    pair ? pairView(pair, records, answer) : h('p', { class: 'empty', 'data-testid': 'merges-empty' }, t('merges.empty')),
    pair ? explanation(pair) : null,
    pair ? numbersHelp(model) : null,
  ];
}

function pairView(pair, records, answer) {
  const [a, b] = records;
  const names = [...new Set([...Object.keys(a.fields || {}), ...Object.keys(b.fields || {})])];
  const value = (r, f) => r.normalized?.[f]?.value || r.fields?.[f] || '';
  const buttons = can('steward')
    ? h('section', { class: 'card decision', 'aria-labelledby': 'merges-answer-h', 'data-testid': 'merges-answer' },
      h('h2', { id: 'merges-answer-h', class: 'sr-only' }, t('merges.question')),
      h('div', { class: 'buttons' },
        h('button', { type: 'button', class: 'primary', 'data-answer': 'match', onclick: (ev) => { ev.currentTarget.disabled = true; answer(pair, 'match'); } }, t('merges.match')),
        h('button', { type: 'button', class: 'danger', 'data-answer': 'non_match', onclick: (ev) => { ev.currentTarget.disabled = true; answer(pair, 'non_match'); } }, t('merges.non_match'))))
    : h('p', { class: 'readonly', 'data-testid': 'readonly' }, t('merges.readonly'));
  return [
    h('p', { class: 'crumbs' }, t('merges.entity'), ' ',
      h('a', { href: `#/entity/${encodeURIComponent(pair.entity_id)}`, 'data-testid': 'merges-entity' }, pair.entity_id)),
    buttons,
    h('section', { class: 'card compare', 'aria-labelledby': 'merges-compare-h' },
      h('h2', { id: 'merges-compare-h' }, t('merges.question')),
      h('div', { class: 'table-wrap' }, h('table', { class: 'compare-table', 'data-testid': 'merges-pair' },
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('proposal.field')),
          ...records.map((r) => h('th', { scope: 'col' }, h('a', { href: `#/record/${encodeURIComponent(r.id)}` }, r.id))))),
        h('tbody', {}, names.map((f) => h('tr', { 'data-field': f },
          h('th', { scope: 'row' }, fieldName(f)),
          h('td', { class: 'value' }, value(a, f)),
          h('td', { class: 'value' }, value(b, f)))))))),
  ];
}
