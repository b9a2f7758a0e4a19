'use strict';
// Authentication configuration: getPlatformConfig / updatePlatformConfig
// (GET/POST …/application/{id}/platform/config), strict 3.4.2 PlatformSchema checks.
// Tests that change the configuration do so on an application of their own (ctx.newApp()).

const { test } = require('node:test');
const assert = require('node:assert/strict');
const h = require('./helpers');

const ctx = h.useServer();

const TOP_LEVEL_KEYS = [
  '__v', '_id', 'account_lockout', 'active', 'application_id', 'created_at', 'delete_account_consent',
  'delete_account_day', 'delete_account_reasons', 'desktop_image', 'display', 'flash_card', 'forgot_password',
  'login', 'look_and_feel', 'meta', 'mobile_image', 'name', 'password_settings', 'register',
  'register_required_fields', 'required_fields', 'session_config', 'skip_captcha', 'skip_login', 'social',
  'social_tokens', 'subtext', 'updated_at',
];

/** The document without its bookkeeping keys. */
function settings(config) {
  const { __v, created_at, updated_at, ...rest } = config;
  return rest;
}

function assertNoAppSecret(config, secret) {
  const text = JSON.stringify(config);
  assert.ok(!text.includes('app_secret'), `app_secret must never be returned: ${text}`);
  if (secret) assert.ok(!text.includes(secret), 'the secret value must never be returned');
}

test('defaults before any save: __v 0, the full object, no nulls', async () => {
  const app = await ctx.newApp('Default Shop');
  const cfg = await h.sdk(app.user.getPlatformConfig());
  const missing = TOP_LEVEL_KEYS.filter((k) => !(k in cfg));
  assert.deepEqual(missing, [], 'every PlatformSchema key is present');
  h.assertNoNulls(cfg);
  assert.equal(cfg.__v, 0);
  assert.equal(cfg._id, app.applicationId);
  assert.equal(cfg.application_id, app.applicationId);
  h.assertIsoDate(cfg.created_at, 'created_at');
  h.assertIsoDate(cfg.updated_at, 'updated_at');
  assert.equal(cfg.name, 'Default Shop');
  assert.equal(cfg.display, 'Default Shop');
  assert.equal(typeof cfg.subtext, 'string');
  assert.equal(cfg.active, true);
  assert.deepEqual(cfg.login, { password: true, otp: true, via: 'mobile' });
  assert.equal(cfg.register, true);
  assert.equal(cfg.forgot_password, true);
  assert.deepEqual(cfg.social, { facebook: false, google: false, apple: false, account_kit: false });
  assert.deepEqual(cfg.register_required_fields.mobile, { is_required: true, level: 'hard' });
  assert.deepEqual(cfg.account_lockout, { enable: true, attempts: 5, duration: 15 });
  assert.deepEqual(cfg.password_settings.configs, {
    length: 8,
    require_special_character: false,
    require_number: true,
    require_capital_character: false,
  });
  assert.deepEqual(cfg.session_config, { duration: 30, type: 'Days', is_rolling: false });
  assert.deepEqual(cfg.social_tokens.account_kit, cfg.social_tokens.accountkit, 'both Account Kit spellings');
  assert.ok(Array.isArray(cfg.delete_account_reasons) && cfg.delete_account_reasons.length > 0);
  assertNoAppSecret(cfg);

  // Reading never saves: a second read is identical.
  assert.deepEqual(await h.sdk(app.user.getPlatformConfig()), cfg);
});

test('an update merges deeply, canonicalises enums and increments __v', async () => {
  const app = await ctx.newApp();
  const before = await h.sdk(app.user.getPlatformConfig());

  const first = await h.setConfig(app.user, { login: { otp: false }, session_config: { type: 'hours', duration: 12 } });
  assert.equal(first.__v, 1);
  assert.deepEqual(first.login, { password: true, otp: false, via: 'mobile' }, 'siblings of login.otp are kept');
  assert.deepEqual(first.session_config, { type: 'Hours', duration: 12, is_rolling: false });
  h.assertNoNulls(first);
  // Nothing else changed.
  assert.deepEqual(
    { ...settings(first), login: before.login, session_config: before.session_config },
    settings(before),
  );
  assert.ok(Date.parse(first.updated_at) >= Date.parse(before.updated_at));

  const second = await h.setConfig(app.user, { flash_card: { text: 'Sale today' }, required_fields: { email: { level: 'SOFT' } } });
  assert.equal(second.__v, 2);
  assert.equal(second.flash_card.text, 'Sale today');
  assert.equal(second.flash_card.text_color, before.flash_card.text_color);
  assert.deepEqual(second.required_fields.email, { is_required: before.required_fields.email.is_required, level: 'soft' });
  assert.equal(second.login.otp, false, 'earlier updates are kept');
  assert.equal(second.session_config.type, 'Hours');
  assert.ok(Date.parse(second.updated_at) >= Date.parse(first.updated_at));

  // A read returns what the last update returned.
  assert.deepEqual(await h.sdk(app.user.getPlatformConfig()), second);
});

test('server-managed keys sent by the client are ignored', async () => {
  const app = await ctx.newApp();
  const res = await h.setConfig(app.user, { __v: 99, _id: 'not-mine', login: { otp: false } });
  assert.equal(res.__v, 1);
  assert.equal(res._id, app.applicationId);
  assert.equal(res.application_id, app.applicationId);
});

test('validation errors are 400 VALIDATION_ERROR whose message starts with the field path', async () => {
  const app = await ctx.newApp();
  await h.setConfig(app.user, { flash_card: { text: 'v1' } });
  const cases = [
    [{ account_lockout: { attempts: 0 } }, 'account_lockout.attempts'],
    [{ account_lockout: { attempts: 101 } }, 'account_lockout.attempts'],
    [{ account_lockout: { duration: 0 } }, 'account_lockout.duration'],
    [{ password_settings: { configs: { length: 5 } } }, 'password_settings.configs.length'],
    [{ password_settings: { history: { count: 25 } } }, 'password_settings.history.count'],
    [{ session_config: { type: 'Weeks' } }, 'session_config.type'],
    [{ session_config: { duration: 0 } }, 'session_config.duration'],
    [{ session_config: { duration: 1.5 } }, 'session_config.duration'],
    [{ register_required_fields: { mobile: { level: 'medium' } } }, 'register_required_fields.mobile.level'],
    // A valid change next to an invalid one: nothing is applied.
    [{ flash_card: { text: 'v2' }, account_lockout: { attempts: 0 } }, 'account_lockout.attempts'],
  ];
  for (const [body, field] of cases) {
    const err = await h.sdkError(app.user.updatePlatformConfig({ body }), 400, 'VALIDATION_ERROR');
    assert.ok(err.details.message.startsWith(field), `${JSON.stringify(body)}: message ${JSON.stringify(err.details.message)} should start with ${field}`);
  }
  const after = await h.sdk(app.user.getPlatformConfig());
  assert.equal(after.__v, 1, 'rejected updates are not saved');
  assert.equal(after.flash_card.text, 'v1');
  assert.deepEqual(after.account_lockout, { enable: true, attempts: 5, duration: 15 });
});

test('wrongly typed values the SDK would refuse are 400 naming the field (plain fetch)', async () => {
  const app = await ctx.newApp();
  for (const [body, field] of [
    [{ register: 'yes' }, 'register'],
    [{ login: true }, 'login'],
    [{ display: 5 }, 'display'],
  ]) {
    const res = await h.appApi(ctx, 'POST', '/platform/config', {
      applicationId: app.applicationId,
      token: ctx.adminToken.access_token,
      body,
    });
    const json = h.rawError(res, 400, 'VALIDATION_ERROR');
    assert.ok(json.message.startsWith(field), `${JSON.stringify(body)}: ${json.message}`);
  }
});

test('a social app_secret is accepted but never returned (update, read, storefront)', async () => {
  const app = await ctx.newApp();
  const secret = 'g-secret-' + h.uniqueTag();
  const res = await h.setConfig(app.user, {
    social: { google: true },
    social_tokens: { google: { app_id: 'google-app-1', app_secret: secret } },
  });
  assert.equal(res.social.google, true);
  assert.deepEqual(res.social_tokens.google, { app_id: 'google-app-1' });
  assertNoAppSecret(res, secret);

  assertNoAppSecret(await h.sdk(app.user.getPlatformConfig()), secret);
  const [storefront] = await h.sdk(app.storefront().user.getPlatformConfig({}, { responseHeaders: true }));
  assertNoAppSecret(storefront, secret);

  // Changing only the app id keeps the secret hidden (and does not need it again).
  const again = await h.setConfig(app.user, { social_tokens: { google: { app_id: 'google-app-2' } } });
  assert.deepEqual(again.social_tokens.google, { app_id: 'google-app-2' });
  assertNoAppSecret(again, secret);
});

test('accountkit and account_kit are both accepted and both emitted', async () => {
  const app = await ctx.newApp();
  const seed = await h.setConfig(app.user, { social_tokens: { accountkit: { app_id: 'ak-1', app_secret: 'ak-secret-1' } } });
  assert.deepEqual(seed.social_tokens.accountkit, { app_id: 'ak-1' });
  assert.deepEqual(seed.social_tokens.account_kit, { app_id: 'ak-1' });
  assertNoAppSecret(seed, 'ak-secret-1');

  const sdkSpelling = await h.setConfig(app.user, { social_tokens: { account_kit: { app_id: 'ak-2' } } });
  assert.deepEqual(sdkSpelling.social_tokens.account_kit, { app_id: 'ak-2' });
  assert.deepEqual(sdkSpelling.social_tokens.accountkit, { app_id: 'ak-2' });
  assert.equal(sdkSpelling.social_tokens.google.app_id, '', 'other providers are untouched');

  const read = await h.sdk(app.user.getPlatformConfig());
  assert.deepEqual(read.social_tokens.accountkit, { app_id: 'ak-2' });
  assert.deepEqual(read.social_tokens.account_kit, { app_id: 'ak-2' });
});

test('an unknown application is 404 APPLICATION_NOT_FOUND for read and update', async () => {
  const other = ctx.adminClient.application(h.unknownId()).user;
  await h.sdkError(other.getPlatformConfig(), 404, 'APPLICATION_NOT_FOUND');
  await h.sdkError(other.updatePlatformConfig({ body: { login: { otp: false } } }), 404, 'APPLICATION_NOT_FOUND');
});
