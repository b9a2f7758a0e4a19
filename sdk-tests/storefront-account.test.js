'use strict';
// The account calls through ApplicationClient: loginWithToken spends a single-use token
// minted by Patron's own platform extension POST …/customers/{user_id}/login_token (not in
// SDK 3.4.2, so minted over raw HTTP); deleteUser deletes the signed-in shopper's account,
// confirmed by a code to a verified contact.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const h = require('./helpers');

const ctx = h.useServer();

test('loginWithToken signs in once with a minted token; a used or unknown token is 400 INVALID_LOGIN_TOKEN', async () => {
  const user = await h.createCustomer(ctx.user);
  const minted = await ctx.api('POST', `/${user._id}/login_token`);
  assert.equal(minted.status, 200, minted.text);
  assert.equal(minted.body.expires_in, 300);
  assert.equal(typeof minted.body.token, 'string');

  const sf = ctx.storefront();
  const signedIn = await h.sfCall(sf, 'loginWithToken', { body: { token: minted.body.token } });
  assert.equal(signedIn.body.user._id, user._id);
  h.assertCustomerShape(signedIn.body.user, ctx.applicationId);
  assert.ok(signedIn.cookie && signedIn.cookie.value);
  assert.equal((await h.sdk(sf.user.getLoggedInUser())).user._id, user._id);

  await h.sdkError(ctx.storefront().user.loginWithToken({ body: { token: minted.body.token } }), 400, 'INVALID_LOGIN_TOKEN');
  await h.sdkError(ctx.storefront().user.loginWithToken({ body: { token: 'nope' } }), 400, 'INVALID_LOGIN_TOKEN');
  await h.sdkError(ctx.storefront().user.loginWithToken({ body: {} }), 400, 'VALIDATION_ERROR');
  const readOnly = await ctx.api('POST', `/${user._id}/login_token`, { token: ctx.roToken.access_token });
  assert.equal(readOnly.status, 403);
});

/** The code of the newest outbox message to `to`. */
async function codeFor(to) {
  const { stdout } = await h.runCli(ctx.env, ['outbox', 'list', '--limit', '1000', '--json', '--reveal']);
  const message = JSON.parse(stdout).find((m) => m.to === to);
  assert.ok(message, `no message to ${to}`);
  return message.data.otp;
}

test('deleteUser with a code to a verified number signs out; every sign-in then answers meta.is_deleted; undelete restores', async () => {
  const app = await ctx.newApp('Delete Shop');
  await h.setConfig(app.user, h.SOFT_REGISTRATION);
  const shopper = await h.registerShopper(app.storefront());
  const { sf, phone, email } = shopper;
  // Prove the number first: deletion takes a code to a verified contact only.
  const proving = await h.sdk(sf.user.sendOTPOnMobile({ body: { mobile: phone, country_code: '91', action: 'send' } }));
  await h.sdk(sf.user.verifyMobileOTP({ body: { request_id: proving.request_id, otp: await codeFor(`+91${phone}`) } }));
  const config = await h.sdk(app.storefront().user.getPlatformConfig({}));
  const reason = config.delete_account_reasons[0];

  const sent = await h.sdk(sf.user.sendOTPOnMobile({ body: { mobile: phone, country_code: '91', action: 'send' } }));
  const code = await codeFor(`+91${phone}`);
  const body = { user_id: shopper.user._id, reason: reason.reason_text, reason_id: reason.reason_id, request_id: sent.request_id, otp: code };
  await h.sdkError(sf.user.deleteUser({ body: { ...body, otp: code === '0000' ? '1111' : '0000' } }), 400, 'INVALID_OTP');
  const deleted = await h.sfCall(sf, 'deleteUser', { body });
  assert.deepEqual(deleted.body, { success: true });
  await h.sdkError(sf.user.getLoggedInUser(), 401, 'UNAUTHENTICATED');

  const refused = await h.sdkError(
    app.storefront().user.loginWithEmailAndPassword({ body: { username: email, password: h.PASSWORD } }),
    403,
    'ACCOUNT_DELETED',
  );
  assert.equal(refused.details.meta.is_deleted, true);
  const restored = await h.sdk(app.user.unDeleteUser({ body: { user_id: shopper.user._id, reason: 'support ticket', reason_id: 's1' } }));
  assert.equal(restored.success, true);
  await h.sfCall(app.storefront(), 'loginWithEmailAndPassword', { body: { username: email, password: h.PASSWORD } });
});
