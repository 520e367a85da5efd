// The review queue: pending counts per band, filters (kept in the URL, so
// a filtered queue can be bookmarked and "next" on a proposal follows it),
// "my queue" (the proposals assigned to the signed-in steward), the list
// with both records' names and key fields, claim/unassign, a link to the
// customer's group, paging, and bulk approval of what the filters show
// above a score (by default the auto-merge threshold), listing what it
// approved and what it skipped.

import { api, query, session, can } from './api.js';
import { h, replace, field, select, confirmDialog } from './dom.js';
import { t, label, fieldName, formatNumber, percent, pageTitle, errorMessage } from './i18n.js';

const QUEUE = 'nayose.queue';

/** The queue's filters as the last queue page had them (for "next"). */
export function lastQueue() {
  const q = sessionStorage.getItem(QUEUE);
  return new URLSearchParams(q || 'status=open&sort=uncertainty');
}

export function filtersOf(params) {
  return {
    status: params.has('status') ? params.get('status') : 'open',
    band: params.get('band') || '',
    source: params.get('source') || '',
    assignee: params.get('assignee') || '',
    sort: params.get('sort') || 'uncertainty',
  };
}

export async function render(main, route, ctx) {
  const f = filtersOf(route.params);
  sessionStorage.setItem(QUEUE, new URLSearchParams(Object.entries(f)).toString());
  const [counts, page, model] = await Promise.all([
    api('GET', '/v1/proposals/counts'),
    api('GET', '/v1/proposals' + query({ ...f, limit: 50 })),
    // The bands, for the help and the bulk form: without a model, none.
    api('GET', '/v1/model/bands').then((bands) => ({ bands })).catch(() => null),
  ]);
  if (!ctx.isCurrent()) return;
  // The estimates score every label (seconds on a large store): the queue
  // does not wait for them; their card fills in when they come.
  const estimates = pendingEstimates();
  api('GET', '/v1/model').then((m) => {
    if (ctx.isCurrent() && estimates.isConnected) estimates.replaceWith(renderEstimates(m.labels));
  }).catch(() => estimates.remove());
  document.title = pageTitle(t('queue.title'));
  const me = session.me();

  const countList = h('ul', { class: 'counts', 'data-testid': 'counts' },
    Object.entries(counts.pending).map(([band, n]) =>
      h('li', { class: `count band-${band}`, 'data-band': band, 'data-count': n }, t('queue.count.band', { band: label('band', band), n }))));
  const total = Object.values(counts.pending).reduce((a, b) => a + b, 0);

  const filterForm = renderFilters(f, ctx, me);
  const tbody = h('tbody');
  const table = h('table', { class: 'list queue', 'data-testid': 'queue' },
    h('caption', { class: 'sr-only' }, t('queue.title')),
    h('thead', {}, h('tr', {},
      ['id', 'records', 'score', 'probability', 'band', 'source', 'status', 'assignee', 'actions']
        .map((c) => h('th', { scope: 'col', class: `col-${c}`,
          'aria-describedby': c === 'score' || c === 'probability' || c === 'band' ? 'numbers-help' : null }, t(`queue.col.${c}`))))),
    tbody);
  const more = h('button', { type: 'button', class: 'secondary', hidden: true }, t('more'));
  let cursor = null;
  const addRows = (items) => {
    for (const p of items) tbody.appendChild(row(p, ctx, me));
  };
  const setPage = (p) => {
    addRows(p.items);
    cursor = p.next_cursor;
    more.hidden = !cursor;
  };
  more.addEventListener('click', async () => {
    more.disabled = true;
    try {
      setPage(await api('GET', '/v1/proposals' + query({ ...f, limit: 50, cursor })));
    } catch (e) {
      ctx.announce(t('error', { message: errorMessage(e) }), 'error');
    } finally {
      more.disabled = false;
    }
  });
  setPage(page);

  replace(main,
    h('h1', {}, t('queue.title')),
    h('section', { class: 'card summary', 'aria-labelledby': 'counts-h' },
      h('h2', { id: 'counts-h' }, t('queue.counts'), ' ', h('span', { class: 'total', 'data-testid': 'pending-total' }, String(total))),
      countList),
    model ? estimates : null,
    filterForm,
    can('steward') ? renderBulk(ctx, f, model) : null,
    page.items.length ? [h('div', { class: 'table-wrap card flush' }, table), more] : h('p', { class: 'empty', 'data-testid': 'queue-empty' }, t('queue.empty')),
    numbersHelp(model));
}

/**
 * The band thresholds in use, as `GET /v1/model` reports them (`bands`,
 * or `GET /v1/model/bands` as `{ bands }`):
 * score (bits) and probability of each, and where they come from (the
 * rules file, or calibrated on the stewards' labels). Null without a model.
 */
export function bandThresholds(model) {
  const b = model && model.bands;
  if (b && Number.isFinite(b.match_score) && Number.isFinite(b.review_score)) {
    return { match: b.match_probability, matchScore: b.match_score, review: b.review_probability, reviewScore: b.review_score,
      source: b.source, labels: b.labels };
  }
  return null;
}

/**
 * What a score and a probability mean, and where the bands start: visible
 * text (not a tooltip), so that everyone can read it; the score,
 * probability and band columns and the proposal's figures point at it
 * with aria-describedby.
 */
export function numbersHelp(model, id = 'numbers-help') {
  const b = bandThresholds(model);
  return h('section', { class: 'card help', 'aria-labelledby': `${id}-h`, 'data-testid': 'numbers-help' },
    h('h2', { id: `${id}-h` }, t('numbers.title')),
    h('div', { id },
      h('p', {}, t('numbers.score')),
      h('p', {}, t('numbers.probability')),
      b
        ? h('p', { 'data-testid': 'bands', 'data-source': b.source }, t('numbers.bands', {
          match: percent(b.match), matchScore: formatNumber(b.matchScore),
          review: percent(b.review), reviewScore: formatNumber(b.reviewScore),
        }), ' ', b.source === 'labels' && b.labels ? t('numbers.bands.calibrated', { n: b.labels }) : t('numbers.bands.from_rules'))
        : h('p', { 'data-testid': 'bands' }, t('numbers.bands.none'))));
}

/** The estimates' card while they are counted. */
function pendingEstimates() {
  return h('section', { class: 'card summary', 'aria-labelledby': 'estimates-h', 'aria-busy': 'true', 'data-testid': 'estimates-pending' },
    h('h2', { id: 'estimates-h' }, t('estimates.title')),
    h('p', { class: 'hint' }, t('estimates.counting')));
}

/** What the stewards' labels say about the model in use: each estimate
 * with its 95% interval and the labels it is counted on. */
function renderEstimates(labels) {
  const line = (key, e) => h('li', { 'data-estimate': key },
    e ? t('estimates.value', {
      what: t(`estimates.${key}`), value: percent(e.value), low: percent(e.low), high: percent(e.high), n: e.n,
    }) : t('estimates.none', { what: t(`estimates.${key}`) }));
  return h('section', { class: 'card summary', 'aria-labelledby': 'estimates-h', 'data-testid': 'estimates' },
    h('h2', { id: 'estimates-h' }, t('estimates.title')),
    h('p', { class: 'hint' }, t('estimates.labels', { matches: labels.matches, non_matches: labels.non_matches })),
    h('ul', {}, ['merged_precision', 'auto_merge_precision', 'review_precision', 'auto_merge_recall', 'review_recall']
      .map((k) => line(k, labels[k]))));
}

function renderFilters(f, ctx, me) {
  const status = select('f-status', [['open', label('status', 'open')], ['deferred', label('status', 'deferred')],
    ['approved', label('status', 'approved')], ['rejected', label('status', 'rejected')],
    ['superseded', label('status', 'superseded')], ['', t('all')]], f.status);
  const band = select('f-band', [['', t('all')], ['review', label('band', 'review')], ['match', label('band', 'match')]], f.band);
  const source = select('f-source', [['', t('all')], ['batch', label('source', 'batch')], ['live', label('source', 'live')]], f.source);
  const assignee = h('input', { id: 'f-assignee', name: 'assignee', type: 'text', value: f.assignee, autocomplete: 'off' });
  const sort = select('f-sort', [['uncertainty', t('queue.sort.uncertainty')], ['informative', t('queue.sort.informative')], ['score', t('queue.sort.score')], ['id', t('queue.sort.id')]], f.sort);
  const apply = (over = {}) => {
    const next = { status: status.value, band: band.value, source: source.value, assignee: assignee.value.trim(), sort: sort.value, ...over };
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(next)) if (v !== '' || k === 'status') q.set(k, v);
    ctx.go('#/queue?' + q.toString());
  };
  for (const s of [status, band, source, sort]) s.addEventListener('change', () => apply());
  return h('form', { class: 'card filters', 'aria-labelledby': 'filters-h', onsubmit: (ev) => { ev.preventDefault(); apply(); } },
    h('h2', { id: 'filters-h', class: 'sr-only' }, t('queue.filters')),
    field(t('queue.status'), status),
    field(t('queue.band'), band),
    field(t('queue.source'), source),
    field(t('queue.assignee'), assignee),
    field(t('queue.sort'), sort),
    h('div', { class: 'field buttons' },
      h('button', { type: 'submit', class: 'secondary' }, t('queue.apply')),
      me ? h('button', { type: 'button', class: 'secondary', 'data-testid': 'my-queue', 'aria-pressed': f.assignee === me.name ? 'true' : 'false',
        onclick: () => apply({ assignee: f.assignee === me.name ? '' : me.name }) }, t('queue.mine')) : null));
}

function row(p, ctx, me) {
  const assigneeCell = h('td', { class: 'col-assignee' }, p.assignee || t('none'));
  const actions = h('td', { class: 'col-actions' },
    h('a', { class: 'button-link', href: `#/proposal/${encodeURIComponent(p.id)}`, 'aria-label': t('queue.open.label', { id: p.id }) }, t('queue.open')),
    h('a', { class: 'button-link', 'data-action': 'group', href: `#/group/${encodeURIComponent(p.id)}`, 'aria-label': t('queue.group.label', { id: p.id }) }, t('queue.group')));
  const pending = p.status === 'open' || p.status === 'deferred';
  if (can('steward') && pending) {
    const mine = p.assignee === me.name;
    const b = h('button', { type: 'button', class: 'secondary small', 'data-action': mine ? 'unassign' : 'claim',
      'aria-label': t(mine ? 'queue.unassign.label' : 'queue.claim.label', { id: p.id }) }, t(mine ? 'queue.unassign' : 'queue.claim'));
    b.addEventListener('click', async () => {
      b.disabled = true;
      try {
        const np = await api('POST', `/v1/proposals/${encodeURIComponent(p.id)}/assign`, { assignee: mine ? null : me.name, version: p.version });
        ctx.announce(t(mine ? 'queue.unassigned' : 'queue.claimed', { id: p.id, name: me.name }));
        tr.replaceWith(row(np, ctx, me));
      } catch (e) {
        ctx.announce(t('error', { message: errorMessage(e) }), 'error');
        b.disabled = false;
      }
    });
    actions.appendChild(b);
  }
  const tr = h('tr', { 'data-id': p.id, 'data-band': p.band, 'data-status': p.status, 'data-source': p.source },
    h('th', { scope: 'row', class: 'col-id' }, h('a', { href: `#/proposal/${encodeURIComponent(p.id)}` }, '#' + p.id)),
    h('td', { class: 'col-records' }, recordsCell(p)),
    h('td', { class: 'col-score num' }, formatNumber(p.score)),
    h('td', { class: 'col-probability num' }, percent(p.probability)),
    h('td', { class: 'col-band' }, h('span', { class: `badge band-${p.band}` }, label('band', p.band))),
    h('td', { class: 'col-source' }, label('source', p.source)),
    h('td', { class: 'col-status' }, h('span', { class: `badge status-${p.status}` }, label('status', p.status))),
    assigneeCell,
    actions);
  return tr;
}

/** Both records of a proposal: each one's name and key fields (masked
 * for viewers by the API), its id underneath. */
export function recordsCell(p) {
  const recs = p.records && p.records.length ? p.records : p.record_ids.map((id) => ({ id, name: '', fields: {} }));
  return h('ul', { class: 'pair' }, recs.map((r, i) => h('li', { class: 'rec', 'data-record': r.id },
    h('span', { class: 'side', 'aria-hidden': 'true' }, i === 0 ? 'A' : 'B'),
    h('span', { class: 'rec-name' }, r.name || t('queue.noname')),
    keyFields(r).map(([f, v]) => h('span', { class: 'rec-field', title: fieldName(f) }, v)),
    h('span', { class: 'rec-id' }, r.id))));
}

/** The fields that tell customers apart, besides the name: the contact
 * first (phone, e-mail, address), at most three. */
const KEY_ORDER = ['phone', 'email', 'address', 'postal_code', 'corporate_number', 'birth_date'];
function keyFields(r) {
  const held = Object.entries(r.fields || {}).filter(([, v]) => v);
  const rank = (f) => (KEY_ORDER.includes(f) ? KEY_ORDER.indexOf(f) : KEY_ORDER.length);
  const skip = new Set(['company_name', 'person_name', 'company_kana', 'person_kana']);
  return held.filter(([f]) => !skip.has(f)).sort((a, b) => rank(a[0]) - rank(b[0])).slice(0, 3);
}

function renderBulk(ctx, f, model) {
  // The default is the auto-merge threshold: what the rules would merge by
  // themselves, never below it.
  const b = bandThresholds(model);
  const dflt = b ? String(Math.round(b.matchScore * 100) / 100) : '';
  const min = h('input', { id: 'bulk-min', name: 'min_score', type: 'number', step: 'any', required: true, value: dflt, inputMode: 'decimal',
    'aria-describedby': 'numbers-help bulk-scope' });
  const result = h('div', { class: 'bulk-result', 'data-testid': 'bulk-result' });
  const submit = h('button', { type: 'submit', class: 'primary', 'data-testid': 'bulk-submit' }, t('bulk.submit'));
  // What the queue shows is what bulk approval takes: its band, source and
  // assignee filters (only open proposals are approved in any case).
  const scope = [
    f.band ? `${t('queue.band')}: ${label('band', f.band)}` : null,
    f.source ? `${t('queue.source')}: ${label('source', f.source)}` : null,
    f.assignee ? `${t('queue.assignee')}: ${f.assignee}` : null,
  ].filter(Boolean);
  return h('form', { class: 'card bulk', 'aria-labelledby': 'bulk-h', onsubmit: async (ev) => {
    ev.preventDefault();
    const minScore = Number(min.value);
    if (!Number.isFinite(minScore)) return;
    const body = { min_score: minScore, band: f.band || undefined, source: f.source || undefined, assignee: f.assignee || undefined };
    submit.disabled = true;
    try {
      const dry = await api('POST', '/v1/proposals/bulk-approve', { ...body, dry_run: true });
      if (dry.count === 0) {
        ctx.announce(t('bulk.nothing', { min: minScore }), 'info');
        return;
      }
      const ok = await confirmDialog({
        title: t('bulk.confirm.title'),
        message: t('bulk.confirm', { n: dry.count, min: minScore }),
        confirmLabel: t('bulk.confirm.ok', { n: dry.count }),
        cancelLabel: t('cancel'),
      });
      if (!ok) return;
      const done = await api('POST', '/v1/proposals/bulk-approve', body);
      await ctx.rerender();
      ctx.announce(t('bulk.done', { n: done.approved.length, skipped: done.skipped.length }), 'ok', { quiet: true });
      const target = document.querySelector('[data-testid=bulk-result]');
      if (target) replace(target, bulkResult(done));
    } catch (e) {
      ctx.announce(t('error', { message: errorMessage(e) }), 'error');
    } finally {
      submit.disabled = false;
    }
  } },
  h('h2', { id: 'bulk-h' }, t('bulk.title')),
  h('p', { class: 'hint', id: 'bulk-scope', 'data-testid': 'bulk-scope' },
    scope.length ? t('bulk.scope', { filters: scope.join('、') }) : t('bulk.scope.all'),
    b ? [' ', t('bulk.default', { score: formatNumber(b.matchScore) })] : null),
  h('div', { class: 'row' }, field(t('bulk.min'), min), h('div', { class: 'field buttons' }, submit)),
  result);
}

/** What a bulk approval did: the approved and the skipped proposals, as links. */
function bulkResult(done) {
  const links = (ids) => ids.length
    ? h('ul', { class: 'id-list' }, ids.map((id) => h('li', {}, h('a', { href: `#/proposal/${encodeURIComponent(id)}` }, '#' + id))))
    : h('p', { class: 'hint' }, t('none'));
  return h('div', { class: 'outcome ok', 'data-testid': 'bulk-done' },
    h('p', {}, t('bulk.done', { n: done.approved.length, skipped: done.skipped.length })),
    h('h3', {}, t('bulk.approved', { n: done.approved.length })),
    h('div', { 'data-testid': 'bulk-approved' }, links(done.approved)),
    h('h3', {}, t('bulk.skipped', { n: done.skipped.length })),
    h('div', { 'data-testid': 'bulk-skipped' }, links(done.skipped)),
    h('p', { class: 'hint' }, t('bulk.skipped.why')));
}
