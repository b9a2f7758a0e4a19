'use strict';
// Admin-managed storefront sessions: createUserSession (POST …/customers/session),
// getActiveSessions (GET …/customers/sessions), deleteSession (DELETE …/customers/session),
// deleteActiveSessions (DELETE …/customers/sessions).

const { test } = require('node:test');
const assert = require('node:assert/strict');
const h = require('./helpers');

const ctx = h.useServer();

/** createUserSession; `maxAge: null` leaves max_age out. */
async function mint(customer, { domain = 'shop.example.com', maxAge = 3600 } = {}) {
  const body = { domain, user_id: customer._id };
  if (maxAge !== null) body.max_age = maxAge;
  return h.sdk(ctx.user.createUserSession({ body }));
}

/** Is `token` a live session of the storefront? Returns the signed-in user id or null. */
async function whoIs(token) {
  const sf = ctx.storefront();
  h.useSession(sf, token);
  try {
    const res = await sf.user.getLoggedInUser();
    return res.user._id;
  } catch (err) {
    if (!(err instanceof h.FDKServerResponseError)) throw err;
    assert.equal(err.code, 401, `expected 401 for a dead session, got ${err.code}: ${JSON.stringify(err.details)}`);
    h.assertErrorBody(err.details, 401, 'UNAUTHENTICATED');
    return null;
  }
}

async function sessionIds(customer) {
  const res = await h.sdk(ctx.user.getActiveSessions({ id: customer._id }));
  return res.items.map((s) => s.session_id).sort();
}

test('createUserSession mints a cookie the storefront accepts', async () => {
  const c = await h.createCustomer(ctx.user);
  const res = await mint(c, { domain: 'shop.example.com', maxAge: 3600 });
  assert.deepEqual(Object.keys(res).sort(), ['cookie', 'domain', 'http_only', 'max_age', 'secure']);
  assert.equal(res.domain, 'shop.example.com');
  assert.equal(res.max_age, 3600);
  assert.equal(res.http_only, true);
  assert.equal(typeof res.secure, 'boolean');
  assert.deepEqual(Object.keys(res.cookie), ['f.session']);
  const token = res.cookie['f.session'];
  assert.equal(typeof token, 'string');
  assert.ok(token.length >= 32, `session token looks too short: ${token}`);

  assert.equal(await whoIs(token), c._id);
  // A second session is a different token.
  const other = await mint(c);
  assert.notEqual(other.cookie['f.session'], token);
});

test('max_age defaults to the configured session lifetime (30 days) and must be 1 s .. 1 year', async () => {
  const c = await h.createCustomer(ctx.user);
  const res = await mint(c, { maxAge: null });
  assert.equal(res.max_age, 30 * 24 * 3600);
  for (const bad of [0, -5, 1.5, 366 * 24 * 3600]) {
    const err = await h.sdkError(
      ctx.user.createUserSession({ body: { domain: 'shop.example.com', user_id: c._id, max_age: bad } }),
      400,
      'VALIDATION_ERROR',
    );
    assert.ok(err.details.message.startsWith('max_age'), err.details.message);
  }
});

test('missing domain or user_id is 400 VALIDATION_ERROR naming the field', async () => {
  const c = await h.createCustomer(ctx.user);
  const d = await h.sdkError(ctx.user.createUserSession({ body: { user_id: c._id, max_age: 60 } }), 400, 'VALIDATION_ERROR');
  assert.ok(d.details.message.startsWith('domain'), d.details.message);
  const u = await h.sdkError(ctx.user.createUserSession({ body: { domain: 'x.example.com', max_age: 60 } }), 400, 'VALIDATION_ERROR');
  assert.ok(u.details.message.startsWith('user_id'), u.details.message);
  const m = await h.sdkError(ctx.user.createUserSession({ body: { domain: 'x.example.com', user_id: 'nope', max_age: 60 } }), 400, 'VALIDATION_ERROR');
  assert.ok(m.details.message.startsWith('user_id'), m.details.message);
});

test('getActiveSessions lists the customer\'s live sessions only', async () => {
  const c = await h.createCustomer(ctx.user);
  const other = await h.createCustomer(ctx.user);
  assert.deepEqual(await h.sdk(ctx.user.getActiveSessions({ id: c._id })), { items: [] });

  const before = Date.now();
  await mint(c, { domain: 'a.example.com', maxAge: 3600 });
  await mint(c, { domain: 'b.example.com', maxAge: 7200 });
  await mint(other);
  const res = await h.sdk(ctx.user.getActiveSessions({ id: c._id }));
  assert.deepEqual(Object.keys(res), ['items']);
  assert.equal(res.items.length, 2);
  for (const s of res.items) {
    assert.deepEqual(Object.keys(s).sort(), ['domain', 'expire_in', 'ip', 'location', 'session_id', 'user_agent']);
    assert.match(s.session_id, h.HEX24);
    for (const k of ['user_agent', 'ip', 'domain', 'location']) assert.equal(typeof s[k], 'string', k);
    h.assertIsoDate(s.expire_in, 'expire_in');
  }
  h.assertNoNulls(res);
  const byDomain = Object.fromEntries(res.items.map((s) => [s.domain, s]));
  assert.deepEqual(Object.keys(byDomain).sort(), ['a.example.com', 'b.example.com']);
  const expA = Date.parse(byDomain['a.example.com'].expire_in);
  assert.ok(expA >= before + 3600_000 - 5000 && expA <= Date.now() + 3600_000 + 5000, `expire_in ${byDomain['a.example.com'].expire_in}`);
  const expB = Date.parse(byDomain['b.example.com'].expire_in);
  assert.ok(Math.abs(expB - expA - 3600_000) < 10_000, 'the 2-hour session expires an hour later');
  assert.equal((await sessionIds(other)).length, 1);
});

test('deleteSession ends one session: its cookie stops working, the others keep working', async () => {
  const c = await h.createCustomer(ctx.user);
  const a = (await mint(c, { domain: 'a.example.com' })).cookie['f.session'];
  const b = (await mint(c, { domain: 'b.example.com' })).cookie['f.session'];
  const items = (await h.sdk(ctx.user.getActiveSessions({ id: c._id }))).items;
  const sessionA = items.find((s) => s.domain === 'a.example.com').session_id;
  const sessionB = items.find((s) => s.domain === 'b.example.com').session_id;

  const res = await h.sdk(ctx.user.deleteSession({ id: c._id, sessionId: sessionA, reason: 'lost phone' }));
  assert.deepEqual(res, { user_id: c._id, session_id: sessionA });
  assert.deepEqual(await sessionIds(c), [sessionB]);
  assert.equal(await whoIs(a), null, 'the ended session is refused');
  assert.equal(await whoIs(b), c._id, 'the other session still works');

  // Ending it again, or a session that belongs to someone else, is 404 SESSION_NOT_FOUND.
  await h.sdkError(ctx.user.deleteSession({ id: c._id, sessionId: sessionA, reason: 'again' }), 404, 'SESSION_NOT_FOUND');
  const other = await h.createCustomer(ctx.user);
  await h.sdkError(ctx.user.deleteSession({ id: other._id, sessionId: sessionB, reason: 'x' }), 404, 'SESSION_NOT_FOUND');
  assert.equal(await whoIs(b), c._id);
});

test('deleteSession and deleteActiveSessions need a reason (400 naming reason)', async () => {
  const c = await h.createCustomer(ctx.user);
  await mint(c);
  const [id] = await sessionIds(c);
  // The 3.4.2 validator allows an empty string.
  const one = await h.sdkError(ctx.user.deleteSession({ id: c._id, sessionId: id, reason: '' }), 400, 'VALIDATION_ERROR');
  assert.ok(one.details.message.startsWith('reason'), one.details.message);
  const all = await h.sdkError(ctx.user.deleteActiveSessions({ id: c._id, reason: '' }), 400, 'VALIDATION_ERROR');
  assert.ok(all.details.message.startsWith('reason'), all.details.message);
  assert.deepEqual(await sessionIds(c), [id]);
  const bad = await h.sdkError(ctx.user.deleteSession({ id: c._id, sessionId: 'zz', reason: 'x' }), 400, 'VALIDATION_ERROR');
  assert.ok(bad.details.message.startsWith('session_id'), bad.details.message);
});

test('deleteActiveSessions ends every session of the customer and no one else\'s', async () => {
  const c = await h.createCustomer(ctx.user);
  const other = await h.createCustomer(ctx.user);
  const tokens = [];
  for (let i = 0; i < 3; i += 1) tokens.push((await mint(c)).cookie['f.session']);
  const otherToken = (await mint(other)).cookie['f.session'];
  const ids = await sessionIds(c);
  assert.equal(ids.length, 3);

  const res = await h.sdk(ctx.user.deleteActiveSessions({ id: c._id, reason: 'password leaked' }));
  assert.deepEqual(Object.keys(res).sort(), ['session_ids', 'user_id']);
  assert.equal(res.user_id, c._id);
  assert.deepEqual([...res.session_ids].sort(), ids);
  assert.deepEqual(await sessionIds(c), []);
  for (const t of tokens) assert.equal(await whoIs(t), null);
  assert.equal(await whoIs(otherToken), other._id);

  // Nothing left to end.
  assert.deepEqual(await h.sdk(ctx.user.deleteActiveSessions({ id: c._id, reason: 'again' })), { user_id: c._id, session_ids: [] });
});

test('unknown customer: 404 USER_NOT_FOUND for create, list and end-all', async () => {
  const ghost = h.unknownId();
  await h.sdkError(ctx.user.createUserSession({ body: { domain: 'x.example.com', user_id: ghost, max_age: 60 } }), 404, 'USER_NOT_FOUND');
  await h.sdkError(ctx.user.getActiveSessions({ id: ghost }), 404, 'USER_NOT_FOUND');
  await h.sdkError(ctx.user.deleteActiveSessions({ id: ghost, reason: 'x' }), 404, 'USER_NOT_FOUND');
  await h.sdkError(ctx.user.deleteSession({ id: ghost, sessionId: h.unknownId(), reason: 'x' }), 404);
});
