'use strict';
// Storefront (ApplicationClient) basics: application authentication, getPlatformConfig,
// registerWithForm and userExists. Tests that change the configuration use an application
// of their own (ctx.newApp()).

const { test } = require('node:test');
const assert = require('node:assert/strict');
const h = require('./helpers');

const ctx = h.useServer();

const STOREFRONT = '/service/application/user';

function appAuth(applicationId, token) {
  return 'Bearer ' + Buffer.from(`${applicationId}:${token}`).toString('base64');
}

/** A new application with registration that creates the account at once. */
async function softApp() {
  const app = await ctx.newApp();
  await h.setConfig(app.user, h.SOFT_REGISTRATION);
  return app;
}

test('a wrong application token or unknown application is 401 with authenticated:false', async () => {
  for (const app of [
    { application_id: ctx.applicationId, application_token: 'not-the-token' },
    { application_id: h.unknownId(), application_token: ctx.app.application_token },
  ]) {
    const sf = h.makeStorefront(ctx.base, app);
    const err = await h.sdkError(sf.user.getPlatformConfig(), 401, 'UNAUTHENTICATED');
    assert.equal(err.details.authenticated, false);
    await h.sdkError(sf.user.registerWithForm({ body: h.registrationBody() }), 401, 'UNAUTHENTICATED');
  }
});

test('no or malformed application Authorization is 401 (plain fetch)', async () => {
  const url = `${ctx.base}${STOREFRONT}/platform/v1.0/config`;
  for (const headers of [
    {},
    { Authorization: `Bearer ${ctx.app.application_token}` },
    { Authorization: 'Basic ' + Buffer.from(`${ctx.applicationId}:${ctx.app.application_token}`).toString('base64') },
    { Authorization: 'Bearer !!!not-base64' },
  ]) {
    const res = await h.rawRequest('GET', url, { headers });
    assert.equal(res.status, 401, JSON.stringify(headers));
    h.assertErrorBody(res.body, 401, 'UNAUTHENTICATED');
  }
  const ok = await h.rawRequest('GET', url, { headers: { Authorization: appAuth(ctx.applicationId, ctx.app.application_token) } });
  assert.equal(ok.status, 200, ok.text);
});

test('getPlatformConfig (storefront) returns the login settings in PlatformSchema shape, without secrets', async () => {
  const app = await ctx.newApp();
  const secret = 'fb-secret-' + h.uniqueTag();
  const admin = await h.setConfig(app.user, {
    social: { facebook: true },
    social_tokens: { facebook: { app_id: 'fb-1', app_secret: secret } },
    login: { otp: false },
  });
  const { body: cfg } = await h.sfCall(app.storefront(), 'getPlatformConfig');
  h.assertModel('PlatformSchema', cfg);
  h.assertNoNulls(cfg);
  const text = JSON.stringify(cfg);
  assert.ok(!text.includes('app_secret') && !text.includes(secret), `storefront config leaks a secret: ${text}`);
  for (const key of ['login', 'register', 'forgot_password', 'social', 'social_tokens', 'register_required_fields',
    'required_fields', 'session_config', 'password_settings', 'flash_card', 'look_and_feel', 'name', 'display']) {
    assert.deepEqual(cfg[key], admin[key], `storefront ${key} matches the admin view`);
  }
  assert.deepEqual(cfg.social_tokens.facebook, { app_id: 'fb-1' });
  assert.equal(cfg.login.otp, false);
});

test('registerWithForm with the default configuration asks for OTP and creates no account', async () => {
  const sf = ctx.storefront();
  const body = h.registrationBody();
  const res = await h.sfCall(sf, 'registerWithForm', { body });
  assert.equal(res.body.verify_mobile_otp, true);
  assert.equal(typeof res.body.verify_email_otp, 'boolean');
  assert.equal(typeof res.body.register_token, 'string');
  assert.ok(res.body.register_token.length > 0, 'a register_token to continue with');
  assert.equal(res.body.user_exists, false);
  assert.equal(res.body.mobile, body.phone.mobile);
  assert.equal(res.body.country_code, '91');
  assert.equal(res.body.email, body.email);
  assert.equal(res.body.user, undefined, 'no user before verification');
  assert.equal(res.cookie, undefined, 'no session before verification');
  h.assertNoNulls(res.body);

  assert.deepEqual(await h.sdk(sf.user.userExists({ q: body.email })), { user_exists: false });
  assert.deepEqual(await h.listAll(ctx.user, JSON.stringify({ 'emails.email': body.email })), []);
  await h.sdkError(sf.user.getLoggedInUser(), 401, 'UNAUTHENTICATED');
});

test('registration rules of the default configuration: mobile and password required, password policy', async () => {
  const sf = ctx.storefront();
  const noPhone = await h.sdkError(sf.user.registerWithForm({ body: h.registrationBody({ phone: undefined }) }), 400, 'VALIDATION_ERROR');
  assert.ok(noPhone.details.message.startsWith('phone'), noPhone.details.message);
  const noPassword = await h.sdkError(sf.user.registerWithForm({ body: h.registrationBody({ password: undefined }) }), 400, 'VALIDATION_ERROR');
  assert.ok(noPassword.details.message.startsWith('password'), noPassword.details.message);
  for (const weak of ['Sup3r', 'Super-secret']) {
    const err = await h.sdkError(sf.user.registerWithForm({ body: h.registrationBody({ password: weak }) }), 400, 'VALIDATION_ERROR');
    assert.ok(err.details.message.startsWith('password'), `${weak}: ${err.details.message}`);
  }
});

test('with mobile level "soft", registerWithForm creates the account and signs it in', async () => {
  const app = await softApp();
  const sf = app.storefront();
  const body = h.registrationBody();
  const res = await h.sfCall(sf, 'registerWithForm', { body });
  const { user } = res.body;
  assert.ok(user, `registration returned no user: ${JSON.stringify(res.body)}`);
  h.assertCustomerShape(user, app.applicationId);
  assert.equal(user.first_name, 'Meera');
  assert.equal(user.last_name, 'Iyer');
  assert.deepEqual(user.emails.map((e) => e.email), [body.email]);
  assert.deepEqual(user.phone_numbers.map((p) => [p.phone, p.country_code]), [[body.phone.mobile, 91]]);
  assert.equal(res.body.verify_mobile_otp, false);
  assert.equal(res.body.verify_email_otp, false);
  h.assertNoSecrets(res.body);

  assert.ok(res.cookie, 'Set-Cookie f.session');
  assert.ok(res.cookie.value.length >= 32);
  assert.equal(res.cookie.attributes.httponly, true);
  assert.equal(res.cookie.attributes.path, '/');
  assert.equal(res.cookie.attributes['max-age'], String(30 * 24 * 3600));

  const me = await h.sdk(sf.user.getLoggedInUser());
  assert.deepEqual(Object.keys(me), ['user']);
  assert.equal(me.user._id, user._id);
  h.assertCustomerShape(me.user, app.applicationId);

  // The admin API sees the new customer.
  const [listed] = await h.listAll(app.user, JSON.stringify({ _id: user._id }));
  assert.equal(listed.first_name, 'Meera');
  assert.equal(listed.active, true);
});

test('userExists by email and by phone', async () => {
  const app = await softApp();
  const body = h.registrationBody();
  await h.sfCall(app.storefront(), 'registerWithForm', { body });
  const sf = app.storefront();
  // (Other spellings of the email and the number: the Rust API tests.)
  assert.deepEqual(await h.sdk(sf.user.userExists({ q: body.email })), { user_exists: true });
  assert.deepEqual(await h.sdk(sf.user.userExists({ q: body.phone.mobile })), { user_exists: true });
  assert.deepEqual(await h.sdk(sf.user.userExists({ q: h.uniquePhone() })), { user_exists: false });
  assert.deepEqual(await h.sdk(sf.user.userExists({ q: 'not an email or phone' })), { user_exists: false });
  // Customers of another application do not count.
  assert.deepEqual(await h.sdk(ctx.storefront().user.userExists({ q: body.email })), { user_exists: false });
  const err = await h.sdkError(sf.user.userExists({}), 400, 'VALIDATION_ERROR');
  assert.ok(err.details.message.startsWith('q'), err.details.message);
});
