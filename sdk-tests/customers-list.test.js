'use strict';
// getCustomers (GET …/customers/list) and searchUsers (GET …/customers/search).

const { test } = require('node:test');
const assert = require('node:assert/strict');
const h = require('./helpers');

const ctx = h.useServer();

/** Three customers whose emails share a fresh prefix. */
async function trio() {
  const tag = h.uniqueTag('list');
  const users = [];
  for (let i = 1; i <= 3; i += 1) {
    users.push(await h.createCustomer(ctx.user, { email: `${tag}.${i}@example.com`, first_name: `F${i}` }));
  }
  return { tag, users };
}

test('getCustomers without arguments: items + page {type:number, current:1, size:10}', async () => {
  await h.createCustomer(ctx.user);
  const res = await h.sdk(ctx.user.getCustomers({}));
  assert.ok(Array.isArray(res.items));
  assert.ok(res.items.length >= 1);
  const { page } = res;
  assert.equal(page.type, 'number');
  assert.equal(page.current, 1);
  assert.equal(page.size, 10);
  assert.equal(typeof page.item_total, 'number');
  assert.ok(page.item_total >= res.items.length);
  assert.equal(page.has_next, page.item_total > 10);
  for (const u of res.items) h.assertCustomerShape(u, ctx.applicationId);
  h.assertNoSecrets(res);
});

test('getCustomers paginates: pageNo/pageSize, item_total, has_next, page past the end', async () => {
  const { tag, users } = await trio();
  const p1 = await h.sdk(ctx.user.getCustomers({ q: tag, pageNo: 1, pageSize: 2 }));
  assert.deepEqual(p1.page, { type: 'number', current: 1, size: 2, item_total: 3, has_next: true, ...pick(p1.page, 'total') });
  assert.equal(p1.items.length, 2);
  const p2 = await h.sdk(ctx.user.getCustomers({ q: tag, pageNo: 2, pageSize: 2 }));
  assert.equal(p2.items.length, 1);
  assert.equal(p2.page.current, 2);
  assert.equal(p2.page.size, 2);
  assert.equal(p2.page.item_total, 3);
  assert.equal(p2.page.has_next, false);
  assert.deepEqual([...h.ids(p1.items), ...h.ids(p2.items)].sort(), h.ids(users), 'pages are disjoint and complete');
  const p3 = await h.sdk(ctx.user.getCustomers({ q: tag, pageNo: 3, pageSize: 2 }));
  assert.deepEqual(p3.items, []);
  assert.equal(p3.page.has_next, false);
  assert.equal(p3.page.item_total, 3);
  const all = await h.sdk(ctx.user.getCustomers({ q: tag, pageNo: 1, pageSize: 3 }));
  assert.equal(all.items.length, 3);
  assert.equal(all.page.has_next, false, 'has_next is false when current*size == item_total');
});

function pick(obj, key) {
  return key in obj ? { [key]: obj[key] } : {};
}

test('getCustomers q plain text: case-insensitive email prefix', async () => {
  const { tag, users } = await trio();
  assert.deepEqual(h.ids(await h.listAll(ctx.user, tag)), h.ids(users));
  assert.deepEqual(h.ids(await h.listAll(ctx.user, tag.toUpperCase())), h.ids(users));
  assert.deepEqual(h.ids(await h.listAll(ctx.user, `${tag}.2@example.com`)), [users[1]._id]);
  assert.deepEqual(await h.listAll(ctx.user, `${tag}zzz`), []);
});

test('getCustomers q plain text: phone number (national, +91, prefix)', async () => {
  const national = h.uniquePhone();
  const u = await h.createCustomer(ctx.user, { phone_number: national });
  assert.deepEqual(h.ids(await h.listAll(ctx.user, national)), [u._id]);
  assert.deepEqual(h.ids(await h.listAll(ctx.user, `+91${national}`)), [u._id]);
  assert.ok(h.ids(await h.listAll(ctx.user, national.slice(0, 8))).includes(u._id), 'phone prefix matches');
});

test('getCustomers q in the seed JSON form {"$or":[{"emails.email":x},{"phoneNumbers.phone":x}]}', async () => {
  const { users } = await trio();
  const email = users[0].emails[0].email;
  const q = JSON.stringify({ $or: [{ 'emails.email': email }, { 'phoneNumbers.phone': email }] });
  const res = await h.sdk(ctx.user.getCustomers({ q }));
  assert.deepEqual(h.ids(res.items), [users[0]._id]);
  assert.equal(res.page.item_total, 1);

  const phone = users[2].phone_numbers[0].phone;
  const qp = JSON.stringify({ $or: [{ 'emails.email': phone }, { 'phoneNumbers.phone': phone }] });
  assert.deepEqual(h.ids(await h.listAll(ctx.user, qp)), [users[2]._id]);

  const none = JSON.stringify({ $or: [{ 'emails.email': 'nobody@example.com' }, { 'phoneNumbers.phone': 'nobody@example.com' }] });
  const empty = await h.sdk(ctx.user.getCustomers({ q: none }));
  assert.deepEqual(empty.items, []);
  assert.equal(empty.page.item_total, 0);
  assert.equal(empty.page.has_next, false);
});

test('getCustomers q with $regex prefix and $options "i"', async () => {
  const { tag, users } = await trio();
  const q = JSON.stringify({ 'emails.email': { $regex: `^${tag.toUpperCase()}`, $options: 'i' } });
  assert.deepEqual(h.ids(await h.listAll(ctx.user, q)), h.ids(users));
  const first = JSON.stringify({ first_name: { $regex: '^F2$', $options: 'i' }, 'emails.email': { $regex: `^${tag}` } });
  assert.deepEqual(h.ids(await h.listAll(ctx.user, first)), [users[1]._id]);
});

test('getCustomers q with $in on _id', async () => {
  const { users } = await trio();
  const q = JSON.stringify({ _id: { $in: [users[0]._id, users[2]._id] } });
  assert.deepEqual(h.ids(await h.listAll(ctx.user, q)), h.ids([users[0], users[2]]));
  const viaUserId = JSON.stringify({ user_id: { $in: [users[1]._id, h.unknownId()] } });
  assert.deepEqual(h.ids(await h.listAll(ctx.user, viaUserId)), [users[1]._id]);
});

test('getCustomers q with $and and active flag', async () => {
  const { tag, users } = await trio();
  await h.sdk(ctx.user.blockOrUnblockUsers({ body: { status: false, user_id: [users[0]._id], reason: 'test' } }));
  const blocked = JSON.stringify({ $and: [{ 'emails.email': { $regex: `^${tag}` } }, { active: false }] });
  assert.deepEqual(h.ids(await h.listAll(ctx.user, blocked)), [users[0]._id]);
  const active = JSON.stringify({ $and: [{ 'emails.email': { $regex: `^${tag}` } }, { active: true }] });
  assert.deepEqual(h.ids(await h.listAll(ctx.user, active)), h.ids(users.slice(1)));
});

test('getCustomers q JSON: phone values in any spelling, email equality ignores case', async () => {
  const u = await h.createCustomer(ctx.user);
  const p = u.phone_numbers[0].phone;
  for (const q of [
    { 'phoneNumbers.phone': `+91${p}` },
    { 'phone_numbers.phone': `91${p}` },
    { 'phoneNumbers.phone': p },
    { 'emails.email': u.emails[0].email.toUpperCase() },
    { _id: { $eq: u._id } },
  ]) {
    assert.deepEqual(h.ids(await h.listAll(ctx.user, JSON.stringify(q))), [u._id], JSON.stringify(q));
  }
});

test('getCustomers q: archive flag filters ({"archive":false}, $or over both)', async () => {
  const gone = await h.createCustomer(ctx.user);
  const live = await h.createCustomer(ctx.user);
  await h.sdk(ctx.user.archiveUser({ body: { user_id: gone._id } }));
  const scope = { _id: { $in: [gone._id, live._id] } };
  const q = (extra) => JSON.stringify({ $and: [scope, extra] });
  assert.deepEqual(h.ids(await h.listAll(ctx.user, q({ archive: false }))), [live._id]);
  assert.deepEqual(h.ids(await h.listAll(ctx.user, q({ archive: true }))), [gone._id]);
  assert.deepEqual(h.ids(await h.listAll(ctx.user, q({ $or: [{ archive: true }, { archive: false }] }))), h.ids([gone, live]));
  assert.deepEqual(h.ids(await h.listAll(ctx.user, JSON.stringify(scope))), [live._id], 'archived hidden unless q asks');
});

test('getCustomers q: SQL / LIKE metacharacters are data, not code', async () => {
  await h.createCustomer(ctx.user);
  for (const q of ["' OR 1=1 --", '%', '_', '%@%', '\\', '"; DROP TABLE customers; --']) {
    const res = await h.sdk(ctx.user.getCustomers({ q, pageSize: 100 }));
    assert.deepEqual(res.items, [], `plain q ${JSON.stringify(q)} must match nothing`);
  }
  for (const value of ["x' OR '1'='1", '%', '_%']) {
    const res = await h.sdk(ctx.user.getCustomers({ q: JSON.stringify({ first_name: value }) }));
    assert.deepEqual(res.items, [], `first_name ${JSON.stringify(value)} must match nothing`);
  }
  for (const value of ['%', '_%', '%@%']) {
    const re = await h.sdk(ctx.user.getCustomers({ q: JSON.stringify({ 'emails.email': { $regex: `^${value}` } }) }));
    assert.deepEqual(re.items, [], `$regex ^${value} must match nothing`);
  }
  // The table is still there.
  assert.ok((await h.sdk(ctx.user.getCustomers({}))).items.length > 0);
});

test('getCustomers q: malformed logical operators and excessive nesting are 400 INVALID_QUERY', async () => {
  await h.sdkError(ctx.user.getCustomers({ q: '{"$or":"x"}' }), 400, 'INVALID_QUERY', '$or');
  let deep = { active: true };
  for (let i = 0; i < 10; i += 1) deep = { $or: [deep] };
  await h.sdkError(ctx.user.getCustomers({ q: JSON.stringify(deep) }), 400, 'INVALID_QUERY');
  await h.sdkError(ctx.user.getCustomers({ q: JSON.stringify({ 'emails.email': { $regex: 'a.*b' } }) }), 400, 'INVALID_QUERY', '$regex');
});

test('getCustomers q with an unsupported operator ($where) is 400 INVALID_QUERY naming it', async () => {
  await h.sdkError(ctx.user.getCustomers({ q: JSON.stringify({ $where: '1' }) }), 400, 'INVALID_QUERY', '$where');
  await h.sdkError(
    ctx.user.getCustomers({ q: JSON.stringify({ 'emails.email': { $ne: 'x@example.com' } }) }),
    400,
    'INVALID_QUERY',
    '$ne',
  );
});

test('getCustomers q with an unknown field or broken JSON is 400 INVALID_QUERY', async () => {
  await h.sdkError(ctx.user.getCustomers({ q: JSON.stringify({ password: 'x' }) }), 400, 'INVALID_QUERY', 'password');
  await h.sdkError(ctx.user.getCustomers({ q: '{"emails.email": ' }), 400, 'INVALID_QUERY');
  await h.sdkError(ctx.user.getCustomers({ q: JSON.stringify({ 'emails.email': { $regex: '(a+)+$' } }) }), 400, 'INVALID_QUERY');
});

test('getCustomers pageSize 101 is 400 VALIDATION_ERROR naming page_size', async () => {
  const err = await h.sdkError(ctx.user.getCustomers({ pageSize: 101 }), 400, 'VALIDATION_ERROR', 'page_size');
  assert.ok(err.details.message.startsWith('page_size'), err.details.message);
  const ok = await h.sdk(ctx.user.getCustomers({ pageSize: 100 }));
  assert.equal(ok.page.size, 100);
});

test('getCustomers pageNo 0 / pageSize 0 are 400 VALIDATION_ERROR', async () => {
  const a = await h.sdkError(ctx.user.getCustomers({ pageNo: 0 }), 400, 'VALIDATION_ERROR');
  assert.ok(a.details.message.startsWith('page_no'), a.details.message);
  const b = await h.sdkError(ctx.user.getCustomers({ pageSize: 0 }), 400, 'VALIDATION_ERROR');
  assert.ok(b.details.message.startsWith('page_size'), b.details.message);
});

test('getCustomers non-numeric page_no is 400 (plain fetch: the SDK validates numbers)', async () => {
  const res = await ctx.api('GET', '/list', { query: { page_no: 'two' } });
  const body = h.rawError(res, 400, 'VALIDATION_ERROR');
  assert.ok(body.message.startsWith('page_no'), body.message);
});

test('searchUsers q: exact email (case-insensitive) or phone', async () => {
  const { tag, users } = await trio();
  const email = users[1].emails[0].email;
  const byEmail = await h.sdk(ctx.user.searchUsers({ q: email.toUpperCase() }));
  assert.deepEqual(Object.keys(byEmail), ['users']);
  assert.deepEqual(h.ids(byEmail.users), [users[1]._id]);
  for (const u of byEmail.users) h.assertCustomerShape(u, ctx.applicationId);

  const phone = users[2].phone_numbers[0].phone;
  assert.deepEqual(h.ids((await h.sdk(ctx.user.searchUsers({ q: phone }))).users), [users[2]._id]);
  assert.deepEqual(h.ids((await h.sdk(ctx.user.searchUsers({ q: `+91${phone}` }))).users), [users[2]._id]);

  // Exact, not prefix.
  assert.deepEqual((await h.sdk(ctx.user.searchUsers({ q: tag }))).users, []);
  assert.deepEqual((await h.sdk(ctx.user.searchUsers({ q: phone.slice(0, 7) }))).users, []);
  assert.deepEqual((await h.sdk(ctx.user.searchUsers({ q: 'nobody-here@example.com' }))).users, []);
});

test('searchUsers q: phone spellings (+91 with spaces, leading 0) find the customer', async () => {
  const u = await h.createCustomer(ctx.user);
  const p = u.phone_numbers[0].phone;
  for (const q of [`+91 ${p.slice(0, 5)} ${p.slice(5)}`, `0${p}`, `91${p}`]) {
    assert.deepEqual(h.ids((await h.sdk(ctx.user.searchUsers({ q }))).users), [u._id], q);
  }
});

test('searchUsers does not return archived customers', async () => {
  const u = await h.createCustomer(ctx.user);
  await h.sdk(ctx.user.archiveUser({ body: { user_id: u._id } }));
  assert.deepEqual((await h.sdk(ctx.user.searchUsers({ q: u.emails[0].email }))).users, []);
});

test('searchUsers query[]: union of several emails/phones', async () => {
  const { users } = await trio();
  const res = await h.sdk(
    ctx.user.searchUsers({
      query: [users[0].emails[0].email, users[2].phone_numbers[0].phone, 'unknown@example.com'],
    }),
  );
  assert.deepEqual(h.ids(res.users), h.ids([users[0], users[2]]));
  const single = await h.sdk(ctx.user.searchUsers({ query: [users[1].emails[0].email] }));
  assert.deepEqual(h.ids(single.users), [users[1]._id]);
  const both = await h.sdk(ctx.user.searchUsers({ q: users[0].emails[0].email, query: [users[1].emails[0].email] }));
  assert.deepEqual(h.ids(both.users), h.ids([users[0], users[1]]));
});

test('searchUsers with neither q nor query: 200 with a users array, or a 400', async () => {
  // Unspecified by the seed; either answer is acceptable, but it must be well-formed.
  try {
    const res = await ctx.user.searchUsers({});
    assert.ok(Array.isArray(res.users));
  } catch (err) {
    assert.ok(err instanceof h.FDKServerResponseError, `${err.name}: ${err.message}`);
    assert.equal(err.code, 400);
    h.assertErrorBody(err.details, 400, 'VALIDATION_ERROR');
  }
});
