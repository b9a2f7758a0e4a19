'use strict';
// The admin CLI's JSON output, the `serve` start-up line, the token endpoint, and a clean
// SIGTERM shutdown. The shutdown test must stay last in this file.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const h = require('./helpers');

const ctx = h.useServer();

test('app create --json prints one object with company_id, application_id, application_token', () => {
  assert.deepEqual(Object.keys(ctx.app).sort(), ['application_id', 'application_token', 'company_id']);
  assert.equal(ctx.app.company_id, '559');
  assert.match(ctx.app.application_id, h.HEX24);
  assert.equal(typeof ctx.app.application_token, 'string');
  assert.ok(ctx.app.application_token.length > 0);
});

test('client create --json prints client_id, client_secret, company_id, scopes', () => {
  for (const [creds, scopes] of [
    [ctx.rw, [h.READ, h.WRITE]],
    [ctx.ro, [h.READ]],
  ]) {
    assert.equal(typeof creds.client_id, 'string');
    assert.ok(creds.client_id.length > 0);
    assert.equal(typeof creds.client_secret, 'string');
    assert.ok(creds.client_secret.length > 0);
    assert.equal(creds.company_id, '559');
    assert.deepEqual([...creds.scopes].sort(), [...scopes].sort());
  }
  assert.notEqual(ctx.rw.client_id, ctx.ro.client_id);
});

test('serve printed exactly one stdout line: listening on http://127.0.0.1:<port>', () => {
  assert.match(ctx.base, /^http:\/\/127\.0\.0\.1:\d+$/);
  const port = Number(ctx.base.split(':')[2]);
  assert.ok(port > 0 && port < 65536);
  assert.equal(ctx.server.stdout, `listening on ${ctx.base}\n`);
});

test('client_credentials token response has the OAuth fields the SDK reads', () => {
  const t = ctx.token;
  assert.equal(typeof t.access_token, 'string');
  assert.ok(t.access_token.length > 0);
  assert.equal(t.token_type, 'Bearer');
  assert.equal(typeof t.expires_in, 'number');
  assert.ok(t.expires_in > 120, `expires_in should exceed the SDK's 120 s renew margin, got ${t.expires_in}`);
  assert.equal(typeof t.refresh_token, 'string');
  assert.ok(t.refresh_token.length > 0);
  assert.ok(Array.isArray(t.scope), 'scope is an array');
  assert.deepEqual([...t.scope].sort(), [h.READ, h.WRITE].sort());
  assert.deepEqual(ctx.roToken.scope, [h.READ]);
  assert.notEqual(ctx.token.access_token, ctx.roToken.access_token);
});

test('token endpoint: wrong client secret is 401', async () => {
  const res = await h.tokenRequest(ctx.base, { ...ctx.rw, client_secret: ctx.rw.client_secret + 'x' }, { grant_type: 'client_credentials' });
  assert.equal(res.status, 401, res.text);
  assert.equal(typeof res.body, 'object');
  assert.equal(typeof res.body.message, 'string');
});

test('token endpoint: unknown client id is 401', async () => {
  const res = await h.tokenRequest(ctx.base, { client_id: 'no-such-client', client_secret: 'nope' }, { grant_type: 'client_credentials' });
  assert.equal(res.status, 401, res.text);
});

test('token endpoint: unsupported grant_type is 400', async () => {
  const res = await h.tokenRequest(ctx.base, ctx.rw, { grant_type: 'password', username: 'a', password: 'b' });
  assert.equal(res.status, 400, res.text);
});

test('token endpoint: an invalid refresh_token is rejected (400/401)', async () => {
  const res = await h.tokenRequest(ctx.base, ctx.rw, { grant_type: 'refresh_token', refresh_token: 'not-a-real-refresh-token' });
  assert.ok(res.status === 400 || res.status === 401, `got ${res.status}: ${res.text}`);
});

test('serve answers the SDK before shutdown', async () => {
  const res = await h.sdk(ctx.user.getCustomers({}));
  assert.ok(Array.isArray(res.items));
});

// Keep last: stops the server.
test('SIGTERM stops the server with exit code 0', async () => {
  const exit = await ctx.stop();
  assert.deepEqual(exit, { code: 0, signal: null }, `stderr tail:\n${ctx.server.stderr}`);
  assert.equal(ctx.server.stdout, `listening on ${ctx.base}\n`, 'nothing else on stdout, even at shutdown');
});
