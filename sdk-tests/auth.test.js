'use strict';
// Bearer-token authentication and per-operation scopes, as seen by the SDK.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const h = require('./helpers');

const ctx = h.useServer();

test('a bogus bearer token is 401 with authenticated:false', async () => {
  const { user } = h.makeSdk(ctx.base, ctx.applicationId, ctx.rw, {
    access_token: 'bogus-token-that-was-never-issued',
    expires_in: 3600,
  });
  const err = await h.sdkError(user.getCustomers({}), 401, 'UNAUTHENTICATED');
  assert.equal(err.details.authenticated, false);
  await h.sdkError(user.createUser({ body: { phone_number: h.uniquePhone() } }), 401, 'UNAUTHENTICATED');
});

test('a Basic (not Bearer) Authorization header is 401 (plain fetch)', async () => {
  const res = await ctx.api('GET', '/list', {
    token: null,
    headers: { Authorization: 'Basic ' + Buffer.from(`${ctx.rw.client_id}:${ctx.rw.client_secret}`).toString('base64') },
  });
  h.rawError(res, 401, 'UNAUTHENTICATED');
});

test('a read-only client can read but createUser is 403 FORBIDDEN', async () => {
  const list = await h.sdk(ctx.roUser.getCustomers({}));
  assert.ok(Array.isArray(list.items));
  const found = await h.sdk(ctx.roUser.searchUsers({ q: h.uniqueEmail() }));
  assert.deepEqual(found.users, []);
  await h.sdkError(
    ctx.roUser.createUser({ body: { phone_number: h.uniquePhone(), email: h.uniqueEmail() } }),
    403,
    'FORBIDDEN',
  );
});

test('an unknown application id is 404 APPLICATION_NOT_FOUND', async () => {
  const other = ctx.client.application(h.unknownId()).user;
  await h.sdkError(other.getCustomers({}), 404, 'APPLICATION_NOT_FOUND');
  await h.sdkError(other.createUser({ body: { phone_number: h.uniquePhone() } }), 404, 'APPLICATION_NOT_FOUND');
});

test('SDK renewAccessToken (refresh_token grant) yields a new working token', async () => {
  // A private SDK instance, so the shared one keeps its token.
  const token = await h.clientCredentialsToken(ctx.base, ctx.rw);
  const { config, user } = h.makeSdk(ctx.base, ctx.applicationId, ctx.rw, token);
  const oldAccess = config.oauthClient.token;
  assert.equal(oldAccess, token.access_token);

  const renewed = await config.oauthClient.renewAccessToken();
  assert.equal(typeof renewed.access_token, 'string');
  assert.notEqual(renewed.access_token, oldAccess, 'refresh must mint a new access token');
  assert.equal(renewed.token_type, 'Bearer');
  assert.equal(typeof renewed.expires_in, 'number');
  assert.ok(renewed.expires_in > 0);
  assert.equal(config.oauthClient.token, renewed.access_token, 'SDK adopted the new token');
  assert.ok(config.oauthClient.token_expires_at > Date.now());

  // The renewed token works, through the SDK, for reads and writes.
  const created = await h.createCustomer(user);
  const list = await h.sdk(user.getCustomers({ q: JSON.stringify({ _id: created._id }) }));
  assert.deepEqual(h.ids(list.items), [created._id]);

  // The renewed token keeps the client's scopes.
  if (renewed.scope !== undefined) {
    assert.deepEqual([...renewed.scope].sort(), [h.READ, h.WRITE].sort());
  }
});

test('a refresh token cannot be used by another client', async () => {
  const res = await h.tokenRequest(ctx.base, ctx.ro, { grant_type: 'refresh_token', refresh_token: ctx.token.refresh_token });
  assert.ok(res.status === 400 || res.status === 401, `got ${res.status}: ${res.text}`);
});
