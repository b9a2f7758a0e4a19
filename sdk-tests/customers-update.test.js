'use strict';
// updateUser: PUT …/customers/{user_id}

const { test } = require('node:test');
const assert = require('node:assert/strict');
const h = require('./helpers');

const ctx = h.useServer();

const phoneEntry = (phone, extra = {}) => ({ phone, country_code: '91', primary: true, verified: true, active: true, ...extra });
const emailEntry = (email, extra = {}) => ({ email, primary: true, verified: true, active: true, ...extra });

test('updateUser edits the profile and replaces contact lists; __v moves', async () => {
  const before = await h.createCustomer(ctx.user, { last_name: 'Keep', gender: 'female', meta: { a: 1 } });
  const tag = h.uniqueTag('upd');
  const newPhone = h.uniquePhone();
  const res = await h.sdk(
    ctx.user.updateUser({
      userId: before._id,
      body: {
        first_name: 'Meera',
        emails: [emailEntry(`${tag}.main@Example.com`), emailEntry(`${tag}.alt@example.com`, { primary: false, verified: false })],
        phone_numbers: [phoneEntry(newPhone)],
      },
    }),
  );
  assert.deepEqual(Object.keys(res), ['user']);
  const u = res.user;
  h.assertCustomerShape(u, ctx.applicationId);
  h.assertNoSecrets(res);
  assert.equal(u._id, before._id);
  assert.equal(u.first_name, 'Meera');
  assert.equal(u.last_name, 'Keep', 'fields not sent are kept');
  assert.equal(u.gender, 'female');
  assert.deepEqual(u.meta, { a: 1 });
  assert.equal(u.username, before.username);
  assert.equal(u.created_at, before.created_at);
  // (That updated_at moves: the Rust store tests.)
  assert.ok(Date.parse(u.updated_at) >= Date.parse(before.updated_at), `updated_at ${before.updated_at} -> ${u.updated_at}`);
  if (before.__v !== undefined || u.__v !== undefined) {
    assert.equal(typeof u.__v, 'number');
    assert.equal(u.__v, before.__v + 1, '__v increments by one');
  }

  assert.deepEqual(u.emails, [
    { email: `${tag}.main@example.com`, primary: true, verified: true, active: true },
    { email: `${tag}.alt@example.com`, primary: false, verified: false, active: true },
  ]);
  assert.deepEqual(u.phone_numbers, [{ phone: newPhone, country_code: 91, primary: true, verified: true, active: true }]);
  assert.equal(typeof u.phone_numbers[0].country_code, 'number', 'country_code goes in as "91", comes out as 91');

  // The replaced email and phone are free for a new customer. (That search follows the
  // replacement: the Rust store tests.)
  await h.createCustomer(ctx.user, { email: before.emails[0].email, phone_number: before.phone_numbers[0].phone });

  // A second update increments __v again.
  const second = (await h.sdk(ctx.user.updateUser({ userId: u._id, body: { last_name: 'Iyer' } }))).user;
  assert.equal(second.last_name, 'Iyer');
  assert.equal(second.first_name, 'Meera');
  assert.deepEqual(second.emails, u.emails, 'lists not sent are kept');
  if (u.__v !== undefined) assert.equal(second.__v, u.__v + 1);
});

test('updateUser keeping its own email (another case) is fine', async () => {
  const before = await h.createCustomer(ctx.user);
  const mine = before.emails[0].email;
  const res = await h.sdk(ctx.user.updateUser({ userId: before._id, body: { emails: [emailEntry(mine.toUpperCase())] } }));
  assert.equal(res.user.emails[0].email, mine);
});

test("taking another customer's phone is 400 PHONE_ALREADY_EXISTS", async () => {
  const other = await h.createCustomer(ctx.user);
  const me = await h.createCustomer(ctx.user);
  await h.sdkError(
    ctx.user.updateUser({ userId: me._id, body: { phone_numbers: [phoneEntry(`+91${other.phone_numbers[0].phone}`)] } }),
    400,
    'PHONE_ALREADY_EXISTS',
    'phone',
  );
});

test('updateUser for an unknown id is 404 USER_NOT_FOUND; a malformed id is 400', async () => {
  await h.sdkError(ctx.user.updateUser({ userId: h.unknownId(), body: { first_name: 'X' } }), 404, 'USER_NOT_FOUND');
  await h.sdkError(ctx.user.updateUser({ userId: 'not-a-valid-id', body: { first_name: 'X' } }), (s) => s === 400 || s === 404);
});
