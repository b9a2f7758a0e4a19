'use strict';
// Storefront sign-in and the signed-in shopper's calls, through ApplicationClient:
// loginWithEmailAndPassword, getLoggedInUser, hasPassword, updatePassword,
// getListOfActiveSessions, logout. (Sign-in by phone, wrong passwords, lockout, blocked
// customers and the password rules: the Rust tests.)
// The main application registers without OTP (set once, on first use); tests that need
// another configuration use an application of their own.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const h = require('./helpers');

const ctx = h.useServer();

// (A second top-level `before` may run before useServer's has finished, so: lazily.)
let softRegistration;
function mainAppReady() {
  softRegistration ||= h.setConfig(ctx.adminUser, h.SOFT_REGISTRATION);
  return softRegistration;
}

/** Registers a fresh shopper on `app` (default: the main application). */
async function signUp(app = { storefront: ctx.storefront }) {
  await mainAppReady();
  return h.registerShopper(app.storefront());
}

/** Signs in on a new storefront client; returns { sf, body, cookie }. */
async function signIn(username, password = h.PASSWORD, app = { storefront: ctx.storefront }) {
  const sf = app.storefront();
  const res = await h.sfCall(sf, 'loginWithEmailAndPassword', { body: { username, password } });
  return { sf, body: res.body, cookie: res.cookie };
}

/** A sign-in expected to fail with `status` and `code`, leaving no session. */
async function loginError(username, password, status, code) {
  const sf = ctx.storefront();
  const err = await h.sdkError(sf.user.loginWithEmailAndPassword({ body: { username, password } }), status, code);
  await h.sdkError(sf.user.getLoggedInUser(), 401, 'UNAUTHENTICATED');
  return err;
}

/** A new application with registration that creates the account at once, and `config`. */
async function appWith(config) {
  const app = await ctx.newApp();
  await h.setConfig(app.user, { ...h.SOFT_REGISTRATION, ...config });
  return app;
}

test('loginWithEmailAndPassword by email signs in (Set-Cookie f.session) and getLoggedInUser returns the user', async () => {
  const shopper = await signUp();
  const { sf, body, cookie } = await signIn(shopper.email);
  assert.equal(body.user._id, shopper.user._id);
  h.assertCustomerShape(body.user, ctx.applicationId);
  assert.equal(typeof body.request_id, 'string');
  assert.ok(cookie && cookie.value.length >= 32, 'a session cookie');
  assert.notEqual(cookie.value, shopper.token, 'a new session');
  assert.equal(cookie.attributes.httponly, true);
  assert.equal(cookie.attributes['max-age'], String(30 * 24 * 3600));
  const me = await h.sdk(sf.user.getLoggedInUser());
  assert.equal(me.user._id, shopper.user._id);
  // The email is matched without case.
  const upper = await signIn(shopper.email.toUpperCase());
  assert.equal(upper.body.user._id, shopper.user._id);
});

test('missing username or password is 400 VALIDATION_ERROR naming the field', async () => {
  const sf = ctx.storefront();
  const u = await h.sdkError(sf.user.loginWithEmailAndPassword({ body: { password: h.PASSWORD } }), 400, 'VALIDATION_ERROR');
  assert.ok(u.details.message.startsWith('username'), u.details.message);
  const p = await h.sdkError(sf.user.loginWithEmailAndPassword({ body: { username: h.uniqueEmail() } }), 400, 'VALIDATION_ERROR');
  assert.ok(p.details.message.startsWith('password'), p.details.message);
});

test('signed-in calls without a session cookie, or with a bogus one, are 401 authenticated:false', async () => {
  const sf = ctx.storefront();
  for (const token of [undefined, 'f'.repeat(64)]) {
    h.useSession(sf, token);
    for (const call of [
      () => sf.user.getLoggedInUser(),
      () => sf.user.hasPassword(),
      () => sf.user.getListOfActiveSessions(),
      () => sf.user.logout(),
      () => sf.user.updatePassword({ body: { old_password: h.PASSWORD, new_password: 'N3w-secret' } }),
    ]) {
      const err = await h.sdkError(call(), 401, 'UNAUTHENTICATED');
      assert.equal(err.details.authenticated, false);
    }
  }
});

test('hasPassword is {result: 0} for a customer created by the admin without a password', async () => {
  const c = await h.createCustomer(ctx.user);
  const { cookie } = await h.sdk(ctx.user.createUserSession({ body: { domain: 'shop.example.com', user_id: c._id, max_age: 600 } }));
  const sf = ctx.storefront();
  h.useSession(sf, cookie['f.session']);
  assert.deepEqual(await h.sdk(sf.user.hasPassword()), { result: 0 });
});

test('updatePassword changes the password, keeps this session and ends the others', async () => {
  const shopper = await signUp();
  const elsewhere = await signIn(shopper.email);
  const res = await h.sdk(shopper.sf.user.updatePassword({ body: { old_password: h.PASSWORD, new_password: 'N3w-secret!' } }));
  assert.deepEqual(res, { message: 'success' });

  assert.equal((await h.sdk(shopper.sf.user.getLoggedInUser())).user._id, shopper.user._id, 'this session is kept');
  await h.sdkError(elsewhere.sf.user.getLoggedInUser(), 401, 'UNAUTHENTICATED');
  await loginError(shopper.email, h.PASSWORD, 400, 'INVALID_CREDENTIALS');
  const again = await signIn(shopper.email, 'N3w-secret!');
  assert.equal(again.body.user._id, shopper.user._id);
});

test('getListOfActiveSessions lists the shopper\'s sessions, as the admin API does', async () => {
  const shopper = await signUp();
  await signIn(shopper.email);
  const res = await h.sdk(shopper.sf.user.getListOfActiveSessions());
  assert.deepEqual(Object.keys(res), ['sessions']);
  assert.equal(res.sessions.length, 2);
  for (const s of res.sessions) assert.equal(typeof s, 'string');
  const admin = await h.sdk(ctx.user.getActiveSessions({ id: shopper.user._id }));
  assert.deepEqual([...res.sessions].sort(), admin.items.map((i) => i.session_id).sort());
  // Storefront sessions record where they came from.
  for (const item of admin.items) {
    assert.ok(item.domain.startsWith('127.0.0.1:'), `domain is the Host: ${item.domain}`);
    assert.ok(item.ip.length > 0, 'ip is recorded');
  }
});

test('logout ends the session: {logout:true}, the cookie is cleared and no longer accepted', async () => {
  const shopper = await signUp();
  const elsewhere = await signIn(shopper.email);
  const res = await h.sfCall(shopper.sf, 'logout');
  assert.deepEqual(res.body, { logout: true });
  assert.ok(res.cookie, 'logout sends a Set-Cookie for f.session');
  assert.ok(res.cookie.value === '' || res.cookie.attributes['max-age'] === '0', `the cookie is expired: ${res.cookie.raw}`);

  // The browser dropped it …
  await h.sdkError(shopper.sf.user.getLoggedInUser(), 401, 'UNAUTHENTICATED');
  // … and replaying the old token does not work either.
  h.useSession(shopper.sf, shopper.token);
  const err = await h.sdkError(shopper.sf.user.getLoggedInUser(), 401, 'UNAUTHENTICATED');
  assert.equal(err.details.authenticated, false);
  // Other sessions are unaffected.
  assert.equal((await h.sdk(elsewhere.sf.user.getLoggedInUser())).user._id, shopper.user._id);
  const admin = await h.sdk(ctx.user.getActiveSessions({ id: shopper.user._id }));
  assert.equal(admin.items.length, 1);
});

test('session_config sets the cookie lifetime (12 hours → Max-Age=43200) and the session expiry', async () => {
  const app = await appWith({ session_config: { type: 'hours', duration: 12 } });
  const shopper = await signUp(app);
  const { cookie, body } = await signIn(shopper.email, h.PASSWORD, app);
  assert.equal(cookie.attributes['max-age'], '43200');
  const sessions = await h.sdk(app.user.getActiveSessions({ id: body.user._id }));
  for (const s of sessions.items) {
    const left = Date.parse(s.expire_in) - Date.now();
    assert.ok(left > 11.9 * 3600_000 && left <= 12 * 3600_000 + 5000, `expire_in ${s.expire_in}`);
  }
});
