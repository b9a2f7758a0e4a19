'use strict';
// The admin console in a real browser: Playwright (playwright-core) drives Debian's headless
// Chromium (/usr/bin/chromium, installed by scripts/test when missing) against `patron serve`
// on a fresh database (SQLite, or PostgreSQL with PATRON_SDK_DATABASE=postgres). Customers,
// attribute values and sessions are seeded through the official Fynd SDK; every change made
// in the console is then checked through the SDK too. Screenshots of each page go to
// target/console-screenshots/<store>/.

const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { test, before, after } = require('node:test');
const { chromium } = require('playwright-core');

const h = require('../sdk-tests/helpers');

const CHROMIUM = process.env.PATRON_CHROMIUM || '/usr/bin/chromium';
const STORE = process.env.PATRON_SDK_DATABASE === 'postgres' ? 'postgres' : 'sqlite';
const SHOTS = path.resolve(__dirname, '../target/console-screenshots', STORE);

const ctx = h.useServer();
let browser;
let page;

before(async () => {
  fs.mkdirSync(SHOTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  page = await laptopPage();
  await ctx.ready;
  await signIn(ctx.admin);
  await page.waitForURL(/\/console\/apps$/);
});

/** A new browser context (no cookies) with a laptop-sized page. */
async function laptopPage() {
  const context = await browser.newContext({ viewport: { width: 1366, height: 860 } });
  const fresh = await context.newPage();
  fresh.setDefaultTimeout(15_000);
  return fresh;
}

/** Confirms the open dialog and waits for the page the action leads to (`done=<action>`). */
async function confirm(action) {
  await Promise.all([page.waitForURL(new RegExp(`done=${action}$`)), page.click('#confirm-yes')]);
}

after(async () => {
  if (browser) await browser.close();
});

/** Saves a full-page screenshot named `name`. */
async function shot(name, target = page) {
  await target.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

/** Signs in with a platform client's id and secret. */
async function signIn(client, target = page) {
  await target.goto(`${ctx.base}/console/`);
  await target.fill('input[name="client_id"]', client.client_id);
  await target.fill('input[name="client_secret"]', client.client_secret);
  await target.click('button[type="submit"]');
}

/** The application's console path, e.g. `customers`. */
function appPath(rest) {
  return `${ctx.base}/console/apps/${ctx.applicationId}/${rest}`;
}

test('a wrong secret is refused on the sign-in page; the right one opens the application list', async () => {
  const own = await laptopPage();
  await signIn({ client_id: ctx.admin.client_id, client_secret: 'not-the-secret' }, own);
  await own.waitForSelector('.notice.error');
  assert.match(await own.textContent('.notice.error'), /not right/);
  assert.match(own.url(), /\/console\/sign-in$/);
  await shot('sign-in-refused', own);

  await signIn(ctx.admin, own);
  await own.waitForURL(/\/console\/apps$/);
  assert.equal(await own.textContent('h1'), 'Applications');
  await own.getByRole('link', { name: 'SDK Shop', exact: true }).click();
  await own.waitForURL(/\/customers$/);
  await shot('applications-then-customers', own);
  await own.context().close();
});

test('search finds a customer by email prefix, blocks them with a reason after confirming, and the SDK sees it', async () => {
  const tag = h.uniqueTag('meera');
  const meera = await h.createCustomer(ctx.user, { first_name: 'Meera', last_name: 'Iyer', email: `${tag}@example.com` });
  await h.createCustomer(ctx.user, { first_name: 'Ravi', last_name: 'Kumar' });
  for (const domain of ['shop.example.com', 'm.shop.example.com']) {
    await h.sdk(ctx.user.createUserSession({ body: { domain, user_id: meera._id, max_age: 3600 } }));
  }

  await page.goto(appPath('customers'));
  await page.fill('input[name="q"]', tag);
  await page.click('form.search button[type="submit"]');
  await page.waitForURL(/q=/);
  const rows = page.locator('table.customers tbody tr');
  assert.equal(await rows.count(), 1);
  assert.match(await rows.first().textContent(), /Meera Iyer/);
  await shot('customers-search');

  await rows.first().locator('a').click();
  await page.waitForSelector('#customer-status');
  assert.equal(await page.textContent('#customer-status'), 'active');
  assert.match(await page.textContent('#sessions'), /shop\.example\.com|UTC/);

  // One session ends on its own; the other stays.
  assert.equal(await page.locator('#sessions tbody tr').count(), 2);
  await page.locator('#sessions tbody tr').first().locator('button').click();
  await confirm('end-session');
  assert.equal(await page.locator('#sessions tbody tr').count(), 1);
  assert.equal((await h.sdk(ctx.user.getActiveSessions({ id: meera._id }))).items.length, 1);

  // Ending every session first signs them out; the SDK lists none.
  await page.locator(`form[action$="/customers/${meera._id}/end-sessions"] button`).click();
  await confirm('end-sessions');
  assert.match(await page.textContent('#sessions'), /No active session/);
  const sessions = await h.sdk(ctx.user.getActiveSessions({ id: meera._id }));
  assert.equal(sessions.items.length, 0);

  // The block asks first: cancelling sends nothing.
  const blockForm = page.locator(`form[action$="/customers/${meera._id}/block"]`);
  await blockForm.locator('input[name="reason"]').fill('chargeback fraud');
  await blockForm.locator('button[type="submit"]').click();
  await page.waitForSelector('dialog#confirm[open]');
  assert.match(await page.textContent('dialog#confirm .confirm-text'), /Block Meera Iyer\?/);
  await shot('customer-block-confirm');
  await page.click('dialog#confirm button[value="cancel"]');
  assert.equal(await page.textContent('#customer-status'), 'active');

  await blockForm.locator('button[type="submit"]').click();
  await confirm('block');
  assert.match(await page.textContent('.notice.done'), /blocked/);
  assert.equal(await page.textContent('#customer-status'), 'blocked');
  assert.match(await page.textContent('.timeline'), /Account blocked[\s\S]*chargeback fraud/);
  await shot('customer-blocked');

  const found = await h.sdk(ctx.user.searchUsers({ q: meera.emails[0].email }));
  assert.equal(found.users.length, 1);
  assert.equal(found.users[0].active, false, 'the SDK sees the customer blocked');

});

test('a q filter finds customers; archiving asks first and hides them from the list, restoring brings them back', async () => {
  const tag = h.uniqueTag('kavya');
  const kavya = await h.createCustomer(ctx.user, { first_name: 'Kavya', last_name: tag, gender: 'female' });
  await page.goto(appPath(`customers?q=${encodeURIComponent(JSON.stringify({ last_name: tag }))}`));
  assert.equal(await page.locator('table.customers tbody tr').count(), 1);
  await page.click(`table.customers a:has-text("Kavya")`);
  await page.waitForSelector('#customer-status');

  const archive = page.locator(`form[action$="/customers/${kavya._id}/archive"]`);
  await archive.locator('input[name="reason"]').fill('duplicate account');
  await archive.locator('button').click();
  await confirm('archive');
  assert.equal(await page.textContent('#customer-status'), 'archived');
  const archived = await h.sdk(ctx.user.getCustomers({ q: JSON.stringify({ last_name: tag }), pageNo: 1, pageSize: 10 }));
  assert.equal(archived.items.length, 0, 'archived customers leave the list');

  const restore = page.locator(`form[action$="/customers/${kavya._id}/restore"]`);
  await restore.locator('input[name="reason"]').fill('merged by mistake');
  await restore.locator('button').click();
  await confirm('restore');
  assert.equal(await page.textContent('#customer-status'), 'active');
  assert.match(await page.textContent('.timeline'), /merged by mistake/);
  const restored = await h.sdk(ctx.user.getCustomers({ q: JSON.stringify({ last_name: tag }), pageNo: 1, pageSize: 10 }));
  assert.equal(restored.items.length, 1);

  // A filter outside the q language is refused with the reason, not a broken page.
  await page.goto(appPath(`customers?q=${encodeURIComponent('{"$where": "1"}')}`));
  await page.waitForSelector('.notice.error');
  await shot('customers-bad-filter');
});

test('an attribute defined in the console feeds a conditional group whose members and size the console shows', async () => {
  await page.goto(appPath('attributes'));
  const slug = `points_${h.uniqueTag('p').replace(/[^a-z0-9]/g, '')}`;
  await page.fill('#new-attribute input[name="name"]', 'Loyalty points');
  await page.fill('#new-attribute input[name="slug"]', slug);
  await page.selectOption('#new-attribute select[name="type"]', 'number');
  await page.click('#new-attribute button[type="submit"]');
  await page.waitForSelector('.notice.done');
  assert.match(await page.textContent('table'), new RegExp(slug));

  const definitions = await h.sdk(ctx.user.getUserAttributeDefinitions({ slug }));
  const definition = definitions.items[0];
  assert.equal(definition.type, 'number');
  const rich = [];
  for (const [first, points] of [['Anil', 250], ['Bina', 120], ['Chetan', 40]]) {
    const customer = await h.createCustomer(ctx.user, { first_name: first, last_name: 'Shah' });
    await h.sdk(ctx.user.updateUserAttribute({
      attributeDefId: definition._id, userId: customer._id, body: { attribute: { value: points } },
    }));
    if (points >= 100) rich.push(`${first} Shah`);
  }

  await page.goto(appPath('groups'));
  await page.fill('#new-group input[name="name"]', 'Big spenders');
  await page.fill('#new-group input[name="description"]', 'At least 100 points');
  const first = page.locator('#new-group fieldset.condition').first();
  await first.locator('select[name="definition_id"]').selectOption(definition._id);
  await first.locator('select[name="operator"]').selectOption('gte');
  await first.locator('input[name="value"]').fill('100');
  await shot('group-new');
  await page.click('#new-group button[type="submit"]');
  await page.waitForSelector('#group-size');
  assert.match(await page.textContent('.notice.done'), /created/);
  assert.equal(await page.textContent('#group-size'), '2');
  const members = (await page.locator('table.members tbody tr td:first-child').allTextContents()).map((t) => t.trim());
  assert.deepEqual(members.sort(), rich.sort());
  await shot('group-members');
  // A member's page shows the value by the attribute's name.
  await page.click('table.members a:has-text("Anil Shah")');
  await page.waitForSelector('#customer-status');
  assert.match(await page.textContent('#attributes'), new RegExp(`Loyalty points\\s*${slug}\\s*number\\s*250`));

  // A value the attribute cannot hold is refused with the reason, on the form's page.
  await page.goto(appPath('groups'));
  await page.fill('#new-group input[name="name"]', 'Broken');
  const row = page.locator('#new-group fieldset.condition').first();
  await row.locator('select[name="definition_id"]').selectOption(definition._id);
  await row.locator('select[name="operator"]').selectOption('gte');
  await row.locator('input[name="value"]').fill('lots');
  await page.click('#new-group button[type="submit"]');
  await page.waitForSelector('.notice.error');
  assert.match(await page.textContent('.notice.error'), /conditions\[0\]/);
});

test('the lockout policy edited in the console is what the SDK reads back; a bad number is refused by name', async () => {
  await page.goto(appPath('settings'));
  await page.fill('input[name="account_lockout.attempts"]', '3');
  await page.fill('input[name="account_lockout.duration"]', '45');
  await page.click('#settings-form button[type="submit"]');
  await page.waitForSelector('.notice.done');
  assert.equal(await page.inputValue('input[name="account_lockout.attempts"]'), '3');
  await shot('settings-saved');
  const config = await h.sdk(ctx.adminUser.getPlatformConfig());
  assert.equal(config.account_lockout.attempts, 3);
  assert.equal(config.account_lockout.duration, 45);
  assert.equal(config.account_lockout.enable, true);

  await page.fill('input[name="account_lockout.attempts"]', 'three');
  await page.click('#settings-form button[type="submit"]');
  await page.waitForSelector('.notice.error');
  assert.match(await page.textContent('.notice.error'), /Failed attempts before the lock must be a whole number/);
  const unchanged = await h.sdk(ctx.adminUser.getPlatformConfig());
  assert.equal(unchanged.account_lockout.attempts, 3);

  // Someone else saves while the form is open: saving the stale form is refused, not
  // allowed to undo their change.
  await page.goto(appPath('settings'));
  await h.sdk(ctx.adminUser.updatePlatformConfig({ body: { account_lockout: { attempts: 9 } } }));
  await page.fill('input[name="account_lockout.duration"]', '60');
  await page.click('#settings-form button[type="submit"]');
  await page.waitForSelector('.notice.error');
  assert.match(await page.textContent('.notice.error'), /changed since this page was opened/);
  assert.equal(await page.inputValue('input[name="account_lockout.attempts"]'), '9');
  const theirs = await h.sdk(ctx.adminUser.getPlatformConfig());
  assert.deepEqual([theirs.account_lockout.attempts, theirs.account_lockout.duration], [9, 45]);
});

test('a form without the session\'s form token, or from another origin, changes nothing', async () => {
  const customer = await h.createCustomer(ctx.user, { first_name: 'Forged', last_name: 'Post' });
  await page.goto(appPath(`customers/${customer._id}`));
  const token = await page.locator('input[name="form_token"]').first().inputValue();
  const post = (form, origin) => page.request.post(appPath(`customers/${customer._id}/block`), {
    form, headers: { origin }, maxRedirects: 0,
  });
  assert.equal((await post({ reason: 'forged' }, ctx.base)).status(), 403, 'no form token');
  assert.equal((await post({ form_token: 'f'.repeat(64), reason: 'forged' }, ctx.base)).status(), 403, 'wrong token');
  assert.equal((await post({ form_token: token, reason: 'forged' }, 'https://evil.example')).status(), 403, 'cross-site');
  const still = await h.sdk(ctx.user.searchUsers({ q: customer.emails[0].email }));
  assert.equal(still.users[0].active, true);
  // The same form with the token, from the console's origin, works.
  assert.equal((await post({ form_token: token, reason: 'checked' }, ctx.base)).status(), 303);
  const blocked = await h.sdk(ctx.user.searchUsers({ q: customer.emails[0].email }));
  assert.equal(blocked.users[0].active, false);
});

test('a read-only client sees no actions and may not post them; signing out ends the session', async () => {
  const customer = await h.createCustomer(ctx.user, { first_name: 'Read', last_name: 'Only' });
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
  const phone = await context.newPage();
  await signIn(ctx.ro, phone);
  await phone.waitForURL(/\/console\/apps$/);
  await phone.goto(appPath(`customers/${customer._id}`));
  await phone.waitForSelector('#customer-status');
  assert.equal(await phone.locator('form[action$="/block"]').count(), 0);
  await shot('customer-on-a-phone', phone);
  // Every page fits a phone's width: nothing but the tables (which scroll in their own
  // box) is wider than the screen.
  for (const rest of [`customers/${customer._id}`, 'customers', 'groups', 'attributes', 'settings']) {
    await phone.goto(appPath(rest));
    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `${rest} is ${overflow}px wider than the phone`);
  }
  await shot('settings-on-a-phone', phone);
  // Posting the form anyway (with this session's token) is refused.
  const token = await phone.locator('input[name="form_token"]').first().inputValue();
  const refused = await phone.request.post(appPath(`customers/${customer._id}/block`), {
    form: { form_token: token, reason: 'x' }, headers: { origin: ctx.base }, maxRedirects: 0,
  });
  assert.equal(refused.status(), 403);
  const unchanged = await h.sdk(ctx.user.searchUsers({ q: customer.emails[0].email }));
  assert.equal(unchanged.users[0].active, true);

  await phone.click('form.sign-out button');
  await phone.waitForURL(/\/console\/sign-in$/);
  await phone.goto(appPath('customers'));
  assert.match(phone.url(), /\/console\/sign-in$/);
  await context.close();
});
