'use strict';
// Social sign-in through ApplicationClient: loginWithGoogle, loginWithGoogleAndroid,
// loginWithGoogleIOS, loginWithAppleIOS and loginWithFacebook, against local stand-ins for
// the providers (PATRON_GOOGLE_JWKS_URL, PATRON_APPLE_JWKS_URL, PATRON_FACEBOOK_GRAPH_URL):
// a JWKS of this file's own RSA key, and a Graph API stub.

const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const http = require('node:http');
const h = require('./helpers');

const { publicKey, privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'sdk-key', alg: 'RS256', use: 'sig' };

// The stand-in providers start before the server, which is told where they are.
let stub;
async function startProviders() {
  stub = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://stub');
    let body = {};
    if (url.pathname === '/jwks') body = { keys: [jwk] };
    if (url.pathname === '/graph/debug_token') {
      const valid = url.searchParams.get('input_token') === 'fb-good' && url.searchParams.get('access_token') === 'fb-app|fb-secret';
      body = { data: { is_valid: valid, app_id: 'fb-app', user_id: 'fb-user' } };
    }
    if (url.pathname === '/graph/me') body = { id: 'fb-user', first_name: 'Fia', email: 'fia@example.com' };
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=3600' });
    res.end(JSON.stringify(body));
  });
  await new Promise((resolve) => stub.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${stub.address().port}`;
  return {
    PATRON_GOOGLE_JWKS_URL: `${base}/jwks`,
    PATRON_APPLE_JWKS_URL: `${base}/jwks`,
    PATRON_FACEBOOK_GRAPH_URL: `${base}/graph`,
  };
}
after(() => stub && stub.close());

const ctx = h.useServer({ prepare: startProviders });

const b64url = (value) => Buffer.from(value).toString('base64url');

/** An RS256 ID token signed with this file's key. */
function idToken(claims) {
  const now = Math.floor(Date.now() / 1000);
  const header = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: 'sdk-key' }));
  const payload = b64url(JSON.stringify({ iss: 'https://accounts.google.com', aud: 'google-client', iat: now, exp: now + 3600, ...claims }));
  const signature = crypto.sign('RSA-SHA256', Buffer.from(`${header}.${payload}`), privateKey).toString('base64url');
  return `${header}.${payload}.${signature}`;
}

async function socialApp() {
  const app = await ctx.newApp('Social Shop');
  await h.setConfig(app.user, {
    required_fields: { mobile: { is_required: false } },
    social: { google: true, apple: true, facebook: true },
    social_tokens: {
      google: { app_id: 'google-client' },
      apple: { app_id: 'apple-client' },
      facebook: { app_id: 'fb-app', app_secret: 'fb-secret' },
    },
  });
  return app;
}

test('loginWithGoogle: an expired token is 400; a new verified email signs up through updateProfile, then signs in; Android and iOS alike', async () => {
  const app = await socialApp();
  const email = h.uniqueEmail('gia');
  const token = idToken({ sub: `g-${email}`, email, email_verified: true, given_name: 'Gia' });
  const sf = app.storefront();
  // An expired token is refused. (Forged, foreign and unverified tokens: the Rust tests.)
  const now = Math.floor(Date.now() / 1000);
  await h.sdkError(
    sf.user.loginWithGoogle({ body: { oauth2: { access_token: idToken({ sub: 'x', iat: now - 7200, exp: now - 3600 }) }, profile: {} } }),
    400,
    'INVALID_SOCIAL_TOKEN',
  );
  const first = await h.sfCall(sf, 'loginWithGoogle', { body: { is_signed_in: true, oauth2: { access_token: token }, profile: { email } } });
  assert.equal(first.body.user_exists, false);
  assert.equal(typeof first.body.register_token, 'string');
  assert.equal(first.cookie, undefined);
  const done = await h.sfCall(sf, 'updateProfile', { body: { last_name: 'Rao', register_token: first.body.register_token } });
  assert.ok(done.cookie && done.cookie.value);
  h.assertCustomerShape(done.body.user, app.applicationId);
  assert.equal(done.body.user.emails[0].email, email);
  assert.equal(done.body.user.emails[0].verified, true);
  for (const method of ['loginWithGoogle', 'loginWithGoogleAndroid', 'loginWithGoogleIOS']) {
    const again = await h.sfCall(app.storefront(), method, { body: { oauth2: { access_token: token }, profile: {} } });
    assert.equal(again.body.user_exists, true, method);
    assert.equal(again.body.user._id, done.body.user._id, method);
    assert.ok(again.cookie && again.cookie.value, method);
  }
});

test('loginWithAppleIOS checks the user_identifier; loginWithFacebook asks the Graph API', async () => {
  const app = await socialApp();
  const appleToken = idToken({ iss: 'https://appleid.apple.com', aud: 'apple-client', sub: 'apple-1', email: 'r1@privaterelay.appleid.com', email_verified: 'true' });
  await h.sdkError(
    app.storefront().user.loginWithAppleIOS({ body: { user_identifier: 'apple-2', oauth: { identity_token: appleToken }, profile: {} } }),
    400,
    'INVALID_SOCIAL_TOKEN',
  );
  const apple = await h.sdk(app.storefront().user.loginWithAppleIOS({
    body: { user_identifier: 'apple-1', oauth: { identity_token: appleToken }, profile: { first_name: 'Ana', last_name: 'Lee' } },
  }));
  assert.equal(apple.user_exists, false);
  assert.equal(typeof apple.register_token, 'string');

  await h.sdkError(
    app.storefront().user.loginWithFacebook({ body: { oauth2: { access_token: 'fb-bad' }, profile: { id: 'fb-user' } } }),
    400,
    'INVALID_SOCIAL_TOKEN',
  );
  const sf = app.storefront();
  const facebook = await h.sdk(sf.user.loginWithFacebook({ body: { oauth2: { access_token: 'fb-good' }, profile: { id: 'fb-user' } } }));
  assert.equal(facebook.user_exists, false);
  const done = await h.sfCall(sf, 'updateProfile', { body: { register_token: facebook.register_token, email: h.uniqueEmail('fia') } });
  assert.equal(done.body.user.first_name, 'Fia');
  const again = await h.sfCall(app.storefront(), 'loginWithFacebook', { body: { oauth2: { access_token: 'fb-good' }, profile: { id: 'fb-user' } } });
  assert.equal(again.body.user_exists, true);
  assert.equal(again.body.user._id, done.body.user._id);

  const other = await ctx.newApp('Plain Shop');
  await h.sdkError(
    other.storefront().user.loginWithFacebook({ body: { oauth2: { access_token: 'fb-good' }, profile: { id: 'fb-user' } } }),
    400,
    'SOCIAL_LOGIN_DISABLED',
  );
});
