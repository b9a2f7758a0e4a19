'use strict';
// createUser: POST …/customers

const { test } = require('node:test');
const assert = require('node:assert/strict');
const h = require('./helpers');

const ctx = h.useServer();

test('createUser returns the full customer, phone normalised, email lower-cased, no secrets', async () => {
  const national = h.uniquePhone();
  const tag = h.uniqueTag('Full');
  const body = {
    phone_number: `+91 ${national.slice(0, 5)} ${national.slice(5)}`,
    email: `${tag}.Mixed@Example.COM`,
    first_name: 'Asha',
    last_name: 'Rao',
    gender: 'female',
    meta: { tier: 'gold', nested: { visits: 3, tags: ['a', 'b'] } },
    external_id: `ext-${tag}`,
    rr_id: `rr-${tag}`,
  };
  const res = await h.sdk(ctx.user.createUser({ body }));
  assert.deepEqual(Object.keys(res), ['user']);
  const u = res.user;
  h.assertCustomerShape(u, ctx.applicationId);
  assert.equal(u.first_name, 'Asha');
  assert.equal(u.last_name, 'Rao');
  assert.equal(u.gender, 'female');
  assert.deepEqual(u.meta, body.meta);
  assert.equal(u.external_id, body.external_id);
  assert.equal(u.rr_id, body.rr_id);
  assert.equal(u.active, true);
  assert.ok(u.username.length > 0, 'username generated when absent');

  assert.equal(u.phone_numbers.length, 1);
  const [p] = u.phone_numbers;
  assert.equal(p.phone, national);
  assert.equal(p.country_code, 91);
  assert.equal(typeof p.country_code, 'number');
  assert.equal(p.primary, true);
  assert.equal(p.active, true);
  assert.equal(typeof p.verified, 'boolean');

  assert.equal(u.emails.length, 1);
  assert.equal(u.emails[0].email, `${tag.toLowerCase()}.mixed@example.com`);
  assert.equal(u.emails[0].primary, true);
  assert.equal(u.emails[0].active, true);

  assert.equal(u.created_at, u.updated_at, 'a new customer has created_at == updated_at');
  const age = Date.now() - Date.parse(u.created_at);
  assert.ok(age > -60_000 && age < 60_000, `created_at should be now, got ${u.created_at}`);
  h.assertNoSecrets(res);

  // The new customer is visible through the list endpoint with the same data.
  const [listed] = await h.listAll(ctx.user, JSON.stringify({ _id: u._id }));
  assert.equal(listed._id, u._id);
  assert.equal(listed.username, u.username);
  assert.deepEqual(listed.phone_numbers, u.phone_numbers);
  assert.deepEqual(listed.emails, u.emails);
  assert.deepEqual(listed.meta, u.meta);
  h.assertNoSecrets(listed);
});

test('a client-chosen username is kept; a duplicate username is 400 USERNAME_ALREADY_EXISTS', async () => {
  const username = h.uniqueTag('user_');
  const u = await h.createCustomer(ctx.user, { username });
  assert.equal(u.username, username);
  await h.sdkError(
    ctx.user.createUser({ body: { phone_number: h.uniquePhone(), email: h.uniqueEmail(), username } }),
    400,
    'USERNAME_ALREADY_EXISTS',
    'username',
  );
});

test('concurrent creates with the same phone: exactly one wins', async () => {
  // (The same race on one email is covered by the Rust API and store tests.)
  const phone = h.uniquePhone();
  const results = await Promise.allSettled(Array.from({ length: 6 }, () => ctx.user.createUser({ body: { phone_number: phone } })));
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1, 'one winner');
  for (const r of results.filter((x) => x.status === 'rejected')) {
    assert.ok(r.reason instanceof h.FDKServerResponseError, String(r.reason));
    assert.equal(r.reason.code, 400);
    assert.equal(r.reason.details.code, 'PHONE_ALREADY_EXISTS');
  }
  assert.equal((await h.sdk(ctx.user.searchUsers({ q: phone }))).users.length, 1);
});

test('an empty phone_number and no email is 400 VALIDATION_ERROR', async () => {
  // phone_number is required by the 3.4.2 validator but may be empty.
  const err = await h.sdkError(
    ctx.user.createUser({ body: { phone_number: '', first_name: 'Nobody' } }),
    400,
    'VALIDATION_ERROR',
  );
  assert.match(err.details.message, /phone_number|email/);
});

test('the SDK itself refuses a body without phone_number (client-side validation)', async () => {
  await assert.rejects(ctx.user.createUser({ body: { email: h.uniqueEmail() } }), h.FDKClientValidationError);
});

test('server-managed fields in the body are ignored (plain fetch: mass assignment)', async () => {
  const res = await ctx.api('POST', '', {
    body: {
      phone_number: h.uniquePhone(),
      email: h.uniqueEmail('mass'),
      active: false,
      archive: true,
      _id: 'ffffffffffffffffffffffff',
      application_id: 'ffffffffffffffffffffffff',
      password: 'hunter2',
      created_at: '2000-01-01T00:00:00.000Z',
    },
  });
  assert.equal(res.status, 200, res.text);
  h.assertModel('CreateUserResponseSchema', res.body);
  const u = res.body.user;
  assert.equal(u.active, true);
  assert.notEqual(u.archive, true);
  assert.notEqual(u._id, 'ffffffffffffffffffffffff');
  assert.equal(u.application_id, ctx.applicationId);
  assert.notEqual(u.created_at, '2000-01-01T00:00:00.000Z');
  assert.ok(!res.text.includes('hunter2'), 'the password must not be echoed');
  h.assertNoSecrets(res.body);
});
