'use strict';
// The storefront (application) side: the official ApplicationClient, its `f.session` cookie,
// and registering shoppers.

const assert = require('node:assert/strict');
const { ApplicationConfig, ApplicationClient } = require('@gofynd/fdk-client-javascript');

const { sdk } = require('./assertions');
const { runCli } = require('./patron-process');
const { SDK_LOG_LEVEL } = require('./platform-client');
const { uniqueEmail, uniquePhone } = require('./sample-data');

/**
 * Builds an official ApplicationClient for `app` (`patron app create --json` output). It sends
 * `Authorization: Bearer base64(applicationID:applicationToken)`, and the cookie set with
 * `setCookie`. (3.4.2 does not validate storefront responses against any model.)
 */
function makeStorefront(base, app) {
  const config = new ApplicationConfig(
    {
      applicationID: app.application_id,
      applicationToken: app.application_token,
      domain: base,
      logLevel: SDK_LOG_LEVEL,
    },
    { strictResponseCheck: true },
  );
  return new ApplicationClient(config);
}

/**
 * Parses the `f.session` Set-Cookie of a response's headers (axios headers or a fetch
 * Headers). Returns undefined when there is none, else { value, attributes, raw } with
 * lower-cased attribute names.
 */
function sessionCookie(headers) {
  let list;
  if (headers && typeof headers.getSetCookie === 'function') list = headers.getSetCookie();
  else list = headers && headers['set-cookie'];
  if (list === undefined || list === null) return undefined;
  if (!Array.isArray(list)) list = [list];
  const found = list.filter((c) => c.startsWith('f.session='));
  if (found.length === 0) return undefined;
  assert.equal(found.length, 1, `one f.session Set-Cookie expected, got ${JSON.stringify(found)}`);
  const [pair, ...attrs] = found[0].split(';').map((p) => p.trim());
  const attributes = {};
  for (const a of attrs) {
    const eq = a.indexOf('=');
    if (eq < 0) attributes[a.toLowerCase()] = true;
    else attributes[a.slice(0, eq).toLowerCase()] = a.slice(eq + 1);
  }
  return { value: pair.slice('f.session='.length), attributes, raw: found[0] };
}

/**
 * Calls `client.user[method](args)` asking the SDK for the response headers, and, like a
 * browser, adopts (or, when expired, drops) the `f.session` cookie it sets.
 * Returns { body, headers, cookie } (cookie: see sessionCookie).
 */
async function sfCall(client, method, args = {}) {
  const [body, headers] = await sdk(client.user[method](args, { responseHeaders: true }));
  const cookie = sessionCookie(headers);
  if (cookie) {
    const expired = cookie.value === '' || cookie.attributes['max-age'] === '0';
    client.setCookie(expired ? undefined : `f.session=${cookie.value}`);
  }
  return { body, headers, cookie };
}

/** Sets `f.session=<token>` on a storefront client. */
function useSession(client, token) {
  client.setCookie(token ? `f.session=${token}` : undefined);
}

/** The password every storefront test uses unless it needs another: length 10, has a digit. */
const PASSWORD = 'Sup3r-secret';

/** Registration that creates the account at once (no OTP step): mobile and email "soft". */
const SOFT_REGISTRATION = {
  register_required_fields: {
    mobile: { is_required: true, level: 'soft' },
    email: { is_required: false, level: 'soft' },
  },
};

/** A registerWithForm body for a fresh shopper. */
function registrationBody(overrides = {}) {
  return {
    first_name: 'Meera',
    last_name: 'Iyer',
    gender: 'female',
    email: uniqueEmail('shop'),
    password: PASSWORD,
    phone: { country_code: '91', mobile: uniquePhone() },
    ...overrides,
  };
}

/**
 * Registers a fresh shopper through `sf` (its application must create accounts at once, see
 * SOFT_REGISTRATION); `sf` is left signed in. Returns { sf, user, email, phone, token }.
 */
async function registerShopper(sf, overrides = {}) {
  const body = registrationBody(overrides);
  const res = await sfCall(sf, 'registerWithForm', { body });
  assert.ok(res.body.user, `registration created no user: ${JSON.stringify(res.body)}`);
  assert.ok(res.cookie && res.cookie.value, 'registration sets the session cookie');
  return { sf, user: res.body.user, email: body.email, phone: body.phone && body.phone.mobile, token: res.cookie.value };
}

/** The code (`data.otp`) of the newest outbox message to `to`, read with the CLI of `env`. */
async function newestCodeTo(env, to) {
  const { stdout } = await runCli(env, ['outbox', 'list', '--limit', '1000', '--json', '--reveal']);
  const [message] = JSON.parse(stdout).filter((m) => m.to === to);
  assert.ok(message && typeof message.data.otp === 'string', `no code sent to ${to}`);
  return message.data.otp;
}

/**
 * The signed-in `shopper` (from registerShopper) proves their mobile and email with codes
 * sent to them (sendOTPOnMobile/verifyMobileOTP, sendOTPOnEmail/verifyEmailOTP): only
 * proven contacts sign in by code, link a provider or receive a reset.
 */
async function proveContacts(shopper, env) {
  const { sf, phone, email } = shopper;
  if (phone) {
    const sent = await sdk(sf.user.sendOTPOnMobile({ body: { mobile: phone, country_code: '91', action: 'send' } }));
    const otp = await newestCodeTo(env, `+91${phone}`);
    await sdk(sf.user.verifyMobileOTP({ body: { request_id: sent.request_id, otp } }));
  }
  if (email) {
    await sdk(sf.user.sendOTPOnEmail({ body: { email, action: 'send' } }));
    const otp = await newestCodeTo(env, email);
    await sdk(sf.user.verifyEmailOTP({ body: { email, otp } }));
  }
  return shopper;
}

module.exports = {
  PASSWORD,
  proveContacts,
  SOFT_REGISTRATION,
  makeStorefront,
  sessionCookie,
  sfCall,
  useSession,
  registrationBody,
  registerShopper,
};
