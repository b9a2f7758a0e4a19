'use strict';
// Customer groups: createUserGroup, getUserGroups, getUserGroupById, updateUserGroup,
// updateUserGroupPartially, and their members (GET …/user_group/{id}/users, plain fetch: the
// 3.4.2 SDK has no method for it). Who is a member (operators, live values, black- and
// whitelists) is left to the Rust tests.
//
// This file's server has no [fetch] allow-list, so a loopback file_url must be refused.
// Member files applied by the job runner are covered in jobs.test.js.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const h = require('./helpers');

const ctx = h.useServer();
const files = h.useFileServer();

const api = (method, subpath, opts) => h.appApi(ctx, method, subpath, opts);

/** A group body with a unique name. */
function groupBody(overrides = {}) {
  return { name: `Group ${h.uniqueTag('g')}`, description: 'test group', ...overrides };
}

/** createUserGroup through the SDK on `user` (default: the file's main application). */
async function createGroup(body, user = ctx.user) {
  return h.sdk(user.createUserGroup({ body }));
}

/** The sorted member ids of a group (every page), checking the response shape. */
async function members(groupId, applicationId = ctx.applicationId) {
  const out = [];
  for (let pageNo = 1; ; pageNo += 1) {
    const res = await api('GET', `/user_group/${groupId}/users`, { applicationId, query: { page_no: pageNo, page_size: 50 } });
    assert.equal(res.status, 200, `members of ${groupId}: ${res.status} ${res.text}`);
    h.assertModel('CustomerListResponseSchema', res.body);
    assert.ok(Array.isArray(res.body.items), res.text);
    for (const u of res.body.items) h.assertCustomerShape(u, applicationId);
    out.push(...res.body.items);
    if (!res.body.page.has_next) break;
  }
  return h.ids(out);
}

/** An application of its own: { app, user, customer(), def(), group(), members() }. */
async function sandbox() {
  const app = await ctx.newApp();
  return {
    app,
    user: app.user,
    customer: (o) => h.createCustomer(app.user, o),
    def: (o) => h.createDefinition(app.user, o),
    set: (d, c, v) => h.setValue(app.user, d._id, c._id, v),
    group: (body) => createGroup(body, app.user),
    members: (g) => members(g._id, app.applicationId),
    api: (method, subpath, opts = {}) => h.appApi(ctx, method, subpath, { ...opts, applicationId: app.applicationId }),
  };
}

// ---------------------------------------------------------------------------------------
// Create

test('createUserGroup: a conditional group answers 201, status completed, conditions with key = slug; an unknown type is 400', async () => {
  const d = await h.createDefinition(ctx.user, { type: 'number' });
  const body = groupBody({ conditions: [{ user_attribute_definition_id: d._id, type: 'gte', value: '100' }] });
  const res = await api('POST', '/user_group', { body });
  assert.equal(res.status, 201, `expected 201 Created, got ${res.status}: ${res.text}`);
  const g = res.body;
  h.assertGroupShape(g, ctx.applicationId);
  assert.equal(g.name, body.name);
  assert.equal(g.description, body.description);
  assert.equal(g.type, 'conditional');
  assert.equal(g.status, 'completed');
  assert.equal(g.is_active, true);
  assert.deepEqual(g.conditions, [{ user_attribute_definition_id: d._id, type: 'gte', value: '100', key: d.slug }]);
  assert.deepEqual(g.tags, []);
  assert.equal(g.file_url, undefined);
  assert.equal(g.error, undefined);
  assert.equal(g.created_at, g.modified_at);

  // Through the strict SDK, and read back.
  const viaSdk = await createGroup(groupBody({ conditions: [{ user_attribute_definition_id: d._id, type: 'lt', value: '5' }] }));
  h.assertGroupShape(viaSdk, ctx.applicationId);
  assert.equal(viaSdk.uid, g.uid + 1, 'uids count up');
  const read = await h.sdk(ctx.user.getUserGroupById({ groupId: g._id }));
  assert.deepEqual(read, g);
  // An unknown type is refused. (Types, conditions and operators: the Rust tests.)
  await h.sdkError(ctx.user.createUserGroup({ body: groupBody({ type: 'smart' }) }), 400, 'VALIDATION_ERROR', 'type');
});

test('name and description are required (plain fetch: the SDK requires them client-side)', async () => {
  for (const body of [{ description: 'd' }, { name: `N ${h.uniqueTag()}` }, { name: '', description: 'd' }, { name: '   ', description: 'd' }]) {
    const res = await api('POST', '/user_group', { body });
    h.rawError(res, 400, 'VALIDATION_ERROR');
  }
  const missingName = await api('POST', '/user_group', { body: { description: 'd' } });
  assert.match(missingName.body.message, /name/);
  const missingDescription = await api('POST', '/user_group', { body: { name: `N ${h.uniqueTag()}` } });
  assert.match(missingDescription.body.message, /description/);
});

test('condition values are echoed in the JSON type sent (plain fetch: the SDK models them as strings)', async () => {
  // An application of its own: a number-valued condition would fail the strict SDK's
  // getUserGroups for the whole application (ConditionsSchema.value is a string).
  const s = await sandbox();
  const d = await s.def({ type: 'number' });
  const a = await s.customer();
  const b = await s.customer();
  await s.set(d, a, 10);
  await s.set(d, b, 30);
  const res = await s.api('POST', '/user_group', {
    body: groupBody({ conditions: [{ user_attribute_definition_id: d._id, type: 'gt', value: 5 }, { user_attribute_definition_id: d._id, type: 'lt', value: 20 }] }),
  });
  assert.equal(res.status, 201, res.text);
  assert.deepEqual(res.body.conditions.map((c) => c.value), [5, 20]);
  assert.deepEqual(await s.members(res.body), [a._id]);
});

// ---------------------------------------------------------------------------------------
// Members

test('members: pagination and shape; unknown group is 404', async () => {
  const s = await sandbox();
  const d = await s.def({ type: 'number' });
  const customers = [];
  for (let i = 0; i < 5; i += 1) {
    const c = await s.customer();
    await s.set(d, c, i);
    customers.push(c);
  }
  const g = await s.group(groupBody({ conditions: [{ user_attribute_definition_id: d._id, type: 'gte', value: '0' }] }));
  const p1 = await s.api('GET', `/user_group/${g._id}/users`, { query: { page_no: 1, page_size: 2 } });
  assert.equal(p1.status, 200, p1.text);
  h.assertModel('CustomerListResponseSchema', p1.body);
  assert.equal(p1.body.items.length, 2);
  assert.equal(p1.body.page.item_total, 5);
  assert.equal(p1.body.page.has_next, true);
  assert.equal(p1.body.page.size, 2);
  const p3 = await s.api('GET', `/user_group/${g._id}/users`, { query: { page_no: 3, page_size: 2 } });
  assert.equal(p3.body.items.length, 1);
  assert.equal(p3.body.page.has_next, false);
  assert.equal(p3.body.page.current, 3);
  assert.deepEqual(await s.members(g), h.ids(customers));
  const unknown = await s.api('GET', `/user_group/${h.unknownId()}/users`);
  h.rawError(unknown, 404, undefined);
});

// ---------------------------------------------------------------------------------------
// List and read

test('getUserGroups: filters name, type, status, group_uid; pagination with string pageNo/pageSize', async () => {
  const s = await sandbox();
  const d = await s.def({ type: 'number' });
  const g1 = await s.group({ name: 'VIP Buyers', description: 'x', conditions: [{ user_attribute_definition_id: d._id, type: 'gt', value: '1' }] });
  const g2 = await s.group({ name: 'vip lapsed', description: 'x' });
  const g3 = await s.group({ name: 'Newsletter', description: 'x', type: 'bulk' });
  const list = async (args) => {
    const res = await h.sdk(s.user.getUserGroups(args));
    for (const g of res.items) h.assertGroupShape(g, s.app.applicationId);
    return res;
  };
  const ids = async (args) => h.ids((await list(args)).items);

  const all = await list({});
  assert.deepEqual(h.ids(all.items), h.ids([g1, g2, g3]));
  assert.equal(all.page.item_total, 3);
  assert.equal(all.page.has_next, false);
  assert.deepEqual(await ids({ name: 'VIP' }), h.ids([g1, g2]), 'name: case-insensitive substring');
  assert.deepEqual(await ids({ type: 'bulk' }), h.ids([g2, g3]));
  assert.deepEqual(await ids({ type: 'conditional' }), [g1._id]);
  assert.deepEqual(await ids({ status: 'completed' }), h.ids([g1, g2, g3]));
  assert.deepEqual(await ids({ groupUid: g2.uid }), [g2._id]);
  assert.deepEqual(await ids({ name: 'vip', type: 'bulk' }), [g2._id]);

  const p1 = await list({ pageNo: '1', pageSize: '2' });
  assert.equal(p1.items.length, 2);
  assert.equal(p1.page.has_next, true);
  assert.equal(p1.page.item_total, 3);
  const p2 = await list({ pageNo: '2', pageSize: '2' });
  assert.equal(p2.items.length, 1);
  assert.equal(p2.page.has_next, false);
  assert.deepEqual(h.ids([...p1.items, ...p2.items]), h.ids([g1, g2, g3]));
});

test('getUserGroupById: the group as created; unknown id 404, malformed 400', async () => {
  const g = await createGroup(groupBody());
  const read = await h.sdk(ctx.user.getUserGroupById({ groupId: g._id }));
  assert.deepEqual(read, g);
  await h.sdkError(ctx.user.getUserGroupById({ groupId: h.unknownId() }), 404, undefined);
  await h.sdkError(ctx.user.getUserGroupById({ groupId: 'nope' }), 400, 'VALIDATION_ERROR');
  // (Groups of other applications: the Rust store tests.)
});

// ---------------------------------------------------------------------------------------
// Update (PUT) and modify (PATCH)

test('updateUserGroup replaces name, description and conditions; membership follows', async () => {
  const s = await sandbox();
  const spend = await s.def({ type: 'number' });
  const city = await s.def({ type: 'string' });
  const a = await s.customer();
  const b = await s.customer();
  await s.set(spend, a, 10);
  await s.set(spend, b, 20);
  await s.set(city, a, 'Goa');
  const g = await s.group(groupBody({ conditions: [{ user_attribute_definition_id: spend._id, type: 'gt', value: '15' }] }));
  assert.deepEqual(await s.members(g), [b._id]);
  await h.sleep(5);

  const body = {
    name: `${g.name} v2`,
    description: 'changed',
    conditions: [{ user_attribute_definition_id: city._id, type: 'eq', value: 'Goa' }],
  };
  const u = await h.sdk(s.user.updateUserGroup({ groupId: g._id, body }));
  h.assertGroupShape(u, s.app.applicationId);
  assert.equal(u._id, g._id);
  assert.equal(u.uid, g.uid);
  assert.equal(u.name, body.name);
  assert.equal(u.description, 'changed');
  assert.equal(u.type, 'conditional');
  assert.deepEqual(u.conditions, [{ ...body.conditions[0], key: city.slug }]);
  assert.equal(u.created_at, g.created_at);
  assert.ok(Date.parse(u.modified_at) >= Date.parse(g.modified_at));
  assert.deepEqual(await h.sdk(s.user.getUserGroupById({ groupId: g._id })), u);
  assert.deepEqual(await s.members(g), [a._id], 'members follow the new conditions');

  // Only the name: conditions kept.
  const renamed = await h.sdk(s.user.updateUserGroup({ groupId: g._id, body: { name: 'Goa people' } }));
  assert.equal(renamed.name, 'Goa people');
  assert.deepEqual(renamed.conditions, u.conditions);

  // A bad condition is refused and changes nothing. (Which conditions are refused: the Rust tests.)
  await h.sdkError(
    s.user.updateUserGroup({ groupId: g._id, body: { conditions: [{ user_attribute_definition_id: spend._id, type: 'cnt', value: '1' }] } }),
    400,
    undefined,
  );
  assert.deepEqual(await h.sdk(s.user.getUserGroupById({ groupId: g._id })), renamed);
  await h.sdkError(s.user.updateUserGroup({ groupId: h.unknownId(), body: { name: 'x' } }), 404, undefined);
});

test('updateUserGroup can turn a bulk group into a conditional one', async () => {
  const s = await sandbox();
  const d = await s.def({ type: 'number' });
  const a = await s.customer();
  const b = await s.customer();
  await s.set(d, b, 3);
  const g = await s.group(groupBody());
  await h.sdk(s.user.updateUserGroupPartially({ groupId: g._id, body: { type: 'json', user_data: [{ user_id: a._id, action: 'add' }] } }));
  assert.deepEqual(await s.members(g), [a._id]);
  const u = await h.sdk(
    s.user.updateUserGroup({ groupId: g._id, body: { type: 'conditional', conditions: [{ user_attribute_definition_id: d._id, type: 'eq', value: '3' }] } }),
  );
  assert.equal(u.type, 'conditional');
  assert.deepEqual(await s.members(g), [b._id]);
});

test('updateUserGroupPartially adds and removes bulk members by user_id, email and phone_number', async () => {
  const s = await sandbox();
  const [a, b, c] = [await s.customer(), await s.customer(), await s.customer()];
  const g = await s.group(groupBody());
  assert.deepEqual(await s.members(g), []);
  const added = await h.sdk(
    s.user.updateUserGroupPartially({
      groupId: g._id,
      body: {
        type: 'json',
        user_data: [
          { user_id: a._id, action: 'add' },
          { email: b.emails[0].email.toUpperCase(), action: 'add' },
          { phone_number: c.phone_numbers[0].phone, action: 'add' },
        ],
      },
    }),
  );
  h.assertGroupShape(added, s.app.applicationId);
  assert.equal(added._id, g._id);
  assert.equal(added.type, 'bulk');
  assert.deepEqual(await s.members(g), h.ids([a, b, c]));

  await h.sdk(s.user.updateUserGroupPartially({ groupId: g._id, body: { type: 'json', user_data: [{ user_id: b._id, action: 'remove' }] } }));
  assert.deepEqual(await s.members(g), h.ids([a, c]));
  // Name and description may change through the same call.
  const renamed = await h.sdk(s.user.updateUserGroupPartially({ groupId: g._id, body: { name: 'Renamed', description: 'New words' } }));
  assert.equal(renamed.name, 'Renamed');
  assert.equal(renamed.description, 'New words');
  assert.deepEqual(await s.members(g), h.ids([a, c]));
});

test('user_data naming an unknown customer is 400 UNKNOWN_USERS and changes nothing', async () => {
  const s = await sandbox();
  const a = await s.customer();
  const b = await s.customer();
  const g = await s.group(groupBody());
  await h.sdk(s.user.updateUserGroupPartially({ groupId: g._id, body: { type: 'json', user_data: [{ user_id: b._id, action: 'add' }] } }));
  const ghostEmail = h.uniqueEmail('ghost');
  const err = await h.sdkError(
    s.user.updateUserGroupPartially({
      groupId: g._id,
      body: {
        type: 'json',
        user_data: [
          { user_id: a._id, action: 'add' },
          { user_id: b._id, action: 'remove' },
          { email: ghostEmail, action: 'add' },
          { user_id: h.unknownId(), action: 'add' },
        ],
      },
    }),
    400,
    'UNKNOWN_USERS',
  );
  assert.ok(err.details.message.includes(ghostEmail) || JSON.stringify(err.details).includes(ghostEmail), JSON.stringify(err.details));
  assert.deepEqual(await s.members(g), [b._id], 'nothing changed');
  // (Customers of other applications, malformed items: the Rust tests.)
  await h.sdkError(
    s.user.updateUserGroupPartially({ groupId: h.unknownId(), body: { type: 'json', user_data: [{ user_id: a._id, action: 'add' }] } }),
    404,
    undefined,
  );
});

test('user_data on a conditional group is 400', async () => {
  const d = await h.createDefinition(ctx.user, { type: 'number' });
  const a = await h.createCustomer(ctx.user);
  const g = await createGroup(groupBody({ conditions: [{ user_attribute_definition_id: d._id, type: 'gt', value: '1' }] }));
  await h.sdkError(
    ctx.user.updateUserGroupPartially({ groupId: g._id, body: { type: 'json', user_data: [{ user_id: a._id, action: 'add' }] } }),
    400,
    undefined,
  );
  assert.ok(!(await members(g._id)).includes(a._id));
});

// ---------------------------------------------------------------------------------------
// Files

test('without a [fetch] allow-list a loopback file_url is refused with 400 on create, PUT and PATCH', async () => {
  const s = await sandbox();
  const c = await s.customer();
  const url = files.put('members.csv', `user_id,action\n${c._id},add\n`);
  assert.equal((await h.rawRequest('GET', url)).status, 200, 'the file is really there');
  const before = files.hits('members.csv');

  const name = `File ${h.uniqueTag()}`;
  const created = await s.api('POST', '/user_group', { body: { name, description: 'x', type: 'bulk', file_url: url } });
  h.rawError(created, 400, undefined);
  assert.match(created.body.message, /file_url/);
  assert.deepEqual((await h.sdk(s.user.getUserGroups({ name }))).items, [], 'no group was created');

  const g = await s.group(groupBody());
  const put = await s.api('PUT', `/user_group/${g._id}`, { body: { file_url: url } });
  h.rawError(put, 400, undefined);
  const patch = await s.api('PATCH', `/user_group/${g._id}`, { body: { type: 'file_url', file_url: url } });
  h.rawError(patch, 400, undefined);
  // (Other private ranges and schemes: the Rust API tests.)
  assert.equal(files.hits('members.csv'), before, 'the server never fetched the file');
  const after = await h.sdk(s.user.getUserGroupById({ groupId: g._id }));
  assert.deepEqual(after, g, 'the group is unchanged');
  assert.deepEqual(await s.members(g), []);
});
