// End-to-end test of the stewards' web page in headless Chromium.
//
//   node steward.mjs BASE_URL ADMIN_TOKEN STEWARD_TOKEN VIEWER_TOKEN
//
// BASE_URL is a `nayose serve --demo` started for this run (tests/ui_e2e.rs
// does that). Each flow is done through the page, then checked through the
// API with the same token. Every page the run visits is screenshotted to
// $E2E_SCREENSHOTS (default target/e2e-screenshots) and checked by axe-core
// (WCAG 2.0/2.1 A and AA): one violation fails the run. Exits non-zero with
// a message naming the flow and the check that failed.

import { chromium } from 'playwright-core';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { diffChars, similarity, diffWorthShowing, DIFF_MIN_SIMILARITY } from '../../ui/diff.js';

const here = dirname(fileURLToPath(import.meta.url));
const [base, ADMIN, STEWARD, VIEWER] = process.argv.slice(2);
if (!base || !ADMIN || !STEWARD || !VIEWER) {
  console.error('usage: node steward.mjs BASE_URL ADMIN_TOKEN STEWARD_TOKEN VIEWER_TOKEN');
  process.exit(2);
}
const shots = resolve(process.env.E2E_SCREENSHOTS || join(here, '..', '..', 'target', 'e2e-screenshots'));
mkdirSync(shots, { recursive: true });
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const started = Date.now();

// ---- small helpers -----------------------------------------------------------

let flow = 'start';
function check(cond, message) {
  if (!cond) throw new Error(`[${flow}] ${message}`);
}

async function api(method, path, token, body) {
  const init = { method, headers: { Authorization: `Bearer ${token}` } };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const r = await fetch(base + path, init);
  const text = await r.text();
  return { status: r.status, headers: r.headers, body: text ? JSON.parse(text) : null };
}

async function ok(method, path, token, body) {
  const r = await api(method, path, token, body);
  check(r.status >= 200 && r.status < 300, `${method} ${path}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/** Retry `f` (which throws while not yet true) for up to `ms`. */
async function eventually(f, ms = 15000) {
  const end = Date.now() + ms;
  for (;;) {
    try {
      return await f();
    } catch (e) {
      if (Date.now() > end) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

async function textOf(page, selector) {
  return (await page.locator(selector).first().textContent({ timeout: 15000 })) || '';
}

async function expectText(page, selector, needle) {
  await eventually(async () => {
    const s = await textOf(page, selector);
    check(s.includes(needle), `${selector} should contain ${JSON.stringify(needle)}, has ${JSON.stringify(s)}`);
  });
}

async function heading(page, text) {
  await expectText(page, 'main h1', text);
}

// axe-core, evaluated in the page through the DevTools protocol (the page's
// CSP forbids inline scripts, and rightly: the check must not loosen it).
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
const axed = [];

/** axe-core on the page as it is now: 0 violations, or the run fails. */
async function a11y(page, name) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(AXE);
  const violations = await page.evaluate(async (tags) => {
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ')) }));
  }, AXE_TAGS);
  check(violations.length === 0, `axe-core on ${name}: ${JSON.stringify(violations, null, 1)}`);
  axed.push(name);
}

/** axe-core itself: a picture without a text alternative must be found,
 * or a run of 0 violations would prove nothing. */
async function axeCanFail(page) {
  flow = 'axe-core finds a violation';
  await page.evaluate(() => {
    const img = document.createElement('img');
    img.id = 'axe-probe';
    img.src = '/ui/favicon.svg';
    document.body.appendChild(img);
  });
  let found = '';
  try {
    await a11y(page, 'probe');
  } catch (e) {
    found = String(e.message);
  }
  await page.evaluate(() => document.getElementById('axe-probe').remove());
  check(found.includes('image-alt') && found.includes('#axe-probe'), `axe-core did not report the probe: ${found || 'no violation'}`);
}

/** A screenshot of the page, and axe-core on it. */
async function shot(page, name) {
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
  await a11y(page, name);
}

/** The tab's title, once the page has set it. */
async function expectTitle(page, title) {
  await eventually(async () => {
    const now = await page.title();
    check(now === title, `document.title should be ${JSON.stringify(title)}, is ${JSON.stringify(now)}`);
  });
}

/** A number as the page writes it in Japanese (2 decimals). */
function ja2(n) {
  return Number(n).toLocaleString('ja-JP', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}

/** A probability as the page writes it in Japanese. */
function jaPercent(p) {
  return (p * 100).toLocaleString('ja-JP', { maximumFractionDigits: 1 }) + '%';
}

async function signIn(page, token, name) {
  await page.goto(base + '/#/queue');
  await page.locator('#token').waitFor();
  await page.fill('#token', token);
  await page.click('form.signin button[type=submit]');
  await eventually(async () => check((await textOf(page, '[data-testid=who]')) === name, `signed in as ${name}`));
}

async function signOut(page) {
  await page.click('#signout');
  await page.locator('#token').waitFor();
}

// ---- the flows -----------------------------------------------------------------

function unitDiff() {
  flow = 'diff.js';
  const changed = (runs) => runs.filter((r) => !r.same).map((r) => r.text);
  let [a, b] = diffChars('髙橋', '高橋');
  check(changed(a).join() === '髙' && changed(b).join() === '高', 'variant kanji is one changed character');
  [a, b] = diffChars('(株)ABC商事', '株式会社ABC商事');
  check(changed(a).join('|') === '(|)', `(株): ${JSON.stringify(a)}`);
  check(changed(b).join('|') === '式会社', `株式会社: ${JSON.stringify(b)}`);
  [a, b] = diffChars('', 'x');
  check(a.length === 0 && changed(b).join() === 'x', 'empty side');
  [a, b] = diffChars('𠮷野家', '吉野家');
  check(changed(a).join() === '𠮷' && changed(b).join() === '吉', 'a surrogate pair is one character');
  // When a character diff means something: edit similarity over code points.
  check(similarity('abc', 'abc') === 1, 'equal values are 1');
  check(Math.abs(similarity('kitten', 'sitting') - (1 - 3 / 7)) < 1e-12, `kitten/sitting: ${similarity('kitten', 'sitting')}`);
  check(similarity('𠮷野家', '吉野家') === 1 - 1 / 3, 'a surrogate pair counts once');
  check(similarity('', 'x') === 0 && similarity('', '') === 1, 'empty sides');
  check(DIFF_MIN_SIMILARITY === 0.5, 'the rule is 0.5');
  check(!diffWorthShowing('rkinoshita759', 'toshio.ueda89'), 'unrelated e-mail local parts are shown plain');
  check(!diffWorthShowing('岡山事業所', '四国支社'), 'unrelated branches are shown plain');
  check(diffWorthShowing('髙橋悠真', '高橋悠真'), 'a variant kanji is marked');
  check(diffWorthShowing('(株)ABC商事', '株式会社ABC商事'), 'a legal form written two ways is marked');
  check(diffWorthShowing('abcd', 'abxy') && !diffWorthShowing('abcd', 'axyz'), 'the threshold is inclusive at 0.5');
  check(!diffWorthShowing('山＊＊＊', '山＊＊＊＊'), 'masked values are never marked');
  check(!diffWorthShowing('', 'x') && !diffWorthShowing(null, 'x'), 'a missing side is not marked');
}

/** Every compared row of a proposal page: marks only where the two values
 * are alike enough (diff.js), never on a masked value. Returns how many rows
 * were marked and how many shown plain although they differ. */
async function checkDiffMarks(page, d) {
  let marked = 0;
  let plain = 0;
  for (const f of d.fields) {
    const [va, vb] = f.values;
    // The compared values' marks (the raw values below them have their own).
    const row = f.part ? `${f.field}.${f.part}` : f.field;
    const n = await page.locator(`[data-testid=compare] tr[data-field="${row}"] td.value mark.diff`)
      .evaluateAll((marks) => marks.filter((m) => !m.closest('.raw')).length);
    const should = va !== vb && diffWorthShowing(va, vb);
    check(should ? n > 0 : n === 0, `${row}: ${JSON.stringify(va)} / ${JSON.stringify(vb)} (similarity ${similarity(va, vb).toFixed(2)}) has ${n} marks`);
    if (should) marked += 1;
    else if (va && vb && va !== vb) plain += 1;
  }
  const onMask = await page.locator('[data-testid=compare] td.value').evaluateAll((cells) =>
    cells.filter((c) => c.querySelector('mark') && c.textContent.includes('＊')).length);
  check(onMask === 0, `${onMask} cells mark a masked value`);
  return { marked, plain };
}

async function headers() {
  flow = 'assets';
  for (const [path, type] of [['/', 'text/html'], ['/ui/app.js', 'text/javascript'], ['/ui/app.css', 'text/css']]) {
    const r = await fetch(base + path);
    check(r.status === 200, `${path}: ${r.status}`);
    check((r.headers.get('content-type') || '').startsWith(type), `${path} content-type ${r.headers.get('content-type')}`);
    const csp = r.headers.get('content-security-policy') || '';
    check(csp.includes("default-src 'self'") && !csp.includes('unsafe-inline'), `${path} CSP: ${csp}`);
    check(r.headers.get('x-content-type-options') === 'nosniff', `${path} nosniff`);
  }
}

async function signInFlow(page) {
  flow = 'sign in';
  await page.goto(base + '/');
  await page.locator('#token').waitFor();
  check(await page.locator('label[for=token]').count() === 1, 'the token field has a label');
  check(!(await page.locator('#signout').isVisible()), 'no sign-out button before signing in');
  await expectTitle(page, 'サインイン — 名寄せ');
  await page.fill('#token', 'nyt_not_a_token');
  await page.click('form.signin button[type=submit]');
  await expectText(page, '#signin-error', 'サインインできません: API トークンが正しくないか、無効になっています。');
  const said = await textOf(page, '#signin-error');
  check(!/[a-z]{3,}/.test(said), `the sign-in error is all Japanese: ${said}`);
  await shot(page, 'signin-error');
  await page.fill('#token', STEWARD);
  await page.click('form.signin button[type=submit]');
  await heading(page, '審査キュー');
  await expectTitle(page, '審査キュー — 名寄せ');
  check((await textOf(page, '[data-testid=who]')) === 'stella', 'the header names the steward');
  const stored = await page.evaluate(() => [sessionStorage.getItem('nayose.token'), document.cookie, localStorage.getItem('nayose.token')]);
  check(stored[0] === STEWARD && stored[1] === '' && stored[2] === null, 'the token is in sessionStorage only');
}

async function queueFlow(page) {
  flow = 'queue';
  const counts = await ok('GET', '/v1/proposals/counts', STEWARD);
  const total = Object.values(counts.pending).reduce((a, b) => a + b, 0);
  check(total > 5, `the demo should leave proposals to review: ${JSON.stringify(counts)}`);
  await expectText(page, '[data-testid=pending-total]', String(total));
  // The model as the labels see it: the counts are the API's.
  const model = await ok('GET', '/v1/model', STEWARD);
  await expectText(page, '[data-testid=estimates] p', `一致 ${model.labels.matches} 件・不一致 ${model.labels.non_matches} 件`);
  check(await page.locator('[data-testid=estimates] li').count() === 5, 'five estimates on the queue page');
  // No audit answer yet: the merged pairs' precision says so rather than a number.
  await expectText(page, '[data-testid=estimates] li[data-estimate=merged_precision]',
    model.labels.merged_precision ? '95%' : 'まだありません');
  for (const [band, n] of Object.entries(counts.pending)) {
    const shown = await page.locator(`[data-testid=counts] li[data-band=${band}]`).getAttribute('data-count');
    check(Number(shown) === n, `count for ${band}: page ${shown}, API ${n}`);
  }
  // Default order: most uncertain first, like the API's.
  const api1 = await ok('GET', '/v1/proposals?status=open&sort=uncertainty&limit=50', STEWARD);
  await eventually(async () => {
    const first = await page.locator('[data-testid=queue] tbody tr').first().getAttribute('data-id');
    check(first === api1.items[0].id, `first row ${first}, API ${api1.items[0].id}`);
  });
  check(!(await page.locator('main button:text-is("さらに表示")').isVisible()) || api1.next_cursor, '"more" only when there is more');
  // What the numbers mean: units in the headings, visible help that the
  // score and probability columns point at, and the band thresholds.
  await expectText(page, '[data-testid=queue] th.col-score', 'ビット');
  for (const col of ['score', 'probability']) {
    const ref = await page.locator(`[data-testid=queue] th.col-${col}`).getAttribute('aria-describedby');
    check(ref && (await page.locator(`#${ref}`).count()) === 1, `th.col-${col} is described by #${ref}`);
    check((await textOf(page, `#${ref}`)).includes('log2'), `#${ref} explains the score`);
  }
  check(await page.locator('[data-testid=numbers-help]').isVisible(), 'the help is visible text');
  const bandsText = await textOf(page, '[data-testid=bands]');
  // The thresholds the server reports (GET /v1/model `bands`), in bits and %.
  const bands = model.bands;
  check(bands && Number.isFinite(bands.match_score), `GET /v1/model has bands: ${JSON.stringify(bands)}`);
  check(bandsText.includes(jaPercent(bands.match_probability)) && bandsText.includes(jaPercent(bands.review_probability)), `bands: ${bandsText}`);
  check(bandsText.includes(`${ja2(bands.match_score)} ビット`) && bandsText.includes(`${ja2(bands.review_score)} ビット`), `thresholds in bits: ${bandsText}`);
  check(await page.locator('[data-testid=bands]').getAttribute('data-source') === bands.source, 'where the thresholds come from');
  // Each row names both records (display names and key fields), as the API's items.
  for (const item of api1.items.slice(0, 5)) {
    const names = await page.locator(`[data-testid=queue] tbody tr[data-id="${item.id}"] .col-records .rec`).evaluateAll((lis) =>
      lis.map((li) => [li.dataset.record, li.querySelector('.rec-name').textContent]));
    check(item.records.length === 2, `proposal ${item.id} carries both records: ${JSON.stringify(item.records)}`);
    check(JSON.stringify(names) === JSON.stringify(item.records.map((r) => [r.id, r.name || '(名前なし)'])), `row ${item.id}: ${JSON.stringify(names)} vs ${JSON.stringify(item.records.map((r) => [r.id, r.name]))}`);
    check(item.records.some((r) => r.name), `proposal ${item.id} has a display name`);
  }
  await shot(page, 'queue');
  // Filters: band and order.
  await page.selectOption('#f-band', 'review');
  await page.selectOption('#f-sort', 'score');
  const api2 = await ok('GET', '/v1/proposals?status=open&band=review&sort=score&limit=50', STEWARD);
  await eventually(async () => {
    const ids = await page.locator('[data-testid=queue] tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.id));
    const bands = await page.locator('[data-testid=queue] tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.band));
    check(JSON.stringify(ids) === JSON.stringify(api2.items.map((p) => p.id)), `filtered rows ${ids} vs API ${api2.items.map((p) => p.id)}`);
    check(bands.every((b) => b === 'review'), 'only the review band');
  });
  // Most informative first: the API's order too.
  await page.selectOption('#f-sort', 'informative');
  const api3 = await ok('GET', '/v1/proposals?status=open&band=review&sort=informative&limit=50', STEWARD);
  await eventually(async () => {
    const ids = await page.locator('[data-testid=queue] tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.id));
    check(JSON.stringify(ids) === JSON.stringify(api3.items.map((p) => p.id)), `informative rows ${ids} vs API ${api3.items.map((p) => p.id)}`);
  });
  await page.selectOption('#f-sort', 'score');
  await eventually(async () => {
    const ids = await page.locator('[data-testid=queue] tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.id));
    check(JSON.stringify(ids) === JSON.stringify(api2.items.map((p) => p.id)), 'back to the score order');
  });
  // Claim the first row, then "mine".
  const row = page.locator('[data-testid=queue] tbody tr').first();
  const claimed = await row.getAttribute('data-id');
  await row.locator('button[data-action=claim]').click();
  await eventually(async () => {
    const cell = await page.locator(`[data-testid=queue] tbody tr[data-id="${claimed}"] .col-assignee`).textContent();
    check(cell === 'stella', `assignee cell: ${cell}`);
  });
  const p = await ok('GET', `/v1/proposals/${claimed}`, STEWARD);
  check(p.assignee === 'stella', `API assignee: ${p.assignee}`);
  // My queue: the assignee is the signed-in steward (GET /v1/me).
  const me = await ok('GET', '/v1/me', STEWARD);
  await page.click('[data-testid=my-queue]'); // 自分の担当
  await eventually(async () => {
    check(new URLSearchParams(page.url().split('?')[1]).get('assignee') === me.name, `my queue in the URL: ${page.url()}`);
    const ids = await page.locator('[data-testid=queue] tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.id));
    check(ids.length === 1 && ids[0] === claimed, `mine: ${ids}`);
  });
  check(await page.locator('[data-testid=my-queue]').getAttribute('aria-pressed') === 'true', 'my queue is shown as on');
  await shot(page, 'queue-mine');
  // Back to the default queue (what "next" follows).
  await page.goto(base + '/#/queue?status=open&sort=uncertainty');
  await heading(page, '審査キュー');
}

/** An open proposal with a field that differs, where the merged record would keep A's value. */
async function proposalWithChoice(exclude = []) {
  const list = await ok('GET', '/v1/proposals?status=open&sort=uncertainty&limit=100', STEWARD);
  for (const p of list.items) {
    if (exclude.includes(p.id)) continue;
    const d = await ok('GET', `/v1/proposals/${p.id}`, STEWARD);
    const f = d.fields.find((x) => !x.same && x.values[0] && x.values[1] && d.proposed_golden[x.field]?.record_id === d.records[0].id);
    if (f) return { d, f };
  }
  throw new Error(`[${flow}] no open proposal with a differing field`);
}

async function approveFlow(page) {
  flow = 'approve with a chosen winner';
  const { d, f } = await proposalWithChoice();
  const [a, b] = d.records;
  await page.goto(`${base}/#/proposal/${d.id}`);
  await heading(page, `提案 #${d.id}`);
  await expectTitle(page, `提案 #${d.id} — 名寄せ`);
  await checkDiffMarks(page, d);
  const bars = await page.locator('[data-testid=bars] li').count();
  const weighed = d.explanation.terms.filter((x) => x.weight !== 0).length;
  check(bars === weighed + 1, `one bar per weighing term and the prior: ${bars}, expected ${weighed + 1}`);
  await numbersOnProposal(page, d);
  await levelsInJapanese(page, d);
  for (const key of ['A', 'R', 'D', 'N']) {
    check(await page.locator(`.decision button kbd:text-is("${key}")`).count() === 1, `the ${key} shortcut is shown`);
  }
  const radio = page.locator(`input[type=radio][data-field="${f.field}"][data-side=B]`);
  check(await radio.isChecked() === false, 'B is not the proposed winner');
  await page.click(`label[for="${await radio.getAttribute('id')}"]`);
  check(await radio.isChecked(), 'the radio is checked through its label');
  await expectText(page, `td.golden[data-field="${f.field}"]`, f.values[1]);
  await shot(page, 'proposal');
  // A comment: listed on the page, kept by the API (oldest first).
  flow = 'comments';
  await page.locator('[data-testid=comments-empty]').waitFor();
  await page.fill('#comment-text', '電話番号が同じ。担当者の異動と思われる');
  await page.click('[data-testid=comment-submit]');
  await expectText(page, '[data-testid=comments] li', '電話番号が同じ。担当者の異動と思われる');
  await expectText(page, '[data-testid=comments] .comment-meta', 'stella');
  const withComment = await ok('GET', `/v1/proposals/${d.id}`, STEWARD);
  check(withComment.comments.length === 1 && withComment.comments[0].text === '電話番号が同じ。担当者の異動と思われる'
    && withComment.comments[0].actor === 'stella', `the API keeps the comment: ${JSON.stringify(withComment.comments)}`);
  await shot(page, 'proposal-comment');
  flow = 'approve with a chosen winner';
  // The winner chosen before the comment is still chosen (the page kept it).
  if (!(await radio.isChecked())) await page.click(`label[for="${await radio.getAttribute('id')}"]`);
  await page.click('.decision button[data-action=approve]');
  await expectText(page, '[data-testid=outcome]', '承認しました');
  await expectText(page, '#status', '承認しました');
  await expectText(page, '[data-testid=proposal-status]', '承認済み');
  await outcomeShownOnce(page, '承認しました');
  check(await page.locator('.decision button[data-action=approve]').count() === 0, 'no approve button once decided');
  // Through the API: approved, and the steward's winner is the golden value.
  const after = await ok('GET', `/v1/proposals/${d.id}`, STEWARD);
  check(after.status === 'approved', `status ${after.status}`);
  const xa = await ok('GET', `/v1/records/${a.id}/entity`, STEWARD);
  const xb = await ok('GET', `/v1/records/${b.id}/entity`, STEWARD);
  check(xa.entity_id === xb.entity_id, 'both records are in one entity');
  const e = await ok('GET', `/v1/entities/${xa.entity_id}`, STEWARD);
  const g = e.golden[f.field];
  check(g.record_id === b.id && g.rule === 'manual' && g.value === f.values[1], `golden ${f.field}: ${JSON.stringify(g)}`);
  return { entity: xa.entity_id, a: a.id, b: b.id, approved: d.id };
}

/** The score and probability with their units, pointing at the help. */
async function numbersOnProposal(page, d) {
  await expectText(page, '[data-testid=score]', `スコア ${ja2(d.score)} ビット`);
  await expectText(page, '[data-testid=probability]', `確率 ${jaPercent(d.probability)}`);
  for (const el of ['score', 'probability', 'total']) {
    const ref = await page.locator(`[data-testid=${el}]`).getAttribute('aria-describedby');
    check(ref && (await page.locator(`#${ref}`).count()) === 1, `[data-testid=${el}] is described by #${ref}`);
    check((await textOf(page, `#${ref}`)).includes('ビット'), `#${ref} says what a bit is`);
  }
  await expectText(page, '[data-testid=total]', `スコア ${ja2(d.score)} ビット`);
  await expectText(page, '[data-testid=total]', jaPercent(d.probability));
  check(await page.locator('[data-testid=numbers-help]').isVisible(), 'the help is visible on the proposal');
  // The thresholds from GET /v1/model/bands, the same as the model's.
  const bands = await ok('GET', '/v1/model/bands', STEWARD);
  const model = await ok('GET', '/v1/model', STEWARD);
  check(JSON.stringify(bands) === JSON.stringify(model.bands), `GET /v1/model/bands: ${JSON.stringify(bands)}`);
  const text = await textOf(page, '[data-testid=bands]');
  check(text.includes(jaPercent(bands.match_probability)) && text.includes(`${ja2(bands.review_score)} ビット`), `bands on the proposal: ${text}`);
  check(await page.locator('[data-testid=bands]').getAttribute('data-source') === bands.source, 'where the proposal\'s thresholds come from');
}

// What the page must say for each level label of src/matching/compare.rs.
const LEVELS_JA = {
  exact: '一致', close: '近い', similar: '似ている', different: '相違', same: '同じ', one_sided: '片方のみ',
  missing: '片方または両方が空', given_only: '名のみ一致', surname_only: '姓のみ一致', same_town: '町域まで一致',
  same_city: '市区町村まで一致', same_prefecture: '都道府県のみ一致', same_block: '番地まで一致',
};

/** Explanation levels and comparison names in Japanese, not the API's labels. */
async function levelsInJapanese(page, d) {
  const terms = await page.locator('[data-testid=bars] li[data-level]').evaluateAll((lis) => lis.map((li) => ({
    level: li.dataset.level, comparison: li.dataset.comparison,
    name: li.querySelector('.term-name').firstChild.textContent, detail: li.querySelector('.term-detail').textContent,
  })));
  check(terms.length === d.explanation.terms.filter((x) => x.weight !== 0).length, 'every weighing term has its level');
  for (const x of terms) {
    check(x.detail !== x.level && !/[a-z]{2,}/.test(x.detail), `level ${x.level} shown as ${JSON.stringify(x.detail)}`);
    if (LEVELS_JA[x.level]) check(x.detail === LEVELS_JA[x.level], `level ${x.level}: ${x.detail}, expected ${LEVELS_JA[x.level]}`);
    check(!x.name.includes(':') && !/(branch|legal_form)/.test(x.name), `comparison ${x.comparison} shown as ${x.name}`);
  }
  const zero = await page.locator('[data-testid=zero-terms]').count() ? await textOf(page, '[data-testid=zero-terms]') : '';
  check(!/[a-z]{2,}/.test(zero), `weightless terms in Japanese: ${zero}`);
}

/** A decision's outcome is on the page once: the status line says it to
 * screen readers only (visually hidden), not a second time on screen. */
async function outcomeShownOnce(page, needle) {
  check((await textOf(page, '[data-testid=outcome]')).includes(needle), 'the outcome is on the page');
  await eventually(async () => check((await textOf(page, '#status')).includes(needle), 'the status line says it'));
  const box = await page.locator('#status').boundingBox();
  check(box && box.width <= 1 && box.height <= 1, `the status line is not shown a second time: ${JSON.stringify(box)}`);
  const visible = await page.evaluate((t) => [...document.querySelectorAll('body *')]
    .filter((el) => [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.includes(t)))
    .filter((el) => { const r = el.getBoundingClientRect(); return r.width > 1 && r.height > 1; }).length, needle);
  check(visible === 1, `the outcome "${needle}" is shown ${visible} times`);
}

/** Marks where values are alike, plain text where they are not: on a
 * proposal with an unrelated pair of values and one with a close pair. */
async function diffFlow(page) {
  flow = 'character diff only where it means something';
  const list = await ok('GET', '/v1/proposals?status=open&sort=uncertainty&limit=100', STEWARD);
  const differing = (d) => d.fields.filter((f) => f.values[0] && f.values[1] && f.values[0] !== f.values[1]);
  let plain = null;
  let marked = null;
  for (const p of list.items) {
    if (plain && marked) break;
    const d = await ok('GET', `/v1/proposals/${p.id}`, STEWARD);
    if (!plain && differing(d).some((f) => !diffWorthShowing(...f.values))) plain = d;
    if (!marked && differing(d).some((f) => diffWorthShowing(...f.values))) marked = d;
  }
  check(plain && marked, 'the demo has open proposals with unrelated and with close values');
  for (const d of [plain, marked]) {
    await page.goto(`${base}/#/proposal/${d.id}`);
    await heading(page, `提案 #${d.id}`);
    await page.locator('[data-testid=compare]').waitFor();
    const n = await checkDiffMarks(page, d);
    check(d === plain ? n.plain > 0 : n.marked > 0, `proposal ${d.id}: ${JSON.stringify(n)}`);
  }
  await shot(page, 'proposal-diff');
  // A company's branch is its own row, and says when the branches differ.
  let branched = null;
  for (const p of list.items) {
    const d = await ok('GET', `/v1/proposals/${p.id}`, STEWARD);
    if (d.fields.some((f) => f.part === 'branch')) { branched = d; break; }
  }
  check(branched, 'the demo has an open proposal with a branch');
  await page.goto(`${base}/#/proposal/${branched.id}`);
  await page.locator('[data-testid=compare]').waitFor();
  for (const f of branched.fields.filter((x) => x.part === 'branch')) {
    const tag = await textOf(page, `[data-testid=compare] tr[data-field="${f.field}.branch"] th .tag`);
    check(tag === (f.same ? '一致' : '相違'), `branch row of ${branched.id} says ${tag}, same=${f.same}`);
  }
  await shot(page, 'proposal-branch');
}

async function rejectFlow(page, approved) {
  flow = 'next (n) and reject';
  await page.keyboard.press('n');
  await eventually(async () => {
    const m = /#\/proposal\/(\d+)/.exec(page.url());
    check(m && m[1] !== approved, `n moves to another proposal: ${page.url()}`);
  });
  await page.locator('.decision button[data-action=reject]').waitFor();
  const id = /#\/proposal\/(\d+)/.exec(page.url())[1];
  await heading(page, `#${id}`);
  await page.fill('#reason', '別法人(支店違い)');
  await page.click('.decision button[data-action=reject]');
  await expectText(page, '[data-testid=outcome]', '却下しました');
  const p = await ok('GET', `/v1/proposals/${id}`, STEWARD);
  check(p.status === 'rejected' && p.reason === '別法人(支店違い)', `API: ${p.status} ${p.reason}`);
  return id;
}

async function keyboardFlow(page, rejected) {
  flow = 'keyboard approve (a)';
  await page.keyboard.press('n');
  await eventually(async () => {
    const m = /#\/proposal\/(\d+)/.exec(page.url());
    check(m && m[1] !== rejected, `n moves on: ${page.url()}`);
  });
  const id = /#\/proposal\/(\d+)/.exec(page.url())[1];
  await heading(page, `#${id}`);
  await page.locator('.decision button[data-action=approve]').waitFor();
  await page.keyboard.press('a');
  await expectText(page, '[data-testid=outcome]', '承認しました');
  const p = await ok('GET', `/v1/proposals/${id}`, STEWARD);
  check(p.status === 'approved' && p.decided_by === 'stella', `API: ${p.status} by ${p.decided_by}`);
  // A stale page gets the 409's news, not a silent overwrite.
  flow = 'conflict (409)';
  const other = (await ok('GET', '/v1/proposals?status=open&sort=uncertainty&limit=1', STEWARD)).items[0];
  await page.goto(`${base}/#/proposal/${other.id}`);
  await page.locator('.decision button[data-action=approve]').waitFor();
  await ok('POST', `/v1/proposals/${other.id}/defer`, ADMIN, { version: other.version });
  await page.click('.decision button[data-action=approve]');
  await expectText(page, '[data-testid=outcome]', '保留');
  const still = await ok('GET', `/v1/proposals/${other.id}`, STEWARD);
  check(still.status === 'deferred', `the other steward's defer stands: ${still.status}`);
}

async function bulkFlow(page) {
  flow = 'bulk approve (the filters shown, the auto-merge default, what it did)';
  const model = await ok('GET', '/v1/model', STEWARD);
  // The queue as shown: the review band only. Bulk approval takes that filter.
  await page.goto(base + '/#/queue?status=open&band=review&sort=score');
  await heading(page, '審査キュー');
  await expectText(page, '[data-testid=bulk-scope]', '帯: 要審査');
  const dflt = Number(await page.locator('#bulk-min').inputValue());
  check(Math.abs(dflt - model.bands.match_score) < 0.006, `the default minimum is the auto-merge threshold: ${dflt} vs ${model.bands.match_score}`);
  const open = (await ok('GET', '/v1/proposals?status=open&band=review&sort=score&limit=500', STEWARD)).items;
  check(open.length >= 4, `open review proposals left: ${open.length}`);
  const threshold = open[Math.floor(open.length / 2)].score;
  const expected = open.filter((p) => p.score >= threshold).length;
  const otherBands = (await ok('GET', `/v1/proposals?status=open&min_score=${threshold}&limit=500`, STEWARD)).items.filter((p) => p.band !== 'review');
  await page.fill('#bulk-min', String(threshold));
  const sent = [];
  const onRequest = (r) => { if (r.url().endsWith('/v1/proposals/bulk-approve')) sent.push(JSON.parse(r.postData() || '{}')); };
  page.on('request', onRequest);
  await page.click('[data-testid=bulk-submit]');
  await page.locator('dialog[open]').waitFor();
  const message = await textOf(page, '[data-testid=confirm-message]');
  check(message.includes(`${expected} 件`), `the confirmation names ${expected}: ${message}`);
  check(message.includes('ビット以上'), `the confirmation gives the score's unit: ${message}`);
  check((await textOf(page, 'label[for=bulk-min]')).includes('ビット'), 'the minimum score has its unit');
  check((await page.locator('#bulk-min').getAttribute('aria-describedby')).split(' ').includes('numbers-help'), 'the minimum score points at the help');
  await shot(page, 'bulk-confirm');
  await page.click('[data-testid=confirm-ok]');
  await page.locator('[data-testid=bulk-done]').waitFor();
  page.off('request', onRequest);
  check(sent.length === 2 && sent.every((b) => b.band === 'review' && b.min_score === threshold), `the filters shown were sent: ${JSON.stringify(sent)}`);
  const left = (await ok('GET', `/v1/proposals?status=open&band=review&min_score=${threshold}&limit=500`, STEWARD)).items;
  check(left.length === 0, `open at or above ${threshold} after bulk: ${left.length}`);
  // Other bands were left alone.
  for (const p of otherBands) {
    const now = await ok('GET', `/v1/proposals/${p.id}`, STEWARD);
    check(now.status === p.status || now.status === 'superseded', `proposal ${p.id} of band ${p.band} untouched: ${now.status}`);
  }
  // The page lists what it approved and what it skipped, as links; the API agrees.
  const listed = async (which) => page.locator(`[data-testid=bulk-${which}] a`).evaluateAll((as) => as.map((a) => a.getAttribute('href').split('/').pop()));
  const approved = await listed('approved');
  const skipped = await listed('skipped');
  check(approved.length + skipped.length === expected, `approved ${approved.length} + skipped ${skipped.length} = ${expected}`);
  for (const id of approved) check((await ok('GET', `/v1/proposals/${id}`, STEWARD)).status === 'approved', `listed as approved: ${id}`);
  for (const id of skipped) check((await ok('GET', `/v1/proposals/${id}`, STEWARD)).status !== 'open', `listed as skipped: ${id}`);
  const mine = (await ok('GET', `/v1/audit?action=proposal.approve&actor=stella&limit=1000`, STEWARD)).items
    .filter((x) => (x.reason || '').startsWith('bulk approval'));
  check(mine.length === approved.length, `one audit entry per bulk approval: ${mine.length} vs ${approved.length}`);
  await expectText(page, '#status', `${approved.length} 件を承認しました`);
  await shot(page, 'bulk-done');
}

/** An entity as it stands, without its history (which an undo lengthens). */
async function entityState(id) {
  const e = await ok('GET', `/v1/entities/${id}`, STEWARD);
  return JSON.stringify({ id: e.id, golden: e.golden, members: e.members.map((m) => [m.id, m.entity_id, m.fields]) });
}

/** Confirm the undo dialog of a decided proposal page. */
async function undoOnPage(page, reason) {
  await page.click('.decision button[data-action=reopen]');
  await page.locator('dialog[open]').waitFor();
  if (reason) await page.fill('#undo-reason', reason);
  await page.click('[data-testid=confirm-ok]');
}

async function shapeFlow(page) {
  flow = 'shape the golden record: a typed value, its warning, kept with who and why';
  const open = (await ok('GET', '/v1/proposals?status=open&limit=500', STEWARD)).items;
  const alone = (p) => !open.some((x) => x.id !== p.id && x.records.some((r) => p.records.some((s) => s.entity_id === r.entity_id)));
  let d = null;
  for (const p of open.filter(alone)) {
    const x = await ok('GET', `/v1/proposals/${p.id}`, STEWARD);
    const g = x.proposed_golden;
    if (g.address && g.postal_code && !g.address.value.includes('千代田区') && x.warnings.length === 0) { d = x; break; }
  }
  check(d, 'the demo has a proposal alone in its group with an address outside 千代田区');
  const ents = [...new Set(d.records.map((r) => r.entity_id))];
  const before = await Promise.all(ents.map(entityState));
  await page.goto(`${base}/#/proposal/${d.id}`);
  await heading(page, `提案 #${d.id}`);
  const typed = page.locator('[data-testid=compare] input.typed[data-field=postal_code]');
  await typed.fill('100-0001');
  await typed.press('Tab');
  await expectText(page, '[data-testid=warnings]', '食い違っています');
  await expectText(page, '[data-testid=compare] td.golden[data-field=postal_code]', '100-0001');
  // A phone from far away (北海道 and 沖縄県 border no prefecture) is warned about too.
  const far = d.proposed_golden.address.value.startsWith('沖縄') ? ['011-211-2111', '北海道'] : ['098-866-2333', '沖縄県'];
  const phone = page.locator('[data-testid=compare] input.typed[data-field=phone]');
  await phone.fill(far[0]);
  await phone.press('Tab');
  await expectText(page, '[data-testid=warnings] li[data-code=phone_area_mismatch]', `は${far[1]}の`);
  await shot(page, 'proposal-typed-warning');
  await page.fill('#reason', '本人に電話で確認');
  await page.click('.decision button[data-action=approve]');
  await expectText(page, '[data-testid=outcome]', '承認しました');
  const entity = (await ok('GET', `/v1/records/${d.record_ids[0]}/entity`, STEWARD)).entity_id;
  const e = await ok('GET', `/v1/entities/${entity}`, STEWARD);
  check(e.manual?.postal_code?.value === '100-0001' && e.manual.postal_code.by === 'stella', `typed value kept with who: ${JSON.stringify(e.manual)}`);
  check(e.golden.postal_code.rule === 'typed', 'the golden record takes the typed value');
  check(e.warnings.some((w) => w.code === 'postal_code_mismatch'), 'the entity warns too');
  check(e.warnings.some((w) => w.code === 'phone_area_mismatch'), 'the entity warns about the phone');
  await page.goto(`${base}/#/entity/${entity}`);
  await expectText(page, 'main', '手入力');
  await expectText(page, '[data-testid=warnings]', '市外局番');
  await shot(page, 'entity-typed');
  // Undone: the entities, golden records included, are as they were.
  const now = await ok('GET', `/v1/proposals/${d.id}`, STEWARD);
  await ok('POST', `/v1/proposals/${d.id}/reopen`, STEWARD, { version: now.version });
  const after = await Promise.all(ents.map(entityState));
  check(JSON.stringify(before) === JSON.stringify(after), 'undo gave the typed value back');
}

async function undoFlow(page) {
  flow = 'undo an approval (entities restored exactly)';
  // A proposal with another open proposal on one of its customers: after
  // approving both, the first can no longer be undone (409).
  const open = (await ok('GET', '/v1/proposals?status=open&sort=score&limit=500', STEWARD)).items;
  let pair = null;
  for (const p of open) {
    const ents = new Set(p.records.map((r) => r.entity_id));
    const q = open.find((x) => x.id !== p.id && x.records.some((r) => ents.has(r.entity_id)) && !x.records.every((r) => ents.has(r.entity_id)));
    if (q) { pair = [p, q]; break; }
  }
  check(pair, 'the demo has two open proposals sharing a customer');
  const [p, q] = pair;
  const ents = [...new Set(p.records.map((r) => r.entity_id))];
  const before = await Promise.all(ents.map(entityState));
  await page.goto(`${base}/#/proposal/${p.id}`);
  await heading(page, `提案 #${p.id}`);
  await page.fill('#reason', '同一顧客(電話番号一致)');
  await page.click('.decision button[data-action=approve]');
  await expectText(page, '[data-testid=outcome]', '承認しました');
  await expectText(page, '[data-testid=decision-reason]', '判断の理由: 同一顧客(電話番号一致)');
  check(await page.locator('.decision button[data-action=reopen]').count() === 1, 'an approved proposal offers the undo');
  const merged = (await ok('GET', `/v1/records/${p.record_ids[0]}/entity`, STEWARD)).entity_id;
  check((await ok('GET', `/v1/records/${p.record_ids[1]}/entity`, STEWARD)).entity_id === merged, 'approved: one entity');
  // A later merge into that entity: the undo is refused, and says why in Japanese.
  const qd = await ok('GET', `/v1/proposals/${q.id}`, STEWARD);
  await ok('POST', `/v1/proposals/${q.id}/approve`, ADMIN, { version: qd.version });
  await undoOnPage(page);
  await expectText(page, '[data-testid=outcome]', 'この承認はもう取り消せません');
  check(!/[a-z]{3,}/.test(await textOf(page, '[data-testid=outcome]')), 'the refusal is all Japanese');
  check((await ok('GET', `/v1/proposals/${p.id}`, STEWARD)).status === 'approved', 'the refused undo changed nothing');
  await shot(page, 'undo-refused');
  // Undo the later one first (through the API), then this one on the page.
  const qa = await ok('GET', `/v1/proposals/${q.id}`, STEWARD);
  await ok('POST', `/v1/proposals/${q.id}/reopen`, ADMIN, { version: qa.version });
  await page.goto(`${base}/#/proposal/${p.id}`);
  await heading(page, `提案 #${p.id}`);
  await page.locator('.decision button[data-action=reopen]').waitFor();
  await page.click('.decision button[data-action=reopen]');
  await page.locator('dialog[open]').waitFor();
  await expectText(page, '[data-testid=confirm-message]', '統合は元に戻り');
  await shot(page, 'undo-dialog');
  await page.click('[data-testid=confirm-ok]');
  await expectText(page, '[data-testid=outcome]', '承認を取り消しました');
  await expectText(page, '[data-testid=proposal-status]', '未決');
  check((await ok('GET', `/v1/proposals/${p.id}`, STEWARD)).status === 'open', 'the proposal is open again');
  const after = await Promise.all(ents.map(entityState));
  check(JSON.stringify(after) === JSON.stringify(before), `the entities are as they were:\n${before.join('\n')}\n---\n${after.join('\n')}`);
  const unmerge = (await ok('GET', `/v1/audit?action=entity.unmerge&limit=10`, STEWARD)).items;
  check(unmerge.length >= 1 && unmerge[0].reason === `proposal ${p.id} reopened`, `the unmerge is audited: ${JSON.stringify(unmerge[0])}`);
  await shot(page, 'undo-done');
  return p.id;
}

/** A rejection undone from its audit entry. */
async function undoFromAuditFlow(page, rejected) {
  flow = 'undo a rejection from the audit log';
  await page.goto(`${base}/#/audit?action=proposal.reject`);
  await heading(page, '監査ログ');
  const link = page.locator(`[data-testid=audit] tbody tr:has([data-subject="proposal:${rejected}"]) a[data-action=undo]`).first();
  await link.click();
  await heading(page, `提案 #${rejected}`);
  await expectText(page, '[data-testid=decision-reason]', '別法人(支店違い)');
  await expectText(page, '.decision button[data-action=reopen]', '却下を取り消す');
  await undoOnPage(page, '確認の結果、同一法人');
  await expectText(page, '[data-testid=outcome]', '却下を取り消しました');
  const p = await ok('GET', `/v1/proposals/${rejected}`, STEWARD);
  check(p.status === 'open', `reopened: ${p.status}`);
  const e = (await ok('GET', `/v1/audit?action=proposal.reopen&subject=proposal:${rejected}&limit=5`, STEWARD)).items[0];
  check(e && e.reason === '確認の結果、同一法人', `the undo is audited with its reason: ${JSON.stringify(e)}`);
}

async function groupFlow(page) {
  flow = 'review by customer (group)';
  const open = (await ok('GET', '/v1/proposals?status=open&sort=score&limit=500', STEWARD)).items;
  let g = null;
  for (const p of open) {
    const x = await ok('GET', `/v1/proposals/${p.id}/group`, STEWARD);
    if (x.entities.length >= 3 && !x.truncated && x.records.length <= 8) { g = x; break; }
  }
  check(g, 'the demo has open proposals linking three customers');
  // The customer to take out: an entity that some, not all, proposals touch
  // (a record goes out with its entity).
  const touching = (e) => g.proposals.filter((p) => p.records.some((r) => r.entity_id === e));
  const outEntity = g.entities.find((e) => touching(e).length > 0 && touching(e).length < g.proposals.length);
  check(outEntity, 'an entity to take out');
  const out = g.records.find((r) => r.entity_id === outEntity);
  const rejectedIds = touching(outEntity).map((p) => p.id);
  const approvedIds = g.proposals.filter((p) => !rejectedIds.includes(p.id)).map((p) => p.id);
  // From the proposal page's link.
  await page.goto(`${base}/#/proposal/${g.proposal}`);
  await page.click('[data-testid=group-link]');
  await heading(page, '顧客ごとの審査');
  await eventually(async () => check(page.url().endsWith(`#/group/${g.proposal}`), `the group's URL: ${page.url()}`));
  check((await page.title()).startsWith('顧客ごとの審査'), `the group's title: ${await page.title()}`);
  // Every record a column, every proposal a row.
  const cols = await page.locator('[data-testid=group-records] thead th[data-record]').evaluateAll((ths) => ths.map((th) => th.dataset.record));
  check(JSON.stringify(cols) === JSON.stringify(g.records.map((r) => r.id)), `columns ${cols}`);
  const rows = await page.locator('[data-testid=group-proposals] tbody tr').evaluateAll((trs) => trs.map((tr) => tr.dataset.id));
  check(JSON.stringify(rows) === JSON.stringify(g.proposals.map((p) => p.id)), `proposal rows ${rows}`);
  await shot(page, 'group');
  // Take one record out: its proposals will be rejected.
  await page.check(`[data-exclude="${out.id}"]`);
  await eventually(async () => {
    const fates = await page.locator('[data-testid=group-proposals] tbody tr').evaluateAll((trs) => trs.map((tr) => [tr.dataset.id, tr.dataset.fate]));
    for (const [id, fate] of fates) check(fate === (rejectedIds.includes(id) ? 'reject' : 'approve'), `fate of ${id}: ${fate}`);
  });
  // A winner for a field where the remaining records differ, not the proposed one.
  const kept = g.records.filter((r) => r.entity_id !== outEntity);
  const shown = (r, f) => r.normalized?.[f]?.value || r.fields[f] || '';
  let win = null;
  for (const f of Object.keys(g.proposed_golden)) {
    const vals = new Set(kept.map((r) => shown(r, f)).filter(Boolean));
    if (vals.size < 2) continue;
    const r = kept.find((x) => shown(x, f) && shown(x, f) !== g.proposed_golden[f].value && x.id !== g.proposed_golden[f].record_id);
    if (r) { win = { f, r }; break; }
  }
  if (win) {
    const radio = page.locator(`[data-testid=group-records] input[type=radio][data-field="${win.f}"][value="${win.r.id}"]`);
    await radio.check();
    await expectText(page, `[data-testid=group-records] td.golden[data-field="${win.f}"]`, shown(win.r, win.f));
  }
  const goldenText = await textOf(page, '[data-testid=group-records]');
  check(!/with \w+|typed/.test(goldenText), 'survivorship rules are named in Japanese');
  await shot(page, 'group-exclude');
  // All or nothing: a proposal of the group decided meanwhile (another
  // steward defers it) makes the server refuse; the page says so in words
  // and shows the group as it is now.
  const stale = approvedIds[0];
  const sd = await ok('GET', `/v1/proposals/${stale}`, STEWARD);
  await ok('POST', `/v1/proposals/${stale}/defer`, ADMIN, { version: sd.version });
  await page.click('[data-testid=group-submit]');
  await expectText(page, '[data-testid=outcome]', '何も変更していません');
  check(!/[a-z]{3,}/.test(await textOf(page, '[data-testid=outcome]')), 'the refusal is all Japanese');
  for (const id of rejectedIds) check((await ok('GET', `/v1/proposals/${id}`, STEWARD)).status === 'open', `nothing was decided: ${id}`);
  await shot(page, 'group-conflict');
  // Again, on the group as it is now (the deferred proposal is still pending).
  await page.check(`[data-exclude="${out.id}"]`);
  if (win) {
    await page.locator(`[data-testid=group-records] input[type=radio][data-field="${win.f}"][value="${win.r.id}"]`).check();
    await expectText(page, `[data-testid=group-records] td.golden[data-field="${win.f}"]`, shown(win.r, win.f));
  }
  await page.fill('#group-reason', '一件は別人');
  await page.click('[data-testid=group-submit]');
  await expectText(page, '[data-testid=outcome]', `却下 ${rejectedIds.length} 件`);
  // Through the API: all as the page said, all or nothing.
  for (const id of rejectedIds) check((await ok('GET', `/v1/proposals/${id}`, STEWARD)).status === 'rejected', `rejected: ${id}`);
  const statuses = await Promise.all(approvedIds.map(async (id) => (await ok('GET', `/v1/proposals/${id}`, STEWARD)).status));
  check(statuses.every((x) => x === 'approved' || x === 'superseded') && statuses.includes('approved'), `approved: ${statuses}`);
  const entity = (await ok('GET', `/v1/records/${kept[0].id}/entity`, STEWARD)).entity_id;
  for (const r of kept) check((await ok('GET', `/v1/records/${r.id}/entity`, STEWARD)).entity_id === entity, `${r.id} is in ${entity}`);
  check((await ok('GET', `/v1/records/${out.id}/entity`, STEWARD)).entity_id !== entity, `${out.id} was kept out`);
  if (win) {
    const e = await ok('GET', `/v1/entities/${entity}`, STEWARD);
    check(e.golden[win.f].record_id === win.r.id && e.golden[win.f].rule === 'manual', `the chosen ${win.f}: ${JSON.stringify(e.golden[win.f])}`);
  }
  check(await page.locator('[data-testid=group-entity]').count() === 1, 'the outcome links the entity');
  await shot(page, 'group-done');
}

async function splitFlow(page, { entity: approvedInto, a, b, approved }) {
  flow = 'split (entity page)';
  // The customer that holds the approved pair now: a later approval (the
  // keyboard's next proposal) may have folded it into another.
  const entity = (await ok('GET', `/v1/records/${a}/entity`, STEWARD)).entity_id;
  check((await ok('GET', `/v1/records/${b}/entity`, STEWARD)).entity_id === entity, 'the approved pair is one customer');
  await page.goto(`${base}/#/entity/${entity}`);
  await heading(page, entity);
  // Titled by the golden name, the id beside it.
  const ev = await ok('GET', `/v1/entities/${entity}`, STEWARD);
  const gname = ['company_name', 'person_name'].map((f) => ev.golden[f]?.value).filter(Boolean).join(' ');
  check(gname, 'the entity has a golden name');
  await expectTitle(page, `${gname}(エンティティ ${entity}) — 名寄せ`);
  await heading(page, gname);
  await page.locator(`[data-testid=members] tr[data-id="${b}"]`).waitFor();
  check(await page.locator('[data-testid=golden] [data-rule=manual]').count() >= 1, 'the manual choice shows as such');
  check(await page.locator('[data-testid=history] tbody tr').count() >= 1, 'history is listed');
  // History in Japanese: actions and details (`because: proposal 7` → `理由: 提案 7`).
  const hist = await page.locator('[data-testid=history] tbody tr').evaluateAll((rows) => rows.map((r) => ({
    action: r.dataset.action, who: r.children[1].textContent, what: r.children[2].textContent, detail: r.children[3].textContent })));
  check(hist.some((x) => x.action === 'created' && x.who === 'システム'), `the import's "system" in Japanese: ${JSON.stringify(hist)}`);
  const HIST_JA = { created: '作成', auto_merge: '自動統合', merge: '統合', split: '分離', member_deleted: 'メンバーの削除', member_erased: 'メンバーの消去' };
  for (const x of hist) {
    check(HIST_JA[x.action] && x.what === HIST_JA[x.action], `history action ${x.action} shown as ${x.what}`);
    check(!/\b(because|merged|into|records?|from|to|job|matched|score)\s*:/.test(x.detail), `history detail in Japanese: ${x.detail}`);
  }
  // Each merge says why (a proposal, an import); this customer's own, the
  // approved proposal.
  const merges = hist.filter((x) => x.action === 'merge');
  check(merges.length > 0 && merges.every((x) => /理由: (提案 \d+|取込ジョブ J\d+)/.test(x.detail)), `the merges say why: ${JSON.stringify(merges)}`);
  if (entity === approvedInto) {
    check(merges.some((x) => x.detail.includes(`理由: 提案 ${approved}`)), `the merge says which proposal: ${JSON.stringify(merges)}`);
  }
  await shot(page, 'entity');
  await page.click(`[data-testid=members] tr[data-id="${b}"] button[data-action=split]`);
  await page.locator('dialog[open]').waitFor();
  await page.fill('#split-reason', '別の顧客');
  await page.click('[data-testid=confirm-ok]');
  await expectText(page, '[data-testid=outcome]', '分離しました');
  await outcomeShownOnce(page, '分離しました');
  check(await page.locator(`[data-testid=members] tr[data-id="${b}"]`).count() === 0, 'the member is gone from the list');
  const xa = await ok('GET', `/v1/records/${a}/entity`, STEWARD);
  const xb = await ok('GET', `/v1/records/${b}/entity`, STEWARD);
  check(xa.entity_id === entity && xb.entity_id !== entity, `after split: ${a}→${xa.entity_id}, ${b}→${xb.entity_id}`);
}

async function auditFlow(page) {
  flow = 'audit';
  await page.click('#nav a[href="#/audit"]');
  await heading(page, '監査ログ');
  await expectTitle(page, '監査ログ — 名寄せ');
  check((await textOf(page, '#a-action option[value="record.import"]')) === 'レコード取込', 'the action filter is in Japanese');
  await page.selectOption('#a-action', 'proposal.reject');
  await page.click('form.filters button[type=submit]');
  const api1 = await ok('GET', '/v1/audit?action=proposal.reject&limit=100', STEWARD);
  await eventually(async () => {
    const actions = await page.locator('[data-testid=audit] tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.action));
    check(actions.length === api1.items.length && actions.every((x) => x === 'proposal.reject'), `audit rows ${actions}`);
  });
  // Actions, subjects and the server's own reasons in Japanese.
  const rejectRow = page.locator('[data-testid=audit] tbody tr').first();
  check((await rejectRow.locator('.col-action').textContent()) === '提案の却下', 'proposal.reject → 提案の却下');
  const subj = api1.items[0].subject;
  check((await rejectRow.locator('.col-subject').textContent()) === `提案 ${subj.split(':')[1]}`, `subject ${subj} in Japanese`);
  await page.selectOption('#a-action', 'record.import');
  await page.click('form.filters button[type=submit]');
  const imports = await ok('GET', '/v1/audit?action=record.import&limit=100', STEWARD);
  check(imports.items.length > 0 && imports.items[0].subject.startsWith('job:'), `the demo import is audited: ${JSON.stringify(imports.items[0]?.subject)}`);
  await eventually(async () => {
    const subjects = await page.locator('[data-testid=audit] tbody tr .col-subject').allTextContents();
    check(subjects.length === imports.items.length && subjects[0] === `ジョブ ${imports.items[0].subject.slice(4)}`, `import subjects: ${subjects.slice(0, 2)}`);
    const actions = await page.locator('[data-testid=audit] tbody tr .col-action').allTextContents();
    check(actions.every((x) => x === 'レコード取込'), `record.import → レコード取込: ${actions.slice(0, 2)}`);
  });
  // The server's own reasons: a merge by the import, a merge by a proposal.
  const reasonOf = (seq) => page.locator(`[data-testid=audit] tbody tr:has(td.num:text-is("${seq}")) .col-reason`).textContent();
  await page.selectOption('#a-action', 'entity.merge');
  await page.click('form.filters button[type=submit]');
  const byImport = (await ok('GET', '/v1/audit?action=entity.merge&limit=100', STEWARD)).items
    .find((x) => /^import \S+$/.test(x.reason || ''));
  check(byImport, 'a merge by the import is audited');
  await eventually(async () => {
    const reason = await reasonOf(byImport.seq);
    check(reason === `取込ジョブ ${byImport.reason.split(' ')[1]}`, `reason ${byImport.reason} shown as ${reason}`);
  });
  await page.fill('#a-actor', 'stella');
  await page.click('form.filters button[type=submit]');
  const byProposal = (await ok('GET', '/v1/audit?action=entity.merge&actor=stella&limit=100', STEWARD)).items
    .find((x) => /^proposal \d+$/.test(x.reason || ''));
  check(byProposal, 'a merge by a proposal is audited');
  await eventually(async () => {
    const reason = await reasonOf(byProposal.seq);
    check(reason === `提案 ${byProposal.reason.split(' ')[1]}`, `reason ${byProposal.reason} shown as ${reason}`);
  });
  await page.selectOption('#a-action', '');
  await page.fill('#a-actor', 'stella');
  await page.click('form.filters button[type=submit]');
  await eventually(async () => check(page.url().includes('actor=stella'), 'filter in the URL'));
  await page.locator('[data-testid=audit] tbody tr').first().waitFor();
  await shot(page, 'audit');

  flow = 'audit: newest first, dates, CSV';
  await page.goto(`${base}/#/audit`);
  await heading(page, '監査ログ');
  const newest = await ok('GET', '/v1/audit?limit=100', STEWARD);
  await eventually(async () => {
    const seqs = await page.locator('[data-testid=audit] tbody tr').evaluateAll((trs) => trs.map((tr) => Number(tr.dataset.seq)));
    check(JSON.stringify(seqs) === JSON.stringify(newest.items.map((x) => x.seq)), 'the page lists what the API does');
    check(seqs.length > 1 && seqs.every((x, i) => i === 0 || seqs[i - 1] > x), `newest first: ${seqs.slice(0, 5)}`);
  });
  // Decisions' reasons are shown, and their entries link to the undo.
  const rej = (await ok('GET', '/v1/audit?action=proposal.reject&limit=100', STEWARD)).items.find((x) => x.reason);
  check(rej, 'a rejection with a reason');
  // (The rejection may be older than the newest page: retraining after
  // decisions audits what it re-scores.)
  await page.selectOption('#a-action', 'proposal.reject');
  await page.click('form.filters button[type=submit]');
  await eventually(async () => check(page.url().includes('action=proposal.reject'), 'the filter in the URL'));
  await expectText(page, `[data-testid=audit] tbody tr[data-seq="${rej.seq}"] .col-reason`, rej.reason);
  await eventually(async () => {
    check(await page.locator(`[data-testid=audit] tbody tr[data-seq="${rej.seq}"] a[data-action=undo]`).count() === 1, 'a decision links to its undo');
  });
  // A date range: the day of the newest entry (the server's clock, not this one's).
  const day = newest.items[0].at.slice(0, 10);
  const next = new Date(Date.parse(day + 'T00:00:00Z') + 86400000).toISOString().slice(0, 10);
  await page.fill('#a-since', day);
  await page.fill('#a-until', next);
  await page.selectOption('#a-action', 'proposal.approve');
  await page.click('form.filters button[type=submit]');
  const ranged = await ok('GET', `/v1/audit?since=${day}&until=${next}&action=proposal.approve&limit=100`, STEWARD);
  check(ranged.items.length > 0, 'approvals on that day');
  await eventually(async () => {
    check(page.url().includes(`since=${day}`) && page.url().includes(`until=${next}`), `the range is in the URL: ${page.url()}`);
    const seqs = await page.locator('[data-testid=audit] tbody tr').evaluateAll((trs) => trs.map((tr) => Number(tr.dataset.seq)));
    check(JSON.stringify(seqs) === JSON.stringify(ranged.items.map((x) => x.seq)), `ranged rows ${seqs.length} vs API ${ranged.items.length}`);
  });
  // Before that day: the range ends where it says.
  await page.fill('#a-since', '');
  await page.fill('#a-until', day);
  await page.click('form.filters button[type=submit]');
  const earlier = await ok('GET', `/v1/audit?until=${day}&action=proposal.approve&limit=100`, STEWARD);
  await eventually(async () => {
    const n = await page.locator('[data-testid=audit] tbody tr').count();
    check(n === earlier.items.length, `rows before ${day}: ${n} vs ${earlier.items.length}`);
    if (n === 0) await page.locator('[data-testid=audit-empty]').waitFor();
  });
  await page.fill('#a-since', day);
  await page.fill('#a-until', next);
  await page.click('form.filters button[type=submit]');
  await eventually(async () => check(page.url().includes(`since=${day}`), `the range again: ${page.url()}`));
  await page.locator('[data-testid=audit] tbody tr').first().waitFor();
  await shot(page, 'audit-filtered');
  // The CSV: the whole filtered log, downloaded with the token.
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=audit-csv]')]);
  const csv = readFileSync(await dl.path(), 'utf8').trimEnd().split('\n');
  check(csv[0] === 'seq,at,actor,action,subject,before,after,reason', `the CSV's header: ${csv[0]}`);
  check(csv.length - 1 === ranged.items.length, `CSV rows ${csv.length - 1} vs API ${ranged.items.length}`);
  check(csv.slice(1).every((l) => l.includes(',proposal.approve,')), 'only the filtered action');
  // Every entry naming one record (the import's too).
  const rid = (await ok('GET', `/v1/proposals/${rej.subject.split(':')[1]}`, STEWARD)).record_ids[0];
  await page.goto(`${base}/#/audit?record=${rid}`);
  await heading(page, '監査ログ');
  check(await page.locator('#a-record').inputValue() === rid, 'the record filter is shown');
  const named = await ok('GET', `/v1/audit?record=${rid}&limit=100`, STEWARD);
  check(named.items.some((x) => x.action === 'record.import'), `the import names ${rid}`);
  await eventually(async () => {
    const seqs = await page.locator('[data-testid=audit] tbody tr').evaluateAll((trs) => trs.map((tr) => Number(tr.dataset.seq)));
    check(JSON.stringify(seqs) === JSON.stringify(named.items.map((x) => x.seq)), `rows naming ${rid}: ${seqs.length} vs ${named.items.length}`);
  });
}

async function englishFlow(page) {
  flow = 'English switch';
  await page.click('#lang');
  await heading(page, 'Audit log');
  await expectTitle(page, 'Audit log — nayose');
  check(await page.evaluate(() => document.documentElement.lang) === 'en', 'html lang=en');
  await eventually(async () => {
    const actions = await page.locator('[data-testid=audit] tbody tr .col-action').allTextContents();
    check(actions.length > 0 && actions.every((x) => /^[a-z -]+$/.test(x)), `English action names: ${actions.slice(0, 3)}`);
  });
  await expectText(page, '#nav', 'Review queue');
  await page.click('#nav a[href="#/queue"]');
  await heading(page, 'Review queue');
  await expectTitle(page, 'Review queue — nayose');
  await expectText(page, 'thead', 'Probability');
  await expectText(page, 'thead', 'Score (bits)');
  await expectText(page, '[data-testid=numbers-help]', 'log2');
  await shot(page, 'queue-en');
  // A proposal in English: levels in English words too.
  const one = (await ok('GET', '/v1/proposals?status=open&limit=1', STEWARD)).items[0];
  if (one) {
    await page.goto(`${base}/#/proposal/${one.id}`);
    await heading(page, `Proposal #${one.id}`);
    await expectText(page, '[data-testid=score]', 'bits');
    const shown = await page.locator('[data-testid=bars] li[data-level] .term-detail').allTextContents();
    check(shown.length > 0 && !shown.some((x) => /[぀-ヿ]/.test(x)), `English levels: ${shown}`);
    await shot(page, 'proposal-en');
    await page.click('#nav a[href="#/queue"]');
    await heading(page, 'Review queue');
  }
  await page.click('#lang');
  await heading(page, '審査キュー');
  check(await page.evaluate(() => document.documentElement.lang) === 'ja', 'html lang=ja');
}

/** Katakana → hiragana (another notation of a kana name). */
function hiragana(s) {
  return s.replace(/[\u30a1-\u30f6]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0x60));
}

async function searchRequestFlow(page, downloads) {
  flow = 'search by customer (another notation)';
  await signOut(page);
  await signIn(page, ADMIN, 'demo-admin');
  // A customer of several records (merged by now), its person's name with
  // the spaces taken out, and its phone in another format.
  let target = null;
  for (const p of (await ok('GET', '/v1/proposals?status=approved&limit=200', ADMIN)).items) {
    const x = await ok('GET', `/v1/records/${p.record_ids[0]}/entity`, ADMIN);
    const e = await ok('GET', `/v1/entities/${x.entity_id}`, ADMIN);
    const name = e.golden.person_name?.value;
    if (e.members.length >= 2 && name && /\s/.test(name) && e.golden.phone?.value) { target = e; break; }
  }
  check(target, 'a merged customer whose name has a space');
  const name = target.golden.person_name.value;
  const squeezed = name.replace(/\s+/g, '');
  await page.click('#nav a[href="#/search"]');
  await heading(page, 'レコード検索');
  await expectTitle(page, 'レコード検索 — 名寄せ');
  const members = target.members.map((m) => m.id).sort();
  const card = `section.customer[data-entity="${target.id}"]`;
  for (const q of [squeezed, target.golden.phone.value.replace(/\D/g, '')]) {
    await page.fill('#search-q', q);
    await page.click('form[role=search] button[type=submit]');
    await eventually(async () => check(new URLSearchParams(page.url().split('?')[1]).get('q') === q, 'the query is in the URL'));
    await page.locator(card).waitFor();
    const api1 = await ok('GET', `/v1/search?q=${encodeURIComponent(q)}&limit=100`, ADMIN);
    const hit = api1.entities.find((x) => x.entity_id === target.id);
    check(hit, `the API finds ${target.id} by ${q}`);
    await eventually(async () => {
      const rows = await page.locator(`${card} [data-testid=results] tbody tr`).evaluateAll((trs) => trs.map((tr) => [tr.dataset.id, tr.dataset.matched]));
      check(JSON.stringify(rows.map((r) => r[0]).sort()) === JSON.stringify(members), `every member listed for ${q}: ${rows} vs ${members}`);
      for (const [id, m] of rows) check((m === 'true') === hit.matched.includes(id), `${id} marked matched ${m}`);
      check(rows.some((r) => r[1] === 'true'), 'the matched ones are marked');
      const cards = await page.locator('section.customer').count();
      check(cards === api1.entities.length, `one card per customer: ${cards} vs ${api1.entities.length}`);
    });
  }
  await page.fill('#search-q', squeezed);
  await page.click('form[role=search] button[type=submit]');
  await page.locator(card).waitFor();
  await shot(page, 'search');

  flow = 'disclosure request (JSON and CSV)';
  const openRequest = async (id, reason, kind) => {
    await page.click(`${card} button[data-action=request]`);
    await page.locator('dialog[open]').waitFor();
    await page.fill('#request-id', id);
    if (reason !== null) await page.fill('#request-reason', reason);
    await page.selectOption('#request-kind', kind);
  };
  // The reason is required.
  await openRequest('REQ-2026-001', null, 'json');
  await shot(page, 'request-dialog');
  await page.click('[data-testid=confirm-ok]');
  check(await page.locator('dialog[open]').count() === 1 && await page.locator('#request-reason:invalid').count() === 1, 'no reason: the dialog stays');
  await page.fill('#request-reason', '本人からの開示請求');
  const [json] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=confirm-ok]')]);
  const j = JSON.parse(readFileSync(await json.path(), 'utf8'));
  check(j.request_id === 'REQ-2026-001' && j.id === target.id, `the disclosure is of ${target.id}: ${j.request_id} ${j.id}`);
  check(JSON.stringify(j.members.map((m) => m.id).sort()) === JSON.stringify(members), 'the disclosure holds every record');
  await expectText(page, `${card} [data-testid=disclosed]`, 'REQ-2026-001');
  await openRequest('REQ-2026-002', '本人からの開示請求(CSV)', 'csv');
  const [csv] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=confirm-ok]')]);
  check(csv.suggestedFilename().endsWith('.csv'), `a .csv file: ${csv.suggestedFilename()}`);
  const text = readFileSync(await csv.path(), 'utf8');
  check(text.startsWith('section,id,field,value\n'), `the CSV's header: ${text.slice(0, 40)}`);
  for (const id of members) check(text.includes(`\nrecord,${id},`), `the CSV has ${id}`);
  const disclosed = (await ok('GET', '/v1/audit?action=request.disclose&limit=10', ADMIN)).items.map((x) => x.subject);
  check(disclosed.includes('request:REQ-2026-001') && disclosed.includes('request:REQ-2026-002'), `the disclosures are audited: ${disclosed}`);
  downloads.push(json, csv);

  flow = 'erasure request (a whole customer)';
  await openRequest('REQ-2026-003', '本人からの消去請求', 'erase');
  await page.click('[data-testid=confirm-ok]');
  // The second, dangerous step starts on Cancel: Enter erases nothing.
  await eventually(async () => check((await textOf(page, 'dialog[open] [data-testid=confirm-message]')).includes('取り消せません'), 'the erase confirmation'));
  const message = await textOf(page, 'dialog[open] [data-testid=confirm-message]');
  for (const id of members) check(message.includes(id), `the confirmation names ${id}: ${message}`);
  check(await page.evaluate(() => document.activeElement?.dataset.testid) === 'confirm-cancel', 'the focus starts on Cancel');
  await shot(page, 'erase-dialog');
  await page.keyboard.press('Enter');
  await page.locator('dialog[open]').waitFor({ state: 'detached' });
  for (const id of members) check((await api('GET', `/v1/records/${id}`, ADMIN)).status === 200, `Enter erased nothing: ${id}`);
  await openRequest('REQ-2026-003', '本人からの消去請求', 'erase');
  await page.click('[data-testid=confirm-ok]');
  await eventually(async () => check((await textOf(page, 'dialog[open] [data-testid=confirm-message]')).includes('取り消せません'), 'the erase confirmation'));
  await page.click('dialog[open] [data-testid=confirm-ok]');
  await expectText(page, '#status', `レコード ${members.length} 件を消去しました`);
  check(await page.locator(card).count() === 0, 'the customer is gone from the results');
  for (const id of members) check((await api('GET', `/v1/records/${id}`, ADMIN)).status === 404, `erased: ${id}`);
  const erased = (await ok('GET', '/v1/audit?action=request.erase&subject=request:REQ-2026-003&limit=10', ADMIN)).items;
  check(erased.length === 1 && erased[0].reason === '本人からの消去請求', `the erasure is audited: ${JSON.stringify(erased)}`);
  const found = await ok('GET', `/v1/search?q=${encodeURIComponent(squeezed)}&limit=100`, ADMIN);
  check(!found.entities.some((x) => x.entity_id === target.id), 'the search no longer finds the customer');
  // The count follows: the customers left, or the empty message.
  if (await page.locator('section.customer').count() === 0) {
    await page.locator('[data-testid=search-empty]').waitFor();
  } else {
    const n = await page.locator('section.customer').count();
    check(await page.locator('[data-testid=search-count]').getAttribute('data-count') === String(n), 'the count is the customers left');
  }
  await shot(page, 'search-after-erase');

  flow = 'search at its limit';
  let full = null;
  for (const q of ['株式会社', '市', '区', '東京都', '0']) {
    const r = await ok('GET', `/v1/search?q=${encodeURIComponent(q)}&limit=100`, ADMIN);
    if (r.truncated) { full = q; break; }
  }
  check(full, 'some query finds more customers than a page holds');
  await page.fill('#search-q', full);
  await page.click('form[role=search] button[type=submit]');
  await expectText(page, '[data-testid=search-count]', '件以上');
}

/** Error pages: in Japanese whatever the server said, with a way back. */
async function errorFlow(page) {
  flow = 'error pages';
  // Not found (a real 404 from the API).
  await page.goto(`${base}/#/proposal/99999999`);
  await heading(page, 'エラー');
  await expectTitle(page, 'エラー — 名寄せ');
  await expectText(page, '[data-testid=error]', '見つかりません');
  await shot(page, 'error-404');
  await page.click('[data-testid=error-back]');
  await heading(page, '審査キュー');
  // A refusal the server words in English (400 invalid_request: q is too long).
  await page.goto(`${base}/#/search?q=${'あ'.repeat(201)}`);
  await heading(page, 'エラー');
  await expectText(page, '[data-testid=error]', '入力内容が正しくありません');
  check(!/[a-z]{3,}/.test(await textOf(page, '[data-testid=error]')), 'no English from the server');
  // An error code the page maps (503 no_model), whatever the message.
  await page.route('**/v1/proposals/counts', (route) => route.fulfill({
    status: 503, contentType: 'application/json',
    body: JSON.stringify({ error: { code: 'no_model', message: 'matching needs a model and there is none yet' } }) }));
  await page.goto(`${base}/#/queue?status=open`);
  await heading(page, 'エラー');
  await expectText(page, '[data-testid=error]', '照合モデルがまだありません');
  check(!(await textOf(page, 'main')).includes('matching needs'), 'the server\'s English message is not shown');
  await page.unroute('**/v1/proposals/counts');
  // No answer at all (`Failed to fetch`).
  await page.route('**/v1/proposals/counts', (route) => route.abort('failed'));
  await page.goto(`${base}/#/queue?status=deferred`);
  await heading(page, 'エラー');
  await expectText(page, '[data-testid=error]', 'サーバーに接続できません');
  check(!(await textOf(page, 'main')).includes('Failed to fetch'), 'no "Failed to fetch"');
  await shot(page, 'error-network');
  await page.unroute('**/v1/proposals/counts');
  await page.click('[data-testid=error-back]');
  await heading(page, '審査キュー');
  // A later page that does not come: said in the status line, in Japanese.
  await page.goto(`${base}/#/audit`);
  await heading(page, '監査ログ');
  const more = page.locator('main button:text-is("さらに表示")');
  await more.waitFor();
  const later = (url) => url.pathname === '/v1/audit' && url.searchParams.has('cursor');
  await page.route(later, (route) => route.abort('failed'));
  await more.click();
  await expectText(page, '#status', 'サーバーに接続できません');
  check(await more.isEnabled(), 'the button can be tried again');
  await page.unroute(later);
}

/** The audit of merges: the pair shown is the API's next one; answering
 * it moves to the next, is kept as an audit label, and the estimate
 * appears. */
async function mergesFlow(page) {
  flow = 'audit of merges';
  await page.click('#nav a[href="#/merges"]');
  await heading(page, '統合の監査');
  await expectTitle(page, '統合の監査 — 名寄せ');
  const before = await ok('GET', '/v1/merge-audit?limit=2', STEWARD);
  check(before.items.length === 2, `the demo leaves merged pairs to audit: ${JSON.stringify(before)}`);
  const [first, second] = before.items;
  await expectText(page, '[data-testid=merges-entity]', first.entity_id);
  const heads = await page.locator('[data-testid=merges-pair] thead th a').allTextContents();
  check(JSON.stringify(heads) === JSON.stringify(first.record_ids), `the pair shown is the API's first: ${heads}`);
  await expectText(page, '[data-testid=merges-estimate]', 'まだありません');
  await expectText(page, '[data-testid=total]', '%');
  await shot(page, 'merges');
  await page.click('button[data-answer=match]');
  await expectText(page, '[data-testid=outcome]', '同じ顧客と回答しました');
  await eventually(async () => {
    const shown = await page.locator('[data-testid=merges-pair] thead th a').allTextContents();
    check(JSON.stringify(shown) === JSON.stringify(second.record_ids), `the next pair: ${shown}`);
  });
  const after = await ok('GET', '/v1/merge-audit?limit=1', STEWARD);
  check(after.audited === before.audited + 1, `one answer counted: ${after.audited}`);
  check(!before.merged_precision && after.merged_precision && after.merged_precision.n > 0, `the audit's estimate: ${JSON.stringify(after.merged_precision)}`);
  const labels = (await ok('GET', '/v1/labels?limit=10000', STEWARD)).items;
  check(labels.some((l) => l.source === 'audit' && l.label === 'match'
    && [l.id_a, l.id_b].sort().join() === [...first.record_ids].sort().join()), 'the answer is an audit label');
  await expectText(page, '[data-testid=merges-estimate]', '95%');
  // Two customers: the outcome links to the entity, to split it.
  await page.click('button[data-answer=non_match]');
  await expectText(page, '[data-testid=outcome]', '別の顧客と回答しました');
  check(await page.locator('[data-testid=outcome] a').getAttribute('href') === `#/entity/${encodeURIComponent(second.entity_id)}`, 'the outcome links to the entity');
  await shot(page, 'merges-answered');
  // The entity lists the conflict with the server's split, one click away.
  await page.click('[data-testid=outcome] a');
  await page.locator('[data-testid=conflicts]').waitFor();
  const entity = await ok('GET', `/v1/entities/${encodeURIComponent(second.entity_id)}`, STEWARD);
  check(entity.conflicts.length === 1, `one conflict: ${JSON.stringify(entity.conflicts)}`);
  const [conflict] = entity.conflicts;
  check([...conflict.record_ids].sort().join() === [...second.record_ids].sort().join(), `the answered pair: ${conflict.record_ids}`);
  const moved = conflict.split;
  check(moved && moved.length >= 1 && moved.filter((r) => second.record_ids.includes(r)).length === 1, `the split parts the two: ${moved}`);
  check((await page.locator('[data-testid=conflicts] li').getAttribute('data-records')) === conflict.record_ids.join(' '), 'the conflict shown is the API\'s');
  await expectText(page, '[data-testid=conflicts]', moved.join('、'));
  await shot(page, 'entity-conflict');
  await page.click('[data-testid=conflicts] button[data-action=split-suggested]');
  await page.locator('dialog[open]').waitFor();
  await page.click('[data-testid=confirm-ok]');
  await expectText(page, '[data-testid=outcome]', '分離しました');
  check(await page.locator('[data-testid=conflicts]').count() === 0, 'the conflict is gone after the split');
  const [xa, xb] = await Promise.all(second.record_ids.map((r) => ok('GET', `/v1/records/${encodeURIComponent(r)}/entity`, STEWARD)));
  check(xa.entity_id !== xb.entity_id, `the two are two customers now: ${xa.entity_id} ${xb.entity_id}`);
  // Undone from the outcome: the records are back, and so is the conflict.
  await page.click('[data-testid=outcome] button[data-action=unsplit]');
  await expectText(page, '[data-testid=outcome]', '分離を元に戻しました');
  await page.locator('[data-testid=conflicts]').waitFor();
  const [ya, yb] = await Promise.all(second.record_ids.map((r) => ok('GET', `/v1/records/${encodeURIComponent(r)}/entity`, STEWARD)));
  check(ya.entity_id === yb.entity_id && ya.entity_id === second.entity_id, `one customer again: ${ya.entity_id} ${yb.entity_id}`);
  const audit = (await ok('GET', '/v1/audit?action=entity.unsplit&limit=5', STEWARD)).items;
  check(audit.length === 1 && audit[0].actor === 'stella', `the undo is audited: ${JSON.stringify(audit)}`);
  await shot(page, 'entity-unsplit');
}

async function viewerFlow(page) {
  flow = 'viewer (masked, no actions)';
  await signOut(page);
  await signIn(page, VIEWER, 'vic');
  await heading(page, '審査キュー');
  await page.locator('[data-testid=queue] tbody tr').first().waitFor();
  check(await page.locator('button[data-action=claim]').count() === 0, 'no claim buttons');
  // Queue items name both records as the API gives them to a viewer: the
  // person's name masked, the company's not.
  const vq = (await ok('GET', '/v1/proposals?status=open&sort=uncertainty&limit=50', VIEWER)).items;
  const vnames = await page.locator('[data-testid=queue] tbody tr .rec-name').allTextContents();
  check(JSON.stringify(vnames) === JSON.stringify(vq.flatMap((p) => p.records.map((r) => r.name || '(名前なし)'))), 'the viewer sees the API\'s names');
  check(vnames.some((n) => n.includes('＊')) && vnames.some((n) => /株式会社/.test(n)), `masked persons, plain companies: ${vnames.slice(0, 4)}`);
  check(await page.locator('[data-testid=bulk-submit]').count() === 0, 'no bulk approval');
  check(await page.locator('#nav a[href="#/audit"]').count() === 0, 'no audit link');
  await page.click('#nav a[href="#/merges"]');
  await heading(page, '統合の監査');
  await page.locator('[data-testid=readonly]').waitFor();
  check(await page.locator('button[data-answer]').count() === 0, 'no audit answers for a viewer');
  await page.click('#nav a[href="#/queue"]');
  await heading(page, '審査キュー');
  const first = await page.locator('[data-testid=queue] tbody tr').first().getAttribute('data-id');
  await page.goto(`${base}/#/proposal/${first}`);
  await heading(page, `#${first}`);
  await page.locator('[data-testid=readonly]').waitFor();
  const table = await textOf(page, '[data-testid=compare]');
  check(table.includes('＊'), 'personal data is masked');
  await checkDiffMarks(page, await ok('GET', `/v1/proposals/${first}`, VIEWER));
  check(await page.locator('button[data-action=approve], button[data-action=reject], button[data-action=defer], input[type=radio]').count() === 0, 'no decision controls');
  await shot(page, 'proposal-viewer');
  // The group page, read only and masked.
  await page.goto(`${base}/#/group/${first}`);
  await heading(page, '顧客ごとの審査');
  await page.locator('[data-testid=group-records]').waitFor();
  check(await page.locator('[data-testid=group-records] input, [data-testid=group-submit]').count() === 0, 'no group controls for a viewer');
  check((await textOf(page, '[data-testid=group-records]')).includes('＊'), 'the group is masked');
  await shot(page, 'group-viewer');
  const before = await ok('GET', `/v1/proposals/${first}`, VIEWER);
  await page.keyboard.press('a');
  await new Promise((r) => setTimeout(r, 300));
  const after = await ok('GET', `/v1/proposals/${first}`, VIEWER);
  check(after.version === before.version, 'the a key does nothing for a viewer');
  const p = await ok('GET', `/v1/proposals/${first}`, VIEWER);
  const x = await ok('GET', `/v1/records/${p.record_ids[0]}/entity`, VIEWER);
  await page.goto(`${base}/#/entity/${x.entity_id}`);
  await heading(page, x.entity_id);
  check(await page.locator('button[data-action=split]').count() === 0, 'no split buttons');
  check((await textOf(page, '[data-testid=golden]')).includes('＊'), 'golden record masked');
  await shot(page, 'entity-viewer');
}

async function tabletFlow(browser) {
  flow = 'tablet layout';
  const ctx = await browser.newContext({ viewport: { width: 820, height: 1180 }, hasTouch: true });
  const page = await ctx.newPage();
  watch(page);
  await signIn(page, STEWARD, 'stella');
  await heading(page, '審査キュー');
  const overflow = async () => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(await overflow() <= 0, `queue fits the width (overflow ${await overflow()} px)`);
  await shot(page, 'tablet-queue');
  const first = (await ok('GET', '/v1/proposals?status=open&limit=1', STEWARD)).items[0];
  if (first) {
    await page.goto(`${base}/#/proposal/${first.id}`);
    await page.locator('.decision button[data-action=approve]').waitFor();
    check(await overflow() <= 0, `proposal fits the width (overflow ${await overflow()} px)`);
    await shot(page, 'tablet-proposal');
  }
  await ctx.close();
}

// Script errors and CSP violations fail the run; failed requests the
// flows provoke on purpose (401 on a wrong token, 409) do not.
const problems = [];
function watch(page) {
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(`console: ${m.text()}`);
  });
}

async function main() {
  unitDiff();
  await headers();
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'ja-JP' });
    ctx.setDefaultTimeout(15000);
    const page = await ctx.newPage();
    watch(page);
    await signInFlow(page);
    await axeCanFail(page);
    await queueFlow(page);
    await diffFlow(page);
    // Undo first (it leaves what it touched as it was), then the group: the
    // demo's one chain of proposals across three customers is used by both.
    await undoFlow(page);
    await shapeFlow(page);
    await groupFlow(page);
    const merged = await approveFlow(page);
    const rejected = await rejectFlow(page, merged.approved);
    await keyboardFlow(page, rejected);
    await undoFromAuditFlow(page, rejected);
    // Split before bulk: a bulk merge could fold this entity into an older one.
    await splitFlow(page, merged);
    await bulkFlow(page);
    await mergesFlow(page);
    await auditFlow(page);
    await englishFlow(page);
    await searchRequestFlow(page, []);
    await errorFlow(page);
    await viewerFlow(page);
    await ctx.close();
    await tabletFlow(browser);
    flow = 'console';
    check(problems.length === 0, problems.join('\n'));
    flow = 'axe-core';
    for (const page of ['signin-error', 'queue', 'queue-mine', 'proposal', 'entity', 'search', 'request-dialog', 'erase-dialog', 'audit', 'audit-filtered',
      'error-404', 'proposal-viewer', 'queue-en', 'bulk-done', 'proposal-comment', 'group-viewer', 'group-conflict', 'undo-dialog', 'undo-refused', 'undo-done', 'group', 'group-exclude', 'group-done', 'merges', 'merges-answered', 'entity-conflict', 'entity-unsplit']) {
      check(axed.includes(page), `axe-core ran on ${page}`);
    }
  } finally {
    await browser.close();
  }
  console.log(`e2e: all flows passed in ${((Date.now() - started) / 1000).toFixed(1)} s; axe-core: 0 violations on ${axed.length} pages (${axed.join(', ')}); screenshots in ${shots}`);
}

main().catch((e) => {
  console.error(`e2e FAILED: ${e.stack || e}`);
  if (problems.length) console.error(problems.join('\n'));
  process.exit(1);
});
