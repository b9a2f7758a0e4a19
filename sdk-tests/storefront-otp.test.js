'use strict';
// One-time passwords through ApplicationClient: loginWithOTP, sendOTPOnMobile,
// verifyMobileOTP, sendOTPOnEmail, verifyEmailOTP, the forgot-password OTP calls
// (sendForgotOTPOnMobile, verifyMobileForgotOTP, sendForgotOTPOnEmail, verifyEmailForgotOTP)
// and updateProfile. Codes are read from the outbox (`patron outbox list --json --reveal`, the 'log'
// notifier) as `data.otp`. Each test uses an application of its own, so budgets and
// configuration never leak between tests.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const h = require('./helpers');

const ctx = h.useServer();

/** The code of the newest outbox message to `to` (an email, or `+91…`). */
async function codeFor(to) {
  const { stdout } = await h.runCli(ctx.env, ['outbox', 'list', '--limit', '1000', '--json', '--reveal']);
  const message = JSON.parse(stdout).find((m) => m.to === to);
  assert.ok(message, `no message to ${to}`);
  assert.equal(typeof message.data.otp, 'string', JSON.stringify(message.data));
  assert.match(message.data.otp, /^\d{4}$/);
  assert.ok(message.text.includes(message.data.otp), message.text);
  return message.data.otp;
}

test('a new shopper signs up by OTP with the default configuration: loginWithOTP, verifyMobileOTP, updateProfile, verifyEmailOTP; a resend needs its token', async () => {
  const app = await ctx.newApp('OTP Shop');
  const sf = app.storefront();
  const phone = h.uniquePhone();
  const email = h.uniqueEmail('otp');
  const sent = await h.sdk(sf.user.loginWithOTP({ body: { mobile: phone, country_code: '91' }, platform: app.applicationId }));
  assert.equal(sent.success, true);
  assert.equal(sent.mobile, phone);
  assert.equal(sent.country_code, '91');
  assert.equal(sent.resend_timer, 30);
  assert.equal(typeof sent.request_id, 'string');
  assert.equal(typeof sent.resend_token, 'string');
  assert.equal(sent.user_exists, undefined, 'the send does not say whether the number is known');
  // A resend needs the send's resend_token. (Resends, and wrong codes across them: the Rust tests.)
  await h.sdkError(
    sf.user.sendOTPOnMobile({ body: { mobile: phone, country_code: '91', action: 'resend', token: 'not-the-token' } }),
    400,
    'VALIDATION_ERROR',
  );

  const verified = await h.sfCall(sf, 'verifyMobileOTP', { body: { request_id: sent.request_id, otp: await codeFor(`+91${phone}`) } });
  assert.equal(verified.body.user_exists, false);
  assert.equal(typeof verified.body.register_token, 'string');
  assert.equal(verified.cookie, undefined, 'not signed in before the profile is complete');

  const profile = await h.sfCall(sf, 'updateProfile', {
    body: { first_name: 'Asha', last_name: 'Rao', gender: 'female', email, register_token: verified.body.register_token },
  });
  assert.ok(profile.cookie && profile.cookie.value, 'the completed sign-up signs in');
  h.assertCustomerShape(profile.body.user, app.applicationId);
  assert.equal(profile.body.user.phone_numbers[0].phone, phone);
  assert.equal(profile.body.user.phone_numbers[0].verified, true);
  assert.equal(profile.body.user.emails[0].verified, false);
  assert.equal(profile.body.verify_email_otp, true);
  assert.equal(profile.body.email, email);
  assert.equal(typeof profile.body.resend_email_token, 'string');

  const me = await h.sdk(sf.user.getLoggedInUser());
  assert.equal(me.user._id, profile.body.user._id);
  const proven = await h.sfCall(sf, 'verifyEmailOTP', { body: { email, otp: await codeFor(email), action: 'verify' } });
  assert.equal(proven.body.user_exists, true);
  assert.equal(proven.body.user.emails[0].email, email);
  assert.equal(proven.body.user.emails[0].verified, true);

  // The same number signs in from now on.
  const other = app.storefront();
  const again = await h.sdk(other.user.sendOTPOnMobile({ body: { mobile: phone, country_code: '91', action: 'send' } }));
  const signedIn = await h.sfCall(other, 'verifyMobileOTP', { body: { request_id: again.request_id, otp: await codeFor(`+91${phone}`) } });
  assert.equal(signedIn.body.user_exists, true);
  assert.equal(signedIn.body.user._id, profile.body.user._id);
  assert.ok(signedIn.cookie && signedIn.cookie.value);
  assert.equal((await h.sdk(other.user.getLoggedInUser())).user.first_name, 'Asha');
});

test('registerWithForm with the default configuration sends the mobile code; verifyMobileOTP with the register_token creates the account', async () => {
  const app = await ctx.newApp('Register Shop');
  const sf = app.storefront();
  const body = h.registrationBody();
  const registered = await h.sfCall(sf, 'registerWithForm', { body });
  assert.equal(registered.body.verify_mobile_otp, true);
  assert.equal(registered.body.verify_email_otp, false);
  assert.equal(registered.cookie, undefined);
  const code = await codeFor(`+91${body.phone.mobile}`);
  const done = await h.sfCall(sf, 'verifyMobileOTP', {
    body: { request_id: registered.body.request_id, otp: code, register_token: registered.body.register_token },
  });
  assert.equal(done.body.user_exists, true);
  assert.ok(done.cookie && done.cookie.value);
  assert.equal(done.body.user.phone_numbers[0].verified, true);
  assert.equal(done.body.user.first_name, body.first_name);
  const signedIn = await h.sfCall(app.storefront(), 'loginWithEmailAndPassword', { body: { username: body.email, password: body.password } });
  assert.equal(signedIn.body.user._id, done.body.user._id);
});

test('sendOTPOnEmail with a register_token proves the email of a registration that needs both', async () => {
  const app = await ctx.newApp('Both Shop');
  await h.setConfig(app.user, { register_required_fields: { email: { is_required: true, level: 'hard' } } });
  const sf = app.storefront();
  const body = h.registrationBody();
  const registered = await h.sdk(sf.user.registerWithForm({ body }));
  assert.equal(registered.verify_email_otp, true);
  const resent = await h.sdk(sf.user.sendOTPOnEmail({ body: { email: body.email, action: 'send', register_token: registered.register_token } }));
  assert.equal(resent.success, true);
  assert.equal(typeof resent.resend_email_token, 'string');
  const mobile = await h.sfCall(sf, 'verifyMobileOTP', {
    body: { request_id: registered.request_id, otp: await codeFor(`+91${body.phone.mobile}`), register_token: registered.register_token },
  });
  assert.equal(mobile.body.user_exists, false, 'the email is still to be proven');
  const email = await h.sfCall(sf, 'verifyEmailOTP', {
    body: { email: body.email, otp: await codeFor(body.email), action: 'register', register_token: registered.register_token },
  });
  assert.equal(email.body.user_exists, true);
  assert.ok(email.cookie && email.cookie.value);
  assert.deepEqual(
    [email.body.user.emails[0].verified, email.body.user.phone_numbers[0].verified],
    [true, true],
  );
});

test('forgot password by mobile and by email OTP: sendForgotOTPOn*, verify*ForgotOTP, resetForgotPassword', async () => {
  const app = await ctx.newApp('Forgot Shop');
  await h.setConfig(app.user, h.SOFT_REGISTRATION);
  const shopper = await h.proveContacts(await h.registerShopper(app.storefront()), ctx.env);
  const sf = app.storefront();

  const sent = await h.sdk(sf.user.sendForgotOTPOnMobile({ body: { mobile: shopper.phone, country_code: '91', action: 'send' } }));
  const unknown = await h.sdk(sf.user.sendForgotOTPOnMobile({ body: { mobile: h.uniquePhone(), country_code: '91', action: 'send' } }));
  assert.deepEqual(Object.keys(unknown).sort(), Object.keys(sent).sort(), 'unknown numbers get the same answer');
  const proven = await h.sdk(sf.user.verifyMobileForgotOTP({ body: { request_id: sent.request_id, otp: await codeFor(`+91${shopper.phone}`) } }));
  assert.equal(proven.success, true);
  assert.equal(typeof proven.forgot_token, 'string');
  assert.deepEqual(await h.sdk(sf.user.resetForgotPassword({ body: { code: proven.forgot_token, password: 'M0bile-reset' } })), { success: true });
  await h.sfCall(app.storefront(), 'loginWithEmailAndPassword', { body: { username: shopper.email, password: 'M0bile-reset' } });

  const byEmail = await h.sdk(sf.user.sendForgotOTPOnEmail({ body: { email: shopper.email, action: 'send' } }));
  assert.equal(byEmail.success, true);
  assert.equal(typeof byEmail.resend_email_token, 'string');
  await h.sdkError(sf.user.verifyEmailForgotOTP({ body: { email: shopper.email, otp: '12' } }), 400, 'INVALID_OTP');
  const emailProven = await h.sdk(sf.user.verifyEmailForgotOTP({ body: { email: shopper.email, otp: await codeFor(shopper.email) } }));
  await h.sdk(sf.user.resetForgotPassword({ body: { code: emailProven.forgot_token, password: 'Ema1l-reset' } }));
  await h.sfCall(app.storefront(), 'loginWithEmailAndPassword', { body: { username: shopper.email, password: 'Ema1l-reset' } });
});

test('updateProfile while signed in edits names and sends a code to a new mobile, which verifyMobileOTP proves', async () => {
  const app = await ctx.newApp('Profile Shop');
  await h.setConfig(app.user, h.SOFT_REGISTRATION);
  const shopper = await h.registerShopper(app.storefront());
  const newPhone = h.uniquePhone();
  const edited = await h.sfCall(shopper.sf, 'updateProfile', {
    body: { first_name: 'Kavya', dob: '1994-02-11', mobile: { phone: newPhone, country_code: '91' } },
  });
  assert.equal(edited.body.user.first_name, 'Kavya');
  assert.equal(edited.body.user.dob, '1994-02-11');
  assert.equal(edited.body.verify_mobile_otp, true);
  assert.equal(edited.body.mobile, newPhone);
  const proven = await h.sfCall(shopper.sf, 'verifyMobileOTP', { body: { request_id: edited.body.request_id, otp: await codeFor(`+91${newPhone}`) } });
  assert.ok(proven.body.user.phone_numbers.some((p) => p.phone === newPhone && p.verified === true));
  const taken = await h.registerShopper(app.storefront());
  await h.sdkError(shopper.sf.user.updateProfile({ body: { email: taken.email } }), 400, 'EMAIL_ALREADY_EXISTS');
  await h.sdkError(app.storefront().user.updateProfile({ body: { first_name: 'X' } }), 401, 'UNAUTHENTICATED');
});

test('refusals: OTP sign-in turned off, blocked customers, spent send budgets (429)', async () => {
  const app = await ctx.newApp('Strict Shop');
  // One send of the three proves the number: only a proven number signs in by code.
  await h.setConfig(app.user, { ...h.SOFT_REGISTRATION, otp: { per_target: 3 } });
  const shopper = await h.registerShopper(app.storefront(), { email: undefined });
  await h.proveContacts(shopper, ctx.env);
  const sf = app.storefront();
  const sent = await h.sdk(sf.user.loginWithOTP({ body: { mobile: shopper.phone, country_code: '91' } }));
  await h.sdk(app.user.blockOrUnblockUsers({ body: { user_id: [shopper.user._id], status: false, reason: 'fraud' } }));
  await h.sdkError(
    sf.user.verifyMobileOTP({ body: { request_id: sent.request_id, otp: await codeFor(`+91${shopper.phone}`) } }),
    403,
    'USER_BLOCKED',
  );
  await h.sdk(sf.user.loginWithOTP({ body: { mobile: shopper.phone, country_code: '91' } }));
  const spent = await h.sdkError(sf.user.loginWithOTP({ body: { mobile: shopper.phone, country_code: '91' } }), 429, 'OTP_LIMIT_REACHED');
  assert.equal(spent.details.meta.limit, 'target');

  await h.setConfig(app.user, { login: { otp: false } });
  await h.sdkError(sf.user.loginWithOTP({ body: { mobile: h.uniquePhone(), country_code: '91' } }), 400, 'OTP_LOGIN_DISABLED');
});
