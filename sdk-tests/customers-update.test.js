'use strict';
// updateUser: PUT …/customers/{user_id}

const { test } = require('node:test');
const assert = require('node:assert/strict');
const h = require('./helpers');

const ctx = h.useServer();

const phoneEntry = (phone, extra = {}) => ({ phone, country_code: '91', primary: true, verified: true, active: true, ...extra });
const emailEntry = (email, extra = {}) => ({ email, primary: true, verified: true, active: true, ...extra });

test('updateUser edits the profile and replaces contact lists; __v and updated_at move', async () => {
  const before = await h.createCustomer(ctx.user, { last_name: 'Keep', gender: 'female', meta: { a: 1 } });
  await h.sleep(1100); // so a second-precision updated_at can move too
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
  assert.ok(Date.parse(u.updated_at) > Date.parse(before.updated_at), `updated_at ${before.updated_at} -> ${u.updated_at}`);
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

  // Wholesale replacement: the old email/phone no longer find the customer, the new ones do.
  assert.deepEqual((await h.sdk(ctx.user.searchUsers({ q: before.emails[0].email }))).users, []);
  assert.deepEqual((await h.sdk(ctx.user.searchUsers({ q: before.phone_numbers[0].phone }))).users, []);
  assert.deepEqual(h.ids((await h.sdk(ctx.user.searchUsers({ q: `${tag}.alt@example.com` }))).users), [u._id]);
  assert.deepEqual(h.ids((await h.sdk(ctx.user.searchUsers({ q: newPhone }))).users), [u._id]);

  // The freed email can be taken by a new customer.
  await h.createCustomer(ctx.user, { email: before.emails[0].email, phone_number: before.phone_numbers[0].phone });

  // A second update increments __v again.
  const second = (await h.sdk(ctx.user.updateUser({ userId: u._id, body: { last_name: 'Iyer' } }))).user;
  assert.equal(second.last_name, 'Iyer');
  assert.equal(second.first_name, 'Meera');
  assert.deepEqual(second.emails, u.emails, 'lists not sent are kept');
  if (u.__v !== undefined) assert.equal(second.__v, u.__v + 1);
});

test('updateUser primary entry is listed first and only one is primary', async () => {
  const before = await h.createCustomer(ctx.user);
  const tag = h.uniqueTag('prim');
  const res = await h.sdk(
    ctx.user.updateUser({
      userId: before._id,
      body: { emails: [emailEntry(`${tag}.b@example.com`, { primary: false }), emailEntry(`${tag}.a@example.com`)] },
    }),
  );
  const emails = res.user.emails;
  assert.equal(emails.length, 2);
  assert.equal(emails[0].email, `${tag}.a@example.com`);
  assert.equal(emails.filter((e) => e.primary).length, 1);
});

test('updateUser accepts phone spellings with country_code "91"', async () => {
  const before = await h.createCustomer(ctx.user);
  const n = h.uniquePhone();
  const res = await h.sdk(ctx.user.updateUser({ userId: before._id, body: { phone_numbers: [phoneEntry(`+91 ${n.slice(0, 5)} ${n.slice(5)}`)] } }));
  assert.equal(res.user.phone_numbers[0].phone, n);
  assert.equal(res.user.phone_numbers[0].country_code, 91);
});

test('updateUser keeping its own email (another case) is fine', async () => {
  const before = await h.createCustomer(ctx.user);
  const mine = before.emails[0].email;
  const res = await h.sdk(ctx.user.updateUser({ userId: before._id, body: { emails: [emailEntry(mine.toUpperCase())] } }));
  assert.equal(res.user.emails[0].email, mine);
});

test('two primaries in emails is 400 VALIDATION_ERROR naming emails; nothing changes', async () => {
  const before = await h.createCustomer(ctx.user);
  const err = await h.sdkError(
    ctx.user.updateUser({
      userId: before._id,
      body: { first_name: 'Changed', emails: [emailEntry(h.uniqueEmail()), emailEntry(h.uniqueEmail())] },
    }),
    400,
    'VALIDATION_ERROR',
  );
  assert.ok(err.details.message.startsWith('emails'), err.details.message);
  const [after] = await h.listAll(ctx.user, JSON.stringify({ _id: before._id }));
  assert.equal(after.first_name, before.first_name);
  assert.deepEqual(after.emails, before.emails);
});

test('two primaries in phone_numbers is 400 VALIDATION_ERROR naming phone_numbers', async () => {
  const before = await h.createCustomer(ctx.user);
  const err = await h.sdkError(
    ctx.user.updateUser({ userId: before._id, body: { phone_numbers: [phoneEntry(h.uniquePhone()), phoneEntry(h.uniquePhone())] } }),
    400,
    'VALIDATION_ERROR',
  );
  assert.ok(err.details.message.startsWith('phone_numbers'), err.details.message);
});

test("taking another customer's email is 400 EMAIL_ALREADY_EXISTS", async () => {
  const other = await h.createCustomer(ctx.user);
  const me = await h.createCustomer(ctx.user);
  await h.sdkError(
    ctx.user.updateUser({ userId: me._id, body: { emails: [emailEntry(other.emails[0].email.toUpperCase())] } }),
    400,
    'EMAIL_ALREADY_EXISTS',
    'email',
  );
  const [after] = await h.listAll(ctx.user, JSON.stringify({ _id: me._id }));
  assert.deepEqual(after.emails, me.emails);
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

test('an invalid email or phone in the lists is 400 VALIDATION_ERROR', async () => {
  const me = await h.createCustomer(ctx.user);
  const e = await h.sdkError(ctx.user.updateUser({ userId: me._id, body: { emails: [emailEntry('nope')] } }), 400, 'VALIDATION_ERROR');
  assert.ok(e.details.message.startsWith('emails'), e.details.message);
  const p = await h.sdkError(ctx.user.updateUser({ userId: me._id, body: { phone_numbers: [phoneEntry('123')] } }), 400, 'VALIDATION_ERROR');
  assert.ok(p.details.message.startsWith('phone_numbers'), p.details.message);
});

test('updateUser for an unknown id is 404 USER_NOT_FOUND; a malformed id is 400', async () => {
  await h.sdkError(ctx.user.updateUser({ userId: h.unknownId(), body: { first_name: 'X' } }), 404, 'USER_NOT_FOUND');
  await h.sdkError(ctx.user.updateUser({ userId: 'not-a-valid-id', body: { first_name: 'X' } }), (s) => s === 400 || s === 404);
});
