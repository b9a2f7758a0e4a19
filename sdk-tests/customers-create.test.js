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

test('phone spellings +91 98765 43210 / 919876543210 / 9876543210 all normalise to national + 91', async () => {
  const spell = [
    (n) => `+91 ${n.slice(0, 5)} ${n.slice(5)}`,
    (n) => `91${n}`,
    (n) => n,
    (n) => `+91${n}`,
  ];
  for (const fmt of spell) {
    const national = h.uniquePhone();
    const u = await h.createCustomer(ctx.user, { phone_number: fmt(national) });
    assert.equal(u.phone_numbers.length, 1, fmt(national));
    assert.equal(u.phone_numbers[0].phone, national, `input ${fmt(national)}`);
    assert.equal(u.phone_numbers[0].country_code, 91, `input ${fmt(national)}`);
    assert.equal(typeof u.phone_numbers[0].country_code, 'number');
  }
});

test('createUser with a phone only (no email) works and generates a username', async () => {
  const national = h.uniquePhone();
  const u = await h.createCustomer(ctx.user, { email: undefined, phone_number: national });
  h.assertCustomerShape(u, ctx.applicationId);
  assert.equal(u.phone_numbers[0].phone, national);
  assert.ok(!u.emails || u.emails.length === 0, `no emails expected, got ${JSON.stringify(u.emails)}`);
  assert.ok(u.username.length > 0);
});

test('createUser with an email only works (plain fetch: the SDK requires phone_number)', async () => {
  const email = h.uniqueEmail('only');
  const res = await ctx.api('POST', '', { body: { email, first_name: 'Mail' } });
  assert.equal(res.status, 200, res.text);
  h.assertModel('CreateUserResponseSchema', res.body);
  const u = res.body.user;
  h.assertCustomerShape(u, ctx.applicationId);
  assert.equal(u.emails[0].email, email);
  assert.ok(!u.phone_numbers || u.phone_numbers.length === 0);
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

test('generated usernames are unique across customers', async () => {
  const a = await h.createCustomer(ctx.user);
  const b = await h.createCustomer(ctx.user);
  assert.notEqual(a.username, b.username);
  assert.notEqual(a._id, b._id);
});

test('duplicate email, differing only in case, is 400 EMAIL_ALREADY_EXISTS', async () => {
  const tag = h.uniqueTag('dup');
  await h.createCustomer(ctx.user, { email: `${tag}@example.com` });
  const err = await h.sdkError(
    ctx.user.createUser({ body: { phone_number: h.uniquePhone(), email: `${tag.toUpperCase()}@Example.Com` } }),
    400,
    'EMAIL_ALREADY_EXISTS',
    'email',
  );
  assert.ok(!JSON.stringify(err.details).includes('password'));
  // Nothing was created.
  const items = await h.listAll(ctx.user, tag);
  assert.equal(items.length, 1);
});

test('duplicate phone in another spelling is 400 PHONE_ALREADY_EXISTS', async () => {
  const national = h.uniquePhone();
  await h.createCustomer(ctx.user, { phone_number: national });
  for (const other of [`+91 ${national}`, `91${national}`, `+91-${national.slice(0, 5)}-${national.slice(5)}`]) {
    await h.sdkError(
      ctx.user.createUser({ body: { phone_number: other, email: h.uniqueEmail() } }),
      400,
      'PHONE_ALREADY_EXISTS',
      'phone',
    );
  }
});

test('concurrent creates with the same email or phone: exactly one wins', async () => {
  const settle = (ps) => Promise.allSettled(ps);
  const email = h.uniqueEmail('race');
  const byEmail = await settle(Array.from({ length: 6 }, () => ctx.user.createUser({ body: { phone_number: h.uniquePhone(), email } })));
  const phone = h.uniquePhone();
  const byPhone = await settle(Array.from({ length: 6 }, () => ctx.user.createUser({ body: { phone_number: phone } })));
  for (const [results, code] of [[byEmail, 'EMAIL_ALREADY_EXISTS'], [byPhone, 'PHONE_ALREADY_EXISTS']]) {
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1, `one winner for ${code}`);
    for (const r of results.filter((x) => x.status === 'rejected')) {
      assert.ok(r.reason instanceof h.FDKServerResponseError, String(r.reason));
      assert.equal(r.reason.code, 400);
      assert.equal(r.reason.details.code, code);
    }
  }
  assert.equal((await h.sdk(ctx.user.searchUsers({ q: email }))).users.length, 1);
  assert.equal((await h.sdk(ctx.user.searchUsers({ q: phone }))).users.length, 1);
});

test('an invalid email is 400 VALIDATION_ERROR naming email', async () => {
  for (const email of ['not-an-email', 'a@b', 'two@@example.com', 'sp ace@example.com']) {
    const err = await h.sdkError(
      ctx.user.createUser({ body: { phone_number: h.uniquePhone(), email } }),
      400,
      'VALIDATION_ERROR',
    );
    assert.ok(err.details.message.startsWith('email'), `message should start with the field name: ${err.details.message}`);
  }
});

test('an invalid phone is 400 VALIDATION_ERROR naming phone_number', async () => {
  for (const phone_number of ['12345', 'abcdefghij', '+91 12345', '99999999999999999999']) {
    const err = await h.sdkError(
      ctx.user.createUser({ body: { phone_number, email: h.uniqueEmail() } }),
      400,
      'VALIDATION_ERROR',
    );
    assert.ok(err.details.message.startsWith('phone_number'), `message should start with the field name: ${err.details.message}`);
  }
});

test('missing both email and phone is 400 VALIDATION_ERROR', async () => {
  // Through the SDK: phone_number is required by the 3.4.2 validator but may be empty.
  const err = await h.sdkError(
    ctx.user.createUser({ body: { phone_number: '', first_name: 'Nobody' } }),
    400,
    'VALIDATION_ERROR',
  );
  assert.match(err.details.message, /phone_number|email/);
  // With neither key at all: plain fetch, because the SDK rejects that client-side.
  const res = await ctx.api('POST', '', { body: { first_name: 'Nobody' } });
  const body = h.rawError(res, 400, 'VALIDATION_ERROR');
  assert.match(body.message, /phone_number|email/);
});

test('the SDK itself refuses a body without phone_number (client-side validation)', async () => {
  await assert.rejects(ctx.user.createUser({ body: { email: h.uniqueEmail() } }), h.FDKClientValidationError);
});

test('a wrongly typed field is 400 naming it (plain fetch: the SDK validates types)', async () => {
  const res = await ctx.api('POST', '', { body: { phone_number: h.uniquePhone(), email: h.uniqueEmail(), meta: 'not-an-object' } });
  const body = h.rawError(res, 400, ['VALIDATION_ERROR', 'MALFORMED_BODY'], 'meta');
  assert.ok(!/password|panicked/i.test(body.message));
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
