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

test('getCustomers q plain text: a +91 number finds the national one', async () => {
  // (National numbers and prefixes: the Rust store and API tests.)
  const national = h.uniquePhone();
  const u = await h.createCustomer(ctx.user, { phone_number: national });
  assert.deepEqual(h.ids(await h.listAll(ctx.user, `+91${national}`)), [u._id]);
});

test('getCustomers q on ids: user_id is _id, with $in and $eq', async () => {
  // (_id with $in: the Rust store tests.)
  const { users } = await trio();
  const viaUserId = JSON.stringify({ user_id: { $in: [users[1]._id, h.unknownId()] } });
  assert.deepEqual(h.ids(await h.listAll(ctx.user, viaUserId)), [users[1]._id]);
  const eq = JSON.stringify({ _id: { $eq: users[2]._id } });
  assert.deepEqual(h.ids(await h.listAll(ctx.user, eq)), [users[2]._id]);
});

test('getCustomers q with $and and active flag', async () => {
  const { tag, users } = await trio();
  await h.sdk(ctx.user.blockOrUnblockUsers({ body: { status: false, user_id: [users[0]._id], reason: 'test' } }));
  const blocked = JSON.stringify({ $and: [{ 'emails.email': { $regex: `^${tag}` } }, { active: false }] });
  assert.deepEqual(h.ids(await h.listAll(ctx.user, blocked)), [users[0]._id]);
  const active = JSON.stringify({ $and: [{ 'emails.email': { $regex: `^${tag}` } }, { active: true }] });
  assert.deepEqual(h.ids(await h.listAll(ctx.user, active)), h.ids(users.slice(1)));
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

test('getCustomers q naming an unknown field is 400 INVALID_QUERY', async () => {
  // (Which queries are refused: the Rust tests of the q language.)
  await h.sdkError(ctx.user.getCustomers({ q: JSON.stringify({ password: 'x' }) }), 400, 'INVALID_QUERY', 'password');
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
  // An empty answer. (Exact, not prefix, and other phone spellings: the Rust store and domain tests.)
  assert.deepEqual((await h.sdk(ctx.user.searchUsers({ q: tag }))).users, []);
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
