'use strict';
// Token login through ApplicationClient: loginWithToken spends a single-use token minted by
// Patron's own platform extension POST …/customers/{user_id}/login_token (not in SDK 3.4.2,
// so minted over raw HTTP).

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
