'use strict';
// HTTP-level behaviour every SDK client relies on: JSON error bodies for unknown routes and
// wrong methods; unique request ids. (Malformed, non-object and oversized bodies: the Rust
// transport tests.)

const { test } = require('node:test');
const assert = require('node:assert/strict');
const h = require('./helpers');

const ctx = h.useServer();

test('an unknown customers sub-route is a JSON 404', async () => {
  const res = await ctx.api('GET', '/no/such/route');
  h.rawError(res, 404);
});

test('a wrong method on a fixed route is a JSON 405 (fixed segments win over {user_id})', async () => {
  const res = await ctx.api('DELETE', '/archive');
  h.rawError(res, 405);
  // PUT …/customers/activation is the block endpoint, not an update of user "activation".
  const act = await ctx.api('PUT', '/activation', { body: { first_name: 'x' } });
  const body = h.rawError(act, 400, 'VALIDATION_ERROR');
  assert.match(body.message, /^(status|user_id|reason)/);
});

test('meta larger than the limit is 400 VALIDATION_ERROR naming meta', async () => {
  const err = await h.sdkError(
    ctx.user.createUser({ body: { phone_number: h.uniquePhone(), meta: { big: 'x'.repeat(20 * 1024) } } }),
    400,
    'VALIDATION_ERROR',
  );
  assert.ok(err.details.message.startsWith('meta'), err.details.message);
});

test('every error carries its own request_id', async () => {
  const seen = new Set();
  for (let i = 0; i < 5; i += 1) {
    const res = await ctx.api('GET', '/list', { query: { page_size: 0 } });
    const body = h.rawError(res, 400, 'VALIDATION_ERROR');
    seen.add(body.request_id);
  }
  assert.equal(seen.size, 5);
});

test('responses are application/json', async () => {
  const ok = await ctx.api('GET', '/list');
  assert.equal(ok.status, 200);
  assert.match(ok.headers.get('content-type'), /^application\/json/);
  const bad = await ctx.api('GET', '/list', { token: 'nope' });
  assert.match(bad.headers.get('content-type'), /^application\/json/);
});
