'use strict';
// blockOrUnblockUsers: PUT …/customers/activation

const { test } = require('node:test');
const assert = require('node:assert/strict');
const h = require('./helpers');

const ctx = h.useServer();

async function states(users) {
  const items = await h.listAll(ctx.user, JSON.stringify({ _id: { $in: users.map((u) => u._id) } }));
  return Object.fromEntries(items.map((u) => [u._id, u.active]));
}

test('block (status:false) then unblock (status:true) several customers', async () => {
  const a = await h.createCustomer(ctx.user);
  const b = await h.createCustomer(ctx.user);
  const c = await h.createCustomer(ctx.user);

  const res = await h.sdk(ctx.user.blockOrUnblockUsers({ body: { status: false, user_id: [a._id, b._id], reason: 'fraud review' } }));
  assert.deepEqual(res, { success: true });
  assert.deepEqual(await states([a, b, c]), { [a._id]: false, [b._id]: false, [c._id]: true });

  // The list shows active:false, and so does search.
  const found = await h.sdk(ctx.user.searchUsers({ q: a.emails[0].email }));
  assert.equal(found.users[0].active, false);

  const again = await h.sdk(ctx.user.blockOrUnblockUsers({ body: { status: true, user_id: [a._id], reason: 'cleared' } }));
  assert.deepEqual(again, { success: true });
  assert.deepEqual(await states([a, b, c]), { [a._id]: true, [b._id]: false, [c._id]: true });
});

test('blocking is idempotent and moves updated_at', async () => {
  const a = await h.createCustomer(ctx.user);
  await h.sleep(1100);
  await h.sdk(ctx.user.blockOrUnblockUsers({ body: { status: false, user_id: [a._id], reason: 'x' } }));
  await h.sdk(ctx.user.blockOrUnblockUsers({ body: { status: false, user_id: [a._id], reason: 'x again' } }));
  const [after] = await h.listAll(ctx.user, JSON.stringify({ _id: a._id }));
  assert.equal(after.active, false);
  assert.ok(Date.parse(after.updated_at) > Date.parse(a.updated_at), `updated_at ${a.updated_at} -> ${after.updated_at}`);
  assert.equal(after.created_at, a.created_at);
});

test('missing status or user_id is 400 VALIDATION_ERROR', async () => {
  const a = await h.createCustomer(ctx.user);
  const s = await h.sdkError(ctx.user.blockOrUnblockUsers({ body: { user_id: [a._id], reason: 'r' } }), 400, 'VALIDATION_ERROR');
  assert.ok(s.details.message.startsWith('status'), s.details.message);
  const u = await h.sdkError(ctx.user.blockOrUnblockUsers({ body: { status: false, reason: 'r' } }), 400, 'VALIDATION_ERROR');
  assert.ok(u.details.message.startsWith('user_id'), u.details.message);
  assert.deepEqual(await states([a]), { [a._id]: true });
});

test('a malformed id is 400 VALIDATION_ERROR', async () => {
  const a = await h.createCustomer(ctx.user);
  const err = await h.sdkError(
    ctx.user.blockOrUnblockUsers({ body: { status: false, user_id: [a._id, 'not-an-id'], reason: 'r' } }),
    400,
    'VALIDATION_ERROR',
  );
  assert.ok(err.details.message.startsWith('user_id'), err.details.message);
  assert.deepEqual(await states([a]), { [a._id]: true });
});

test('an unknown (well-formed) id is 400 UNKNOWN_USERS naming it in meta.user_ids', async () => {
  // (That the known ids are not changed either: the Rust store tests.)
  const a = await h.createCustomer(ctx.user);
  const b = await h.createCustomer(ctx.user);
  const ghost = h.unknownId();
  const err = await h.sdkError(
    ctx.user.blockOrUnblockUsers({ body: { status: false, user_id: [a._id, ghost, b._id], reason: 'r' } }),
    h.is4xx,
    'UNKNOWN_USERS',
  );
  assert.equal(err.code, 400);
  assert.ok(JSON.stringify(err.details).includes(ghost), `error body should name ${ghost}: ${JSON.stringify(err.details)}`);
  assert.ok(err.details.meta && Array.isArray(err.details.meta.user_ids), 'meta.user_ids lists the unknown ids');
  assert.deepEqual(err.details.meta.user_ids, [ghost]);
});

test('getUserTimeline: block and unblock with their reasons, newest first, strict model', async () => {
  const a = await h.createCustomer(ctx.user);
  await h.sdk(ctx.user.blockOrUnblockUsers({ body: { status: false, user_id: [a._id], reason: 'fraud review' } }));
  await h.sdk(ctx.user.blockOrUnblockUsers({ body: { status: true, user_id: [a._id], reason: 'cleared' } }));
  const res = await h.sdk(ctx.user.getUserTimeline({ userId: a._id }));
  assert.equal(res.delete_on, undefined, 'no deletion pending');
  assert.deepEqual(res.timeline.map((e) => e.type), ['unblocked', 'blocked', 'created']);
  assert.equal(res.timeline[1].title, 'Account blocked');
  assert.equal(res.timeline[1].sub_title, 'fraud review');
  assert.ok(res.timeline.every((e) => typeof e.visible === 'boolean' && !Number.isNaN(Date.parse(e.date))));
  await h.sdkError(ctx.user.getUserTimeline({ userId: h.unknownId() }), 404, 'USER_NOT_FOUND');
});
