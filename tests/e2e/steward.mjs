// End-to-end test of the stewards' web page in headless Chromium.
//
//   node steward.mjs BASE_URL ADMIN_TOKEN STEWARD_TOKEN VIEWER_TOKEN
//
// BASE_URL is a `nayose serve --demo` started for this run (tests/ui_e2e.rs
// does that). Each flow is done through the page, then checked through the
// API with the same token. Screenshots go to $E2E_SCREENSHOTS (default
// target/e2e-screenshots). Exits non-zero with a message naming the flow and
// the check that failed.

import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { diffChars } from '../../ui/diff.js';

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

async function shot(page, name) {
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
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
  await page.fill('#token', 'nyt_not_a_token');
  await page.click('form.signin button[type=submit]');
  await expectText(page, '#signin-error', 'サインインできません');
  await page.fill('#token', STEWARD);
  await page.click('form.signin button[type=submit]');
  await heading(page, '審査キュー');
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
  check(await page.locator('[data-testid=estimates] li').count() === 4, 'four estimates on the queue page');
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
  await page.click('form.filters button[type=button]'); // 自分の担当
  await eventually(async () => {
    const ids = await page.locator('[data-testid=queue] tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.id));
    check(ids.length === 1 && ids[0] === claimed, `mine: ${ids}`);
  });
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
  check(await page.locator('mark.diff').count() > 0, 'differences are marked');
  const bars = await page.locator('[data-testid=bars] li').count();
  const weighed = d.explanation.terms.filter((x) => x.weight !== 0).length;
  check(bars === weighed + 1, `one bar per weighing term and the prior: ${bars}, expected ${weighed + 1}`);
  for (const key of ['A', 'R', 'D', 'N']) {
    check(await page.locator(`.decision button kbd:text-is("${key}")`).count() === 1, `the ${key} shortcut is shown`);
  }
  const radio = page.locator(`input[type=radio][data-field="${f.field}"][data-side=B]`);
  check(await radio.isChecked() === false, 'B is not the proposed winner');
  await page.click(`label[for="${await radio.getAttribute('id')}"]`);
  check(await radio.isChecked(), 'the radio is checked through its label');
  await expectText(page, `td.golden[data-field="${f.field}"]`, f.values[1]);
  await shot(page, 'proposal');
  await page.click('.decision button[data-action=approve]');
  await expectText(page, '[data-testid=outcome]', '承認しました');
  await expectText(page, '#status', '承認しました');
  await expectText(page, '[data-testid=proposal-status]', '承認済み');
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
  flow = 'bulk approve';
  await page.goto(base + '/#/queue?status=open&sort=score');
  await heading(page, '審査キュー');
  const open = (await ok('GET', '/v1/proposals?status=open&sort=score&limit=500', STEWARD)).items;
  check(open.length >= 4, `open proposals left: ${open.length}`);
  const threshold = open[Math.floor(open.length / 2)].score;
  const expected = open.filter((p) => p.score >= threshold).length;
  await page.fill('#bulk-min', String(threshold));
  await page.click('[data-testid=bulk-submit]');
  await page.locator('dialog[open]').waitFor();
  const message = await textOf(page, '[data-testid=confirm-message]');
  check(message.includes(`${expected} 件`), `the confirmation names ${expected}: ${message}`);
  await shot(page, 'bulk-confirm');
  await page.click('[data-testid=confirm-ok]');
  await expectText(page, '#status', '件を承認しました');
  const left = (await ok('GET', `/v1/proposals?status=open&min_score=${threshold}&limit=500`, STEWARD)).items;
  check(left.length === 0, `open at or above ${threshold} after bulk: ${left.length}`);
  const mine = (await ok('GET', `/v1/audit?action=proposal.approve&actor=stella&limit=1000`, STEWARD)).items
    .filter((x) => (x.reason || '').startsWith('bulk approval'));
  const statuses = await Promise.all(open.filter((p) => p.score >= threshold)
    .map(async (p) => (await ok('GET', `/v1/proposals/${p.id}`, STEWARD)).status));
  check(statuses.every((s) => s === 'approved' || s === 'superseded'), `after bulk: ${statuses}`);
  check(mine.length === statuses.filter((s) => s === 'approved').length, `one audit entry per bulk approval: ${mine.length}`);
  const shown = await textOf(page, '#status');
  check(shown.includes(`${mine.length} 件を承認しました`), `status says how many: ${shown}`);
}

async function splitFlow(page, { entity, a, b }) {
  flow = 'split (entity page)';
  await page.goto(`${base}/#/entity/${entity}`);
  await heading(page, entity);
  await page.locator(`[data-testid=members] tr[data-id="${b}"]`).waitFor();
  check(await page.locator('[data-testid=golden] [data-rule=manual]').count() >= 1, 'the manual choice shows as such');
  check(await page.locator('[data-testid=history] tbody tr').count() >= 1, 'history is listed');
  await shot(page, 'entity');
  await page.click(`[data-testid=members] tr[data-id="${b}"] button[data-action=split]`);
  await page.locator('dialog[open]').waitFor();
  await page.fill('#split-reason', '別の顧客');
  await page.click('[data-testid=confirm-ok]');
  await expectText(page, '[data-testid=outcome]', '分離しました');
  check(await page.locator(`[data-testid=members] tr[data-id="${b}"]`).count() === 0, 'the member is gone from the list');
  const xa = await ok('GET', `/v1/records/${a}/entity`, STEWARD);
  const xb = await ok('GET', `/v1/records/${b}/entity`, STEWARD);
  check(xa.entity_id === entity && xb.entity_id !== entity, `after split: ${a}→${xa.entity_id}, ${b}→${xb.entity_id}`);
}

async function auditFlow(page) {
  flow = 'audit';
  await page.click('#nav a[href="#/audit"]');
  await heading(page, '監査ログ');
  await page.fill('#a-action', 'proposal.reject');
  await page.click('form.filters button[type=submit]');
  const api1 = await ok('GET', '/v1/audit?action=proposal.reject&limit=100', STEWARD);
  await eventually(async () => {
    const actions = await page.locator('[data-testid=audit] tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.action));
    check(actions.length === api1.items.length && actions.every((x) => x === 'proposal.reject'), `audit rows ${actions}`);
  });
  await page.fill('#a-action', '');
  await page.fill('#a-actor', 'stella');
  await page.click('form.filters button[type=submit]');
  await eventually(async () => check(page.url().includes('actor=stella'), 'filter in the URL'));
  await page.locator('[data-testid=audit] tbody tr').first().waitFor();
  await shot(page, 'audit');
}

async function englishFlow(page) {
  flow = 'English switch';
  await page.click('#lang');
  await heading(page, 'Audit log');
  check(await page.evaluate(() => document.documentElement.lang) === 'en', 'html lang=en');
  await expectText(page, '#nav', 'Review queue');
  await page.click('#nav a[href="#/queue"]');
  await heading(page, 'Review queue');
  await expectText(page, 'thead', 'Probability');
  await shot(page, 'queue-en');
  await page.click('#lang');
  await heading(page, '審査キュー');
  check(await page.evaluate(() => document.documentElement.lang) === 'ja', 'html lang=ja');
}

async function searchEraseFlow(page) {
  flow = 'search and erase (admin)';
  await signOut(page);
  await signIn(page, ADMIN, 'demo-admin');
  const target = await ok('GET', '/v1/records/R0000123', ADMIN);
  const phone = target.fields.phone;
  check(phone, 'the demo record has a phone');
  await page.click('#nav a[href="#/search"]');
  await heading(page, 'レコード検索');
  await page.fill('#search-q', phone);
  await page.click('form[role=search] button[type=submit]');
  await page.locator('[data-testid=results] tr[data-id="R0000123"]').waitFor();
  // By name too.
  const name = target.normalized.person_name?.value || target.fields.person_name;
  await page.fill('#search-q', name);
  await page.click('form[role=search] button[type=submit]');
  await eventually(async () => check(new URLSearchParams(page.url().split('?')[1]).get('q') === name, 'the query is in the URL'));
  await page.locator('[data-testid=results] tr[data-id="R0000123"]').waitFor();
  await shot(page, 'search');
  await page.click('[data-testid=results] tr[data-id="R0000123"] button[data-action=erase]');
  await page.locator('dialog[open]').waitFor();
  const message = await textOf(page, '[data-testid=confirm-message]');
  check(message.includes('R0000123') && message.includes('取り消せません'), `the confirmation names the record: ${message}`);
  await page.click('[data-testid=confirm-ok]');
  await expectText(page, '#status', 'R0000123 を消去しました');
  check(await page.locator('[data-testid=results] tr[data-id="R0000123"]').count() === 0, 'the row is gone');
  const r = await api('GET', '/v1/records/R0000123', ADMIN);
  check(r.status === 404, `GET the erased record: ${r.status}`);
}

async function viewerFlow(page) {
  flow = 'viewer (masked, no actions)';
  await signOut(page);
  await signIn(page, VIEWER, 'vic');
  await heading(page, '審査キュー');
  await page.locator('[data-testid=queue] tbody tr').first().waitFor();
  check(await page.locator('button[data-action=claim]').count() === 0, 'no claim buttons');
  check(await page.locator('[data-testid=bulk-submit]').count() === 0, 'no bulk approval');
  check(await page.locator('#nav a[href="#/audit"]').count() === 0, 'no audit link');
  const first = await page.locator('[data-testid=queue] tbody tr').first().getAttribute('data-id');
  await page.goto(`${base}/#/proposal/${first}`);
  await heading(page, `#${first}`);
  await page.locator('[data-testid=readonly]').waitFor();
  const table = await textOf(page, '[data-testid=compare]');
  check(table.includes('＊'), 'personal data is masked');
  check(await page.locator('button[data-action=approve], button[data-action=reject], button[data-action=defer], input[type=radio]').count() === 0, 'no decision controls');
  await shot(page, 'proposal-viewer');
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
    await queueFlow(page);
    const merged = await approveFlow(page);
    const rejected = await rejectFlow(page, merged.approved);
    await keyboardFlow(page, rejected);
    // Split before bulk: a bulk merge could fold this entity into an older one.
    await splitFlow(page, merged);
    await bulkFlow(page);
    await auditFlow(page);
    await englishFlow(page);
    await searchEraseFlow(page);
    await viewerFlow(page);
    await ctx.close();
    await tabletFlow(browser);
    flow = 'console';
    check(problems.length === 0, problems.join('\n'));
  } finally {
    await browser.close();
  }
  console.log(`e2e: all flows passed in ${((Date.now() - started) / 1000).toFixed(1)} s; screenshots in ${shots}`);
}

main().catch((e) => {
  console.error(`e2e FAILED: ${e.stack || e}`);
  if (problems.length) console.error(problems.join('\n'));
  process.exit(1);
});
