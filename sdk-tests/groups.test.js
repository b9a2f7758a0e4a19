'use strict';
// Customer groups: createUserGroup, getUserGroups, getUserGroupById, updateUserGroup,
// updateUserGroupPartially, and their live members (GET …/user_group/{id}/users, plain fetch:
// the 3.4.2 SDK has no method for it). whitelisted_users / blacklisted_users are sent with
// plain fetch too (not in the SDK's models).
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

test('createUserGroup: a conditional group answers 201, status completed, conditions with key = slug', async () => {
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
});

test('type defaults to conditional with conditions and bulk without; an unknown type is 400', async () => {
  const d = await h.createDefinition(ctx.user, { type: 'string' });
  const bulk = await createGroup(groupBody());
  assert.equal(bulk.type, 'bulk');
  assert.equal(bulk.status, 'completed', 'a bulk group without a file has nothing to wait for');
  assert.deepEqual(bulk.conditions, []);
  const cond = await createGroup(groupBody({ conditions: [{ user_attribute_definition_id: d._id, type: 'eq', value: 'x' }] }));
  assert.equal(cond.type, 'conditional');
  const explicit = await createGroup(groupBody({ type: 'bulk' }));
  assert.equal(explicit.type, 'bulk');
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

test('uid counts 1, 2, 3 … per application', async () => {
  const a = await sandbox();
  const uids = [];
  for (let i = 0; i < 3; i += 1) uids.push((await a.group(groupBody())).uid);
  assert.deepEqual(uids, [1, 2, 3]);
  const b = await sandbox();
  assert.equal((await b.group(groupBody())).uid, 1, 'another application starts at 1');
  assert.equal((await a.group(groupBody())).uid, 4);
});

test('operators: the ones that fit the attribute type are accepted, the others are 400', async () => {
  const num = await h.createDefinition(ctx.user, { type: 'number' });
  const text = await h.createDefinition(ctx.user, { type: 'string' });
  const date = await h.createDefinition(ctx.user, { type: 'date' });
  const flag = await h.createDefinition(ctx.user, { type: 'boolean' });
  const secret = await h.createDefinition(ctx.user, { type: 'encrypted_string' });
  const secretNum = await h.createDefinition(ctx.user, { type: 'encrypted_number' });
  const cond = (d, type, value) => groupBody({ conditions: [{ user_attribute_definition_id: d._id, type, value }] });
  const accept = async (d, type, value) => {
    const g = await createGroup(cond(d, type, value));
    assert.deepEqual(g.conditions, [{ user_attribute_definition_id: d._id, type, value, key: d.slug }], `${d.type} ${type} ${value}`);
  };
  const refuse = async (d, type, value) => {
    const err = await h.sdkError(ctx.user.createUserGroup({ body: cond(d, type, value) }), 400, undefined);
    return err.details.message;
  };

  const numberOps = { eq: '10', ne: '10', gt: '10', lt: '10', gte: '10.5', lte: '-3', btw: '10,20', in: '1,2,3', nin: '4,5' };
  for (const [op, value] of Object.entries(numberOps)) await accept(num, op, value);
  for (const op of ['cnt', 'nct', 'sw', 'ew']) await refuse(num, op, '1');
  await refuse(num, 'eq', 'ten'); // not a number
  await refuse(num, 'btw', '10'); // one bound
  await refuse(num, 'btw', '20,10'); // reversed

  const textOps = { eq: 'Pune', is: 'Pune', ne: 'Pune', nis: 'Pune', cnt: 'un', nct: 'un', sw: 'Pu', ew: 'ne', in: 'Pune,Mumbai', nin: 'Delhi' };
  for (const [op, value] of Object.entries(textOps)) await accept(text, op, value);
  for (const op of ['gt', 'lt', 'gte', 'lte', 'btw']) {
    assert.match(await refuse(text, op, op === 'btw' ? 'a,b' : 'a'), /type/, `${op} on text`);
  }

  for (const [op, value] of Object.entries({ eq: '2024-01-01', gt: '2024-01-01', lte: '2024-12-31', btw: '2024-01-01,2024-12-31' })) {
    await accept(date, op, value);
  }
  await refuse(date, 'cnt', '2024');
  await refuse(date, 'gt', 'next week');

  await accept(flag, 'eq', 'true');
  await refuse(flag, 'gt', 'true');

  // Encrypted attributes cannot be used in conditions.
  assert.match(await refuse(secret, 'eq', 'x'), /encrypt/);
  await refuse(secretNum, 'gt', '1');
  // Unknown operator, unknown or malformed definition, missing parts.
  await refuse(text, 'like', 'x');
  await h.sdkError(ctx.user.createUserGroup({ body: cond({ _id: h.unknownId() }, 'eq', 'x') }), h.is4xx, undefined);
  await refuse({ _id: 'not-an-id' }, 'eq', 'x');
  await refuse(text, undefined, 'x');
  const noValue = await api('POST', '/user_group', { body: groupBody({ conditions: [{ user_attribute_definition_id: text._id, type: 'eq' }] }) });
  h.rawError(noValue, 400, undefined);
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

test('a refused create leaves no group behind', async () => {
  const s = await sandbox();
  const secret = await s.def({ type: 'encrypted_number' });
  const name = `Nothing ${h.uniqueTag()}`;
  await h.sdkError(
    s.user.createUserGroup({ body: { name, description: 'x', conditions: [{ user_attribute_definition_id: secret._id, type: 'eq', value: '1' }] } }),
    400,
    undefined,
  );
  const list = await h.sdk(s.user.getUserGroups({}));
  assert.deepEqual(list.items, []);
  assert.equal((await s.group(groupBody())).uid, 1, 'the refused create used no uid');
});

// ---------------------------------------------------------------------------------------
// Live membership

test('conditional groups: members are the customers whose values satisfy every condition, live', async () => {
  const s = await sandbox();
  const spend = await s.def({ name: 'Spend', type: 'number' });
  const city = await s.def({ name: 'City', type: 'string' });
  const c1 = await s.customer();
  const c2 = await s.customer();
  const c3 = await s.customer();
  const c4 = await s.customer();
  const noValues = await s.customer();
  for (const [c, amount, town] of [[c1, 5, 'Pune'], [c2, 15, 'Mumbai'], [c3, 25, 'Pune'], [c4, 35, 'Delhi']]) {
    await s.set(spend, c, amount);
    await s.set(city, c, town);
  }
  const group = async (...conditions) =>
    s.group(groupBody({ conditions: conditions.map(([d, type, value]) => ({ user_attribute_definition_id: d._id, type, value })) }));
  const expect = async (g, want, what) => assert.deepEqual(await s.members(g), h.ids(want), what);

  const gt10 = await group([spend, 'gt', '10']);
  await expect(gt10, [c2, c3, c4], 'spend gt 10');
  await expect(await group([spend, 'gte', '15']), [c2, c3, c4], 'gte 15');
  await expect(await group([spend, 'lt', '15']), [c1], 'lt 15');
  await expect(await group([spend, 'lte', '15']), [c1, c2], 'lte 15');
  await expect(await group([spend, 'eq', '25']), [c3], 'eq 25');
  await expect(await group([spend, 'btw', '10,30']), [c2, c3], 'btw 10,30');
  await expect(await group([spend, 'in', '5,35']), [c1, c4], 'in 5,35');
  await expect(await group([city, 'eq', 'Pune']), [c1, c3], 'city eq Pune');
  await expect(await group([city, 'is', 'Pune']), [c1, c3], 'city is Pune');
  await expect(await group([city, 'sw', 'Mu']), [c2], 'sw Mu');
  await expect(await group([city, 'ew', 'hi']), [c4], 'ew hi');
  await expect(await group([city, 'cnt', 'un']), [c1, c3], 'cnt un');
  await expect(await group([city, 'in', 'Pune,Delhi']), [c1, c3, c4], 'in Pune,Delhi');
  await expect(await group([city, 'eq', 'Pune'], [spend, 'gte', '20']), [c3], 'conditions combine with AND');
  assert.ok(!(await s.members(gt10)).includes(noValues._id), 'a customer without values matches no positive condition');
  // Negated operators, among the customers that have values.
  const withValues = new Set([c1, c2, c3, c4].map((c) => c._id));
  const negated = async (g) => (await s.members(g)).filter((id) => withValues.has(id));
  assert.deepEqual(await negated(await group([spend, 'ne', '15'])), h.ids([c1, c3, c4]), 'ne 15');
  assert.deepEqual(await negated(await group([spend, 'nin', '5,15'])), h.ids([c3, c4]), 'nin 5,15');
  assert.deepEqual(await negated(await group([city, 'ne', 'Pune'])), h.ids([c2, c4]), 'ne Pune');
  assert.deepEqual(await negated(await group([city, 'nis', 'Pune'])), h.ids([c2, c4]), 'nis Pune');
  assert.deepEqual(await negated(await group([city, 'nct', 'un'])), h.ids([c2, c4]), 'nct un');
  assert.deepEqual(await negated(await group([city, 'nin', 'Pune,Delhi'])), [c2._id], 'nin Pune,Delhi');
  // Text comparison is exact (case-sensitive) for eq.
  assert.deepEqual(await s.members(await group([city, 'eq', 'pune'])), [], 'eq is case-sensitive');

  // Live: change a value and the next read reflects it.
  await s.set(spend, c1, 50);
  await expect(gt10, [c1, c2, c3, c4], 'c1 now spends 50');
  await s.set(spend, c4, 1);
  await expect(gt10, [c1, c2, c3], 'c4 now spends 1');
  await h.sdk(s.user.deleteUserAttribute({ attributeDefId: spend._id, userId: c2._id }));
  await expect(gt10, [c1, c3], 'c2 has no spend any more');
  await h.setValue(s.user, spend._id, noValues._id, 99);
  await expect(gt10, [c1, c3, noValues], 'a new value brings a new member');
  // Archived customers are not members.
  await h.sdk(s.user.archiveUser({ body: { user_id: c3._id } }));
  await expect(gt10, [c1, noValues], 'archived c3 is gone');
});

test('conditions on multi-valued, date and boolean attributes', async () => {
  const s = await sandbox();
  const tags = await s.def({ type: 'string_array' });
  const born = await s.def({ type: 'date' });
  const vip = await s.def({ type: 'boolean' });
  const a = await s.customer();
  const b = await s.customer();
  await s.set(tags, a, ['gold', 'early']);
  await s.set(tags, b, ['silver']);
  await s.set(born, a, '1990-05-17');
  await s.set(born, b, '2001-01-01');
  await s.set(vip, a, true);
  await s.set(vip, b, false);
  const g = async (d, type, value) => s.group(groupBody({ conditions: [{ user_attribute_definition_id: d._id, type, value }] }));
  assert.deepEqual(await s.members(await g(tags, 'eq', 'gold')), [a._id], 'an array matches when an element does');
  assert.deepEqual(await s.members(await g(tags, 'in', 'silver,bronze')), [b._id]);
  assert.deepEqual(await s.members(await g(born, 'lt', '2000-01-01')), [a._id]);
  assert.deepEqual(await s.members(await g(born, 'btw', '2000-01-01,2010-01-01')), [b._id]);
  assert.deepEqual(await s.members(await g(vip, 'eq', 'true')), [a._id]);
  assert.deepEqual(await s.members(await g(vip, 'eq', 'false')), [b._id]);
});

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

test('blacklisted_users are excluded and whitelisted_users included (plain fetch)', async () => {
  const s = await sandbox();
  const d = await s.def({ type: 'number' });
  const [a, b, c, outsider] = [await s.customer(), await s.customer(), await s.customer(), await s.customer()];
  for (const x of [a, b, c]) await s.set(d, x, 100);
  await s.set(d, outsider, 1);
  const conditions = [{ user_attribute_definition_id: d._id, type: 'gt', value: '50' }];
  const created = await s.api('POST', '/user_group', { body: groupBody({ conditions, blacklisted_users: [a._id] }) });
  assert.equal(created.status, 201, created.text);
  h.assertGroupShape(created.body, s.app.applicationId);
  const g = created.body;
  assert.deepEqual(await s.members(g), h.ids([b, c]), 'blacklisted a is out');

  const wl = await s.api('PATCH', `/user_group/${g._id}`, { body: { whitelisted_users: [outsider._id] } });
  assert.equal(wl.status, 200, wl.text);
  h.assertGroupShape(wl.body, s.app.applicationId);
  assert.deepEqual(await s.members(g), h.ids([b, c, outsider]), 'whitelisted outsider is in though it does not match');

  const bl = await s.api('PATCH', `/user_group/${g._id}`, { body: { blacklisted_users: [c._id] } });
  assert.equal(bl.status, 200, bl.text);
  assert.deepEqual(await s.members(g), h.ids([b, outsider]), 'c blacklisted too');
  // Malformed ids are refused.
  const bad = await s.api('PATCH', `/user_group/${g._id}`, { body: { whitelisted_users: ['nope'] } });
  h.rawError(bad, 400, 'VALIDATION_ERROR');
  assert.deepEqual(await s.members(g), h.ids([b, outsider]));
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
  assert.deepEqual(await ids({ name: 'letter' }), [g3._id]);
  assert.deepEqual(await ids({ name: 'nothing like it' }), []);
  assert.deepEqual(await ids({ type: 'bulk' }), h.ids([g2, g3]));
  assert.deepEqual(await ids({ type: 'conditional' }), [g1._id]);
  assert.deepEqual(await ids({ status: 'completed' }), h.ids([g1, g2, g3]));
  assert.deepEqual(await ids({ status: 'pending' }), []);
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

test('getUserGroupById: the group as created; unknown id 404, malformed 400; other applications\' groups invisible', async () => {
  const g = await createGroup(groupBody());
  const read = await h.sdk(ctx.user.getUserGroupById({ groupId: g._id }));
  assert.deepEqual(read, g);
  await h.sdkError(ctx.user.getUserGroupById({ groupId: h.unknownId() }), 404, undefined);
  await h.sdkError(ctx.user.getUserGroupById({ groupId: 'nope' }), 400, 'VALIDATION_ERROR');
  const s = await sandbox();
  const foreign = await s.group(groupBody());
  await h.sdkError(ctx.user.getUserGroupById({ groupId: foreign._id }), 404, undefined);
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

  // A bad condition is refused and changes nothing.
  const secret = await s.def({ type: 'encrypted_string' });
  await h.sdkError(
    s.user.updateUserGroup({ groupId: g._id, body: { name: 'broken', conditions: [{ user_attribute_definition_id: secret._id, type: 'eq', value: 'x' }] } }),
    400,
    undefined,
  );
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
  // Adding twice is harmless; removing a non-member too.
  await h.sdk(
    s.user.updateUserGroupPartially({
      groupId: g._id,
      body: { type: 'json', user_data: [{ user_id: a._id, action: 'add' }, { user_id: b._id, action: 'remove' }] },
    }),
  );
  assert.deepEqual(await s.members(g), h.ids([a, c]));
  // Name and description may change in the same call.
  const renamed = await h.sdk(s.user.updateUserGroupPartially({ groupId: g._id, body: { name: 'Renamed', description: 'New words' } }));
  assert.equal(renamed.name, 'Renamed');
  assert.equal(renamed.description, 'New words');
  assert.deepEqual(await s.members(g), h.ids([a, c]));
  // Archived members drop out.
  await h.sdk(s.user.archiveUser({ body: { user_id: c._id } }));
  assert.deepEqual(await s.members(g), [a._id]);
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
  // A customer of another application is unknown here.
  const foreign = await h.createCustomer(ctx.user);
  await h.sdkError(
    s.user.updateUserGroupPartially({ groupId: g._id, body: { type: 'json', user_data: [{ user_id: foreign._id, action: 'add' }] } }),
    400,
    'UNKNOWN_USERS',
  );
  // Bad items: no action, a bad action, no identifier.
  // (plain fetch: the SDK's model requires action client-side)
  for (const item of [{ user_id: a._id }, { user_id: a._id, action: 'toggle' }, { action: 'add' }, { user_id: a._id, email: a.emails[0].email, action: 'add' }]) {
    const res = await s.api('PATCH', `/user_group/${g._id}`, { body: { type: 'json', user_data: [item] } });
    h.rawError(res, 400, 'VALIDATION_ERROR');
  }
  assert.deepEqual(await s.members(g), [b._id]);
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

test('a definition used by a group\'s conditions cannot be deleted: 400 DEFINITION_IN_USE', async () => {
  const used = await h.createDefinition(ctx.user, { type: 'number' });
  const other = await h.createDefinition(ctx.user, { type: 'number' });
  const g = await createGroup(groupBody({ conditions: [{ user_attribute_definition_id: used._id, type: 'gt', value: '1' }] }));
  await h.sdkError(ctx.user.deleteUserAttributeDefinitionById({ attributeDefId: used._id }), 400, 'DEFINITION_IN_USE');
  await h.sdk(ctx.user.getUserAttributeDefinitionById({ attributeDefId: used._id }));
  // Once the group no longer uses it, it can go.
  await h.sdk(ctx.user.updateUserGroup({ groupId: g._id, body: { conditions: [{ user_attribute_definition_id: other._id, type: 'gt', value: '1' }] } }));
  const res = await h.sdk(ctx.user.deleteUserAttributeDefinitionById({ attributeDefId: used._id }));
  assert.deepEqual(res, { success: 'true' });
  await h.sdkError(ctx.user.deleteUserAttributeDefinitionById({ attributeDefId: other._id }), 400, 'DEFINITION_IN_USE');
});

// ---------------------------------------------------------------------------------------
// Files and permissions

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
  for (const other of ['http://192.168.1.10/m.csv', 'http://169.254.169.254/latest/meta-data/', url.replace('127.0.0.1', 'localhost')]) {
    const res = await s.api('PATCH', `/user_group/${g._id}`, { body: { type: 'file_url', file_url: other } });
    h.rawError(res, 400, undefined);
  }
  assert.equal(files.hits('members.csv'), before, 'the server never fetched the file');
  const after = await h.sdk(s.user.getUserGroupById({ groupId: g._id }));
  assert.deepEqual(after, g, 'the group is unchanged');
  assert.deepEqual(await s.members(g), []);
});

test('a read-only client can read groups but not create or change them (403 FORBIDDEN)', async () => {
  const g = await createGroup(groupBody());
  await h.sdkError(ctx.roUser.createUserGroup({ body: groupBody() }), 403, 'FORBIDDEN');
  await h.sdkError(ctx.roUser.updateUserGroup({ groupId: g._id, body: { name: 'x' } }), 403, 'FORBIDDEN');
  await h.sdkError(ctx.roUser.updateUserGroupPartially({ groupId: g._id, body: { name: 'x' } }), 403, 'FORBIDDEN');
  assert.deepEqual(await h.sdk(ctx.roUser.getUserGroupById({ groupId: g._id })), g);
  await h.sdk(ctx.roUser.getUserGroups({}));
  const res = await api('GET', `/user_group/${g._id}/users`, { token: ctx.roToken.access_token });
  assert.equal(res.status, 200, res.text);
});
