// One proposal: the two records side by side with their differences marked
// character by character, the explanation as bars of weight, the merged
// (golden) record with a choice of winner per field, and the decision
// buttons with their keys (a/r/d/n). The outcome shows on the page, once
// (the status line says it to screen readers only); a stale page gets the
// 409's current state. Scores and probabilities carry their unit and point
// at the help that says what they mean and where the bands start.

import { api, query, can } from './api.js';
import { h, replace, field, confirmDialog } from './dom.js';
import { diffChars, diffWorthShowing } from './diff.js';
import { t, label, fieldName, formatNumber, percent, dateTime, pageTitle, errorMessage, bits, levelName, comparisonName, reasonText, actorName } from './i18n.js';
import { lastQueue, filtersOf, numbersHelp } from './queue.js';

const KEYS = { a: 'approve', r: 'reject', d: 'defer', n: 'next' };

export async function render(main, route, ctx) {
  const id = route.id;
  let [d, model] = await Promise.all([
    api('GET', `/v1/proposals/${encodeURIComponent(id)}`),
    // Only for the band thresholds in the help: without a model, none.
    api('GET', '/v1/model/bands').then((bands) => ({ bands })).catch(() => null),
  ]);
  if (!ctx.isCurrent()) return;
  document.title = pageTitle(t('proposal.title', { id: '#' + d.id }));
  let outcome = null; // {text, kind} shown on the page after a decision
  let busy = false;

  const draw = () => {
    replace(main, view(d, outcome, act, model, comment));
    // A changed choice or typed value asks the server for the golden
    // record it gives, and what in it contradicts itself.
    const compare = main.querySelector('[data-testid=compare]');
    compare?.addEventListener('change', (ev) => {
      if (ev.target.matches('input.typed, input[type=radio][data-field]')) refreshPreview(main, d);
    });
  };

  async function comment(text) {
    if (busy) return;
    busy = true;
    try {
      await api('POST', `/v1/proposals/${encodeURIComponent(d.id)}/comments`, { text });
      d = await api('GET', `/v1/proposals/${encodeURIComponent(d.id)}`);
      outcome = { text: t('comments.added'), kind: 'ok' };
    } catch (e) {
      outcome = { text: t('error', { message: errorMessage(e) }), kind: 'error' };
    } finally {
      busy = false;
    }
    if (!ctx.isCurrent()) return;
    // A comment does not cost the steward the winners chosen or the reason typed.
    const checked = [...main.querySelectorAll('input[type=radio]:checked')].map((i) => i.id);
    const typed = main.querySelector('#reason')?.value || '';
    draw();
    for (const rid of checked) {
      const input = main.querySelector(`#${CSS.escape(rid)}`);
      if (input && !input.checked) {
        input.checked = true;
        input.dispatchEvent(new Event('change'));
      }
    }
    if (main.querySelector('#reason')) main.querySelector('#reason').value = typed;
    ctx.announce(outcome.text, outcome.kind, { quiet: true });
  }

  async function act(verb) {
    if (busy) return;
    if (verb === 'next') {
      return next(d, ctx).catch((e) => ctx.announce(t('error', { message: errorMessage(e) }), 'error'));
    }
    if (!can('steward')) return;
    const pending = d.status === 'open' || d.status === 'deferred';
    const undoable = d.status === 'approved' || d.status === 'rejected' || d.status === 'deferred';
    if (verb === 'reopen' ? !undoable : !pending) return;
    const body = { version: d.version };
    let reason = main.querySelector('#reason')?.value.trim();
    if (verb === 'reopen') {
      // An undo says what it undoes first: an approval's merge is reverted.
      const input = h('input', { id: 'undo-reason', name: 'reason', type: 'text', autocomplete: 'off' });
      const ok = await confirmDialog({
        title: t('proposal.undo.title'),
        message: t(`proposal.undo.confirm.${d.status}`, { id: d.id }),
        confirmLabel: t('proposal.undo.ok'),
        cancelLabel: t('cancel'),
        extra: field(t('reason'), input),
      });
      if (!ok) return;
      reason = (ok.reason || '').trim();
    }
    busy = true;
    main.querySelectorAll('.decision button').forEach((b) => { b.disabled = true; });
    if (reason) body.reason = reason;
    const was = d.status;
    if (verb === 'approve') {
      const winners = chosenWinners(main, d);
      if (Object.keys(winners).length) body.winners = winners;
      const values = typedValues(main);
      if (Object.keys(values).length) body.values = values;
    }
    try {
      await api('POST', `/v1/proposals/${encodeURIComponent(d.id)}/${verb}`, body);
      let entity = '';
      if (verb === 'approve') {
        entity = (await api('GET', `/v1/records/${encodeURIComponent(d.record_ids[0])}/entity`)).entity_id;
      }
      outcome = { text: verb === 'reopen' ? t(`proposal.undone.${was}`, { id: d.id }) : t(`proposal.decided.${verb}`, { id: d.id, entity }), kind: 'ok', entity };
    } catch (e) {
      if (e.status === 409 && verb === 'reopen' && e.current && e.current.id !== d.id) {
        // Another proposal for the same pair is open: that one is decided instead.
        outcome = { text: t('proposal.undo.other', { other: e.current.id }), kind: 'error', other: e.current.id };
      } else if (e.status === 409 && verb === 'reopen' && e.current?.status === 'approved' && e.current.version === d.version) {
        outcome = { text: t('proposal.undo.refused'), kind: 'error' };
      } else if (e.status === 409) {
        outcome = { text: t('proposal.conflict', { status: label('status', e.current?.status || '?') }), kind: 'error' };
      } else {
        outcome = { text: t('error', { message: errorMessage(e) }), kind: 'error' };
      }
    }
    try {
      d = await api('GET', `/v1/proposals/${encodeURIComponent(d.id)}`);
    } finally {
      busy = false;
    }
    if (!ctx.isCurrent()) return;
    draw();
    ctx.announce(outcome.text, outcome.kind, { quiet: true });
    main.querySelector('[data-action=next]')?.focus();
  }

  const onKey = (ev) => {
    if (ev.ctrlKey || ev.metaKey || ev.altKey || ev.repeat) return;
    const target = ev.target;
    if (target && (target.matches?.('input:not([type=radio]):not([type=checkbox]), textarea, select, [contenteditable]'))) return;
    if (document.querySelector('dialog[open]')) return;
    const verb = KEYS[ev.key];
    if (!verb) return;
    if (verb !== 'next' && !can('steward')) return;
    ev.preventDefault();
    act(verb);
  };
  document.addEventListener('keydown', onKey);
  ctx.onLeave(() => document.removeEventListener('keydown', onKey));
  draw();
}

async function next(d, ctx) {
  const page = await api('GET', '/v1/proposals' + query({ ...filtersOf(lastQueue()), limit: 50 }));
  const pick = page.items.find((p) => p.id !== d.id);
  if (pick) ctx.go(`#/proposal/${encodeURIComponent(pick.id)}`);
  else ctx.announce(t('proposal.nonext'), 'info');
}

/** Values the steward typed for the golden record, by field. */
function typedValues(main) {
  const values = {};
  for (const input of main.querySelectorAll('input.typed[data-field]')) {
    const v = input.value.trim();
    if (v) values[input.dataset.field] = v;
  }
  return values;
}

/** The golden record and its warnings for the choices made so far, from
 * the server (`POST …/preview`); shown in the golden column and the
 * warnings box. */
async function refreshPreview(main, d) {
  const body = { winners: chosenWinners(main, d), values: typedValues(main) };
  let p;
  try {
    p = await api('POST', `/v1/proposals/${encodeURIComponent(d.id)}/preview`, body);
  } catch (e) {
    replace(main.querySelector('[data-testid=warnings]'), h('p', { class: 'outcome error' }, t('error', { message: errorMessage(e) })));
    return;
  }
  for (const cell of main.querySelectorAll('[data-testid=compare] td.golden[data-field]')) {
    const g = p.golden[cell.dataset.field];
    cell.textContent = g ? g.value : t('none');
    cell.classList.toggle('chosen', !!g && g.rule !== d.proposed_golden[cell.dataset.field]?.rule);
  }
  replace(main.querySelector('[data-testid=warnings]'), warningList(p.warnings));
}

/** The warnings of a golden record, worded from their codes and params. */
export function warningList(warnings) {
  if (!warnings || !warnings.length) return null;
  return h('ul', { class: 'warnings' }, warnings.map((w) => h('li', { 'data-code': w.code },
    t(`warning.${w.code}`, { ...w.params, fields: w.fields.map(fieldName).join('・') }))));
}

/** Fields whose chosen record differs from what the golden record would pick anyway. */
function chosenWinners(main, d) {
  const winners = {};
  for (const input of main.querySelectorAll('input[type=radio][data-field]:checked')) {
    const f = input.dataset.field;
    const proposed = d.proposed_golden[f]?.record_id;
    if (input.value && input.value !== proposed) winners[f] = input.value;
  }
  return winners;
}

function view(d, outcome, act, model, onComment) {
  const steward = can('steward');
  const pending = d.status === 'open' || d.status === 'deferred';
  const [a, b] = d.records;
  return [
    h('p', { class: 'crumbs' }, h('a', { href: '#/queue?' + lastQueue().toString() }, '← ' + t('proposal.back'))),
    h('h1', {}, t('proposal.title', { id: '#' + d.id })),
    h('p', { class: 'summary-line', 'data-testid': 'summary' },
      h('span', { class: `badge band-${d.band}` }, label('band', d.band)), ' ',
      h('span', { class: `badge status-${d.status}`, 'data-testid': 'proposal-status' }, label('status', d.status)), ' ',
      h('span', { class: 'prob', 'data-testid': 'probability', 'aria-describedby': 'numbers-help' }, t('proposal.probability', { p: percent(d.probability) })), ' · ',
      h('span', { 'data-testid': 'score', 'aria-describedby': 'numbers-help' }, t('proposal.score', { score: bits(d.score) })),
      d.assignee ? [' · ', t('proposal.assignee', { name: d.assignee })] : null,
      d.decided_by ? [' · ', t('proposal.decidedby', { by: d.decided_by, at: dateTime(d.decided_at) })] : null),
    outcome ? h('p', { class: `outcome ${outcome.kind}`, 'data-testid': 'outcome' }, outcome.text,
      outcome.entity ? [' ', h('a', { href: `#/entity/${encodeURIComponent(outcome.entity)}` }, t('proposal.entity', { id: outcome.entity }))] : null,
      outcome.other ? [' ', h('a', { href: `#/proposal/${encodeURIComponent(outcome.other)}` }, t('proposal.title', { id: '#' + outcome.other }))] : null) : null,
    d.reason ? h('p', { class: 'decision-reason', 'data-testid': 'decision-reason' },
      t(d.status === 'superseded' ? 'proposal.superseded.reason' : 'proposal.reason.shown', { reason: reasonText(d.reason) })) : null,
    pending ? h('p', { class: 'crumbs' }, h('a', { href: `#/group/${encodeURIComponent(d.id)}`, 'data-testid': 'group-link' }, t('proposal.group'))) : null,
    !outcome && !pending && d.status === 'approved'
      ? h('p', { class: 'outcome info' }, h('a', { href: `#/record/${encodeURIComponent(a.id)}` }, t('proposal.entity.of')))
      : null,
    steward ? decisionBar(d, pending, act) : h('p', { class: 'readonly', 'data-testid': 'readonly' }, t('proposal.readonly'), ' ', nextButton(act)),
    compareTable(d, a, b, steward && pending),
    h('div', { class: 'card golden-warnings', 'data-testid': 'warnings', role: 'status' }, warningList(d.warnings)),
    explanation(d),
    comments(d, steward, onComment),
    numbersHelp(model),
  ];
}

/** The stewards' comments on the proposal, oldest first, and a box to add
 * one (when the server keeps comments: `comments` in the proposal). */
function comments(d, steward, onComment) {
  if (!Array.isArray(d.comments)) return null;
  const text = h('textarea', { id: 'comment-text', name: 'text', rows: 3, maxlength: 1000, required: true });
  return h('section', { class: 'card comments', 'aria-labelledby': 'comments-h' },
    h('h2', { id: 'comments-h' }, t('comments.title', { n: d.comments.length })),
    d.comments.length
      ? h('ol', { class: 'comment-list', 'data-testid': 'comments' }, d.comments.map((c) => h('li', { 'data-seq': c.seq },
        h('p', { class: 'comment-meta' }, t('comments.meta', { actor: actorName(c.actor), at: dateTime(c.at) })),
        h('p', { class: 'comment-text' }, c.text))))
      : h('p', { class: 'empty', 'data-testid': 'comments-empty' }, t('comments.empty')),
    steward ? h('form', { class: 'comment-form', onsubmit: (ev) => {
      ev.preventDefault();
      const v = text.value.trim();
      if (v) onComment(v);
    } }, field(t('comments.add'), text), h('div', { class: 'actions' },
      h('button', { type: 'submit', class: 'secondary', 'data-testid': 'comment-submit' }, t('comments.submit')))) : null);
}

function nextButton(act) {
  return keyButton('next', 'n', 'secondary', act);
}

function keyButton(verb, key, cls, act) {
  return h('button', { type: 'button', class: cls, 'data-action': verb, 'aria-keyshortcuts': key, onclick: () => act(verb) },
    t(`proposal.${verb}`), ' ', h('kbd', { 'aria-hidden': 'true' }, key.toUpperCase()));
}

function decisionBar(d, pending, act) {
  const reason = h('input', { id: 'reason', name: 'reason', type: 'text', autocomplete: 'off', disabled: !pending });
  return h('section', { class: 'card decision', 'aria-labelledby': 'decision-h' },
    h('h2', { id: 'decision-h', class: 'sr-only' }, t('proposal.actions')),
    h('div', { class: 'buttons' },
      pending ? [
        keyButton('approve', 'a', 'primary', act),
        keyButton('reject', 'r', 'danger', act),
        keyButton('defer', 'd', 'secondary', act),
      ] : null,
      d.status === 'approved' || d.status === 'rejected' || d.status === 'deferred'
        ? h('button', { type: 'button', class: 'secondary', 'data-action': 'reopen', onclick: () => act('reopen') }, t(`proposal.undo.${d.status}`))
        : null,
      nextButton(act)),
    h('div', { class: 'field reason' }, h('label', { for: 'reason' }, t('proposal.reason')), reason),
    h('p', { class: 'hint' }, t('proposal.shortcuts')));
}

/** Both values, with what differs marked character by character where the
 * two are alike enough for that to mean something (diff.js
 * `diffWorthShowing`); unrelated or masked values are shown plain. */
function diffPair(x, y) {
  const missing = () => h('span', { class: 'missing' }, t('none'));
  if (!diffWorthShowing(x, y)) return [x || missing(), y || missing()];
  const [dx, dy] = diffChars(x, y);
  const cell = (runs) => runs.map((r) => (r.same ? r.text : h('mark', { class: 'diff' }, r.text)));
  return [cell(dx), cell(dy)];
}

function compareTable(d, a, b, choose) {
  const rows = d.fields.map((f, i) => {
    const [va, vb] = f.values;
    const [ca, cb] = diffPair(va, vb);
    if (f.part) {
      // A part compared on its own row (a company's branch): no choice of
      // its own, it goes with the field's value.
      const name = t(`proposal.part.${f.part}`, { field: fieldName(f.field) });
      return h('tr', { class: f.same ? 'same part' : 'differs part', 'data-field': `${f.field}.${f.part}` },
        h('th', { scope: 'row' }, name,
          h('span', { class: f.same ? 'tag same' : 'tag differs' }, f.same ? t('proposal.same') : t('proposal.differs'))),
        h('td', { class: 'value a' }, ca),
        h('td', { class: 'value b' }, cb),
        h('td', { class: 'golden' }),
        choose ? h('td', { class: 'choose' }) : null);
    }
    const rawA = a.fields[f.field];
    const rawB = b.fields[f.field];
    const showRaw = (rawA && rawA !== va) || (rawB && rawB !== vb);
    const [ra, rb] = showRaw ? diffPair(rawA, rawB) : [null, null];
    const g = d.proposed_golden[f.field];
    const goldenCell = h('td', { class: 'golden', 'data-field': f.field }, g ? g.value : t('none'));
    const canChoose = choose && va && vb && !f.same;
    let choice = null;
    if (canChoose) {
      const options = [['A', a.id, va], ['B', b.id, vb]];
      if (g && g.record_id !== a.id && g.record_id !== b.id) options.push([t('proposal.winner.other'), g.record_id, g.value]);
      choice = h('fieldset', { class: 'winner' },
        h('legend', { class: 'sr-only' }, `${t('proposal.winner')}: ${fieldName(f.field)}`),
        options.map(([side, rid, value], k) => {
          const inputId = `win-${i}-${k}`;
          const input = h('input', { type: 'radio', id: inputId, name: `win-${i}`, value: rid, 'data-field': f.field, 'data-side': side,
            checked: g ? g.record_id === rid : k === 0,
            onchange: () => { goldenCell.textContent = value; goldenCell.classList.add('chosen'); } });
          return h('span', { class: 'choice' }, input,
            h('label', { for: inputId, 'aria-label': t('proposal.winner.label', { field: fieldName(f.field), side }) }, side));
        }));
    }
    const typed = choose
      ? h('input', { type: 'text', class: 'typed', 'data-field': f.field, id: `typed-${i}`, maxlength: 1000, autocomplete: 'off',
        'aria-label': t('proposal.typed.label', { field: fieldName(f.field) }), placeholder: t('proposal.typed') })
      : null;
    return h('tr', { class: f.same ? 'same' : 'differs', 'data-field': f.field },
      h('th', { scope: 'row' }, fieldName(f.field),
        h('span', { class: f.same ? 'tag same' : 'tag differs' }, f.same ? t('proposal.same') : t('proposal.differs'))),
      h('td', { class: 'value a' }, ca, showRaw ? h('div', { class: 'raw' }, h('span', { class: 'raw-label' }, t('proposal.raw') + ': '), rawA ? ra : t('none')) : null),
      h('td', { class: 'value b' }, cb, showRaw ? h('div', { class: 'raw' }, h('span', { class: 'raw-label' }, t('proposal.raw') + ': '), rawB ? rb : t('none')) : null),
      goldenCell,
      choose ? h('td', { class: 'choose' }, choice, typed) : null);
  });
  const head = (key, r) => h('th', { scope: 'col' }, t(key), r ? h('span', { class: 'rec-id' }, `${r.id} · ${r.source}`) : null);
  return h('section', { class: 'card compare', 'aria-labelledby': 'compare-h' },
    h('h2', { id: 'compare-h' }, t('proposal.compare')),
    h('div', { class: 'table-wrap' },
      h('table', { class: 'compare-table', 'data-testid': 'compare' },
        h('thead', {}, h('tr', {},
          h('th', { scope: 'col' }, t('proposal.field')),
          head('proposal.recordA', a), head('proposal.recordB', b),
          h('th', { scope: 'col' }, t('proposal.golden')),
          choose ? h('th', { scope: 'col' }, t('proposal.winner')) : null)),
        h('tbody', {}, rows))));
}

export function explanation(d) {
  const ex = d.explanation || {};
  const terms = ex.terms || [];
  const max = Math.max(1, Math.abs(ex.prior || 0), ...terms.map((x) => Math.abs(x.weight)));
  // Terms that add nothing (a missing value, or shadowed by a stronger
  // term of the same evidence group) are named in one line, not drawn.
  const weighed = terms.filter((x) => x.weight !== 0);
  const zero = terms.filter((x) => x.weight === 0);
  // Comparison names and levels in the page's language (`会社名(支店・事業所)`,
  // `相違`); the API's labels stay on the element for programs.
  const name = (x) => comparisonName(x.comparison, x.field);
  const signed = (w) => (w > 0 ? '+' : '') + formatNumber(w);
  const bar = (name, detail, w, raw) => {
    const side = w >= 0 ? 'for' : 'against';
    const fill = h('span', { class: `fill ${side}` });
    fill.style.width = `${(Math.abs(w) / max) * 50}%`;
    return h('li', { class: `term ${side}`, 'data-comparison': raw?.comparison, 'data-level': raw?.level },
      h('span', { class: 'term-name' }, name, detail ? h('span', { class: 'term-detail' }, detail) : null),
      h('span', { class: 'track', role: 'img', 'aria-label': `${name}${detail ? ` (${detail})` : ''}: ${t(`proposal.${side}`)} ${bits(w)}` }, fill),
      h('span', { class: 'term-weight num' }, signed(w)));
  };
  return h('section', { class: 'card explanation', 'aria-labelledby': 'explain-h' },
    h('h2', { id: 'explain-h' }, t('proposal.explanation')),
    h('p', { class: 'hint' }, t('proposal.explanation.lead')),
    h('ul', { class: 'bars', 'data-testid': 'bars' },
      ex.prior !== undefined ? bar(t('proposal.prior'), null, ex.prior) : null,
      weighed.map((x) => bar(name(x), levelName(x.level), x.weight, x))),
    zero.length ? h('p', { class: 'hint', 'data-testid': 'zero-terms' }, t('proposal.zero'), ': ',
      zero.map((x) => `${name(x)} (${levelName(x.level)})`).join('、')) : null,
    h('p', { class: 'total', 'data-testid': 'total', 'aria-describedby': 'numbers-help' },
      t('proposal.total', { score: bits(d.score), p: percent(d.probability) })));
}
