'use strict';
// archiveUser (PUT …/customers/archive) and unDeleteUser (PUT …/customers/undelete).

const { test } = require('node:test');
const assert = require('node:assert/strict');
const h = require('./helpers');

const ctx = h.useServer();

/** All customers listed without q (every page). */
async function listedWithoutQ() {
  const out = [];
  for (let pageNo = 1; ; pageNo += 1) {
    const res = await h.sdk(ctx.user.getCustomers({ pageNo, pageSize: 100 }));
    out.push(...res.items);
    if (!res.page.has_next) return out;
  }
}

const ARCHIVED = JSON.stringify({ archive: true });

test('archiveUser hides the customer from the default list; q={"archive":true} shows it', async () => {
  const a = await h.createCustomer(ctx.user);
  const keep = await h.createCustomer(ctx.user);
  const res = await h.sdk(ctx.user.archiveUser({ body: { user_id: a._id } }));
  assert.deepEqual(res, { success: true });

  const visible = h.ids(await listedWithoutQ());
  assert.ok(!visible.includes(a._id), 'archived customer must not be listed without q');
  assert.ok(visible.includes(keep._id));
  assert.deepEqual(await h.listAll(ctx.user, a.emails[0].email), [], 'plain-text q does not find archived customers');

  const archived = await h.listAll(ctx.user, ARCHIVED);
  const mine = archived.find((u) => u._id === a._id);
  assert.ok(mine, 'archived customer is listed with q={"archive":true}');
  assert.equal(mine.archive, true);
  assert.ok(!archived.some((u) => u._id === keep._id), 'non-archived customers are not in the archive view');
  h.assertCustomerShape(mine, ctx.applicationId);
});

test('archiveUser for an unknown id is 404 USER_NOT_FOUND', async () => {
  await h.sdkError(ctx.user.archiveUser({ body: { user_id: h.unknownId() } }), 404, 'USER_NOT_FOUND');
});

test('archiveUser without user_id is 400 VALIDATION_ERROR', async () => {
  // The 3.4.2 validator does not require user_id, so the SDK sends {}.
  const err = await h.sdkError(ctx.user.archiveUser({ body: {} }), 400, 'VALIDATION_ERROR');
  assert.ok(err.details.message.startsWith('user_id'), err.details.message);
});

test('unDeleteUser restores an archived customer', async () => {
  const a = await h.createCustomer(ctx.user);
  await h.sdk(ctx.user.archiveUser({ body: { user_id: a._id } }));
  const res = await h.sdk(ctx.user.unDeleteUser({ body: { user_id: a._id, reason: 'customer asked', reason_id: '1' } }));
  assert.deepEqual(res, { success: true });
  const visible = h.ids(await listedWithoutQ());
  assert.ok(visible.includes(a._id), 'restored customer is listed again');
  const [back] = await h.listAll(ctx.user, JSON.stringify({ _id: a._id }));
  assert.notEqual(back.archive, true);
  assert.deepEqual(back.emails, a.emails);
  assert.deepEqual(back.phone_numbers, a.phone_numbers);
  assert.deepEqual(h.ids((await h.sdk(ctx.user.searchUsers({ q: a.emails[0].email }))).users), [a._id]);
  assert.ok(!(await h.listAll(ctx.user, ARCHIVED)).some((u) => u._id === a._id));
});

test('unDeleteUser while the phone is taken by a new customer is 400 PHONE_ALREADY_EXISTS', async () => {
  const a = await h.createCustomer(ctx.user);
  await h.sdk(ctx.user.archiveUser({ body: { user_id: a._id } }));
  await h.createCustomer(ctx.user, { phone_number: `+91${a.phone_numbers[0].phone}` });
  await h.sdkError(
    ctx.user.unDeleteUser({ body: { user_id: a._id, reason: 'oops', reason_id: '3' } }),
    400,
    'PHONE_ALREADY_EXISTS',
    'phone',
  );
});

test('unDeleteUser of an unknown id is 404 USER_NOT_FOUND', async () => {
  await h.sdkError(ctx.user.unDeleteUser({ body: { user_id: h.unknownId(), reason: 'r', reason_id: '1' } }), 404, 'USER_NOT_FOUND');
});

test('unDeleteUser without reason / reason_id is 400 VALIDATION_ERROR', async () => {
  const a = await h.createCustomer(ctx.user);
  await h.sdk(ctx.user.archiveUser({ body: { user_id: a._id } }));
  const r = await h.sdkError(ctx.user.unDeleteUser({ body: { user_id: a._id, reason_id: '1' } }), 400, 'VALIDATION_ERROR');
  assert.ok(r.details.message.startsWith('reason'), r.details.message);
  const ri = await h.sdkError(ctx.user.unDeleteUser({ body: { user_id: a._id, reason: 'r' } }), 400, 'VALIDATION_ERROR');
  assert.ok(ri.details.message.startsWith('reason_id'), ri.details.message);
  const u = await h.sdkError(ctx.user.unDeleteUser({ body: { reason: 'r', reason_id: '1' } }), 400, 'VALIDATION_ERROR');
  assert.ok(u.details.message.startsWith('user_id'), u.details.message);
  // Still archived.
  assert.ok((await h.listAll(ctx.user, ARCHIVED)).some((x) => x._id === a._id));
});
