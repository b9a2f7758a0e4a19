'use strict';
// Per-customer attribute values: updateUserAttribute, getUserAttribute, deleteUserAttribute,
// getUserAttributesForUser, getUserAttributeById, updateUserAttributes,
// deleteUserAttributesInBulk, and filterUsersByAttributes over them. (Definitions:
// attributes-definitions.test.js; bulk updates: attributes-bulk.test.js.)

const { test } = require('node:test');
const assert = require('node:assert/strict');
const h = require('./helpers');

const ctx = h.useServer();

const api = (method, subpath, opts) => h.appApi(ctx, method, subpath, opts);
const def = (overrides) => h.createDefinition(ctx.user, overrides);
const setValue = (d, c, value, extra) => h.setValue(ctx.user, d._id, c._id, value, extra);

test('updateUserAttribute creates the value (201) then replaces it (200); UserAttribute shape', async () => {
  const d = await def({ type: 'string' });
  const c = await h.createCustomer(ctx.user);
  const path = `/user_attribute/definition/${d._id}/user/${c._id}`;

  const created = await api('PUT', path, { body: { attribute: { value: 'gold' } } });
  assert.equal(created.status, 201, `first PUT creates: expected 201, got ${created.status}: ${created.text}`);
  const v1 = created.body;
  h.assertValueShape(v1, d, c._id);
  assert.deepEqual(v1.attribute, { value: 'gold' });
  assert.equal(v1.customer_overridden, false);
  assert.equal(v1.created_at, v1.updated_at);

  await h.sleep(5);
  const v2 = await setValue(d, c, 'platinum', { customer_overridden: true });
  h.assertValueShape(v2, d, c._id);
  assert.equal(v2._id, v1._id, 'same value record');
  assert.deepEqual(v2.attribute, { value: 'platinum' });
  assert.equal(v2.customer_overridden, true);
  assert.equal(v2.customer_overriden, true);
  assert.equal(v2.created_at, v1.created_at);
  assert.ok(Date.parse(v2.updated_at) >= Date.parse(v1.updated_at));

  // The older spelling customer_overriden is accepted too.
  const replaced = await api('PUT', path, { body: { attribute: { value: 'bronze' }, customer_overriden: false } });
  assert.equal(replaced.status, 200, `second PUT updates: expected 200, got ${replaced.status}: ${replaced.text}`);
  h.assertValueShape(replaced.body, d, c._id);
  assert.equal(replaced.body.customer_overridden, false);
  assert.deepEqual(replaced.body.attribute, { value: 'bronze' });

  const spelled = await api('PUT', path, { body: { attribute: { value: 'bronze' }, customer_overriden: true } });
  assert.equal(spelled.status, 200);
  assert.equal(spelled.body.customer_overridden, true);
  assert.equal(spelled.body.customer_overriden, true);

  // What getUserAttribute returns is what was stored.
  const read = await h.sdk(ctx.user.getUserAttribute({ attributeDefId: d._id, userId: c._id }));
  assert.deepEqual(read, spelled.body);
});

test('a string attribute declared with is_multi_value (the SDK\'s spelling) takes arrays only', async () => {
  // (Which values each type takes: the Rust tests.)
  const c = await h.createCustomer(ctx.user);
  const multi = await def({ type: 'string', is_multi_value: true });
  assert.equal(multi.multi_value, true);
  assert.equal(multi.is_multi_value, true);
  const v = await setValue(multi, c, ['one', 'two']);
  h.assertValueShape(v, multi, c._id);
  assert.deepEqual(v.attribute.value, ['one', 'two']);
  await h.refused(ctx.user.updateUserAttribute({ attributeDefId: multi._id, userId: c._id, body: { attribute: { value: 'one' } } }));
});

test('unknown customer is 404 USER_NOT_FOUND; unknown definition 404 ATTRIBUTE_DEFINITION_NOT_FOUND', async () => {
  const d = await def({ type: 'number' });
  const c = await h.createCustomer(ctx.user);
  await h.sdkError(
    ctx.user.updateUserAttribute({ attributeDefId: d._id, userId: h.unknownId(), body: { attribute: { value: 1 } } }),
    404,
    'USER_NOT_FOUND',
  );
  await h.sdkError(
    ctx.user.updateUserAttribute({ attributeDefId: h.unknownId(), userId: c._id, body: { attribute: { value: 1 } } }),
    404,
    'ATTRIBUTE_DEFINITION_NOT_FOUND',
  );
  // (Other applications' records, malformed ids: the Rust tests.)
});

test('getUserAttribute, getUserAttributeById and deleteUserAttribute', async () => {
  const d = await def({ type: 'string_array' });
  const c = await h.createCustomer(ctx.user);
  await h.sdkError(ctx.user.getUserAttribute({ attributeDefId: d._id, userId: c._id }), 404, undefined);
  const v = await setValue(d, c, ['x', 'y']);

  const got = await h.sdk(ctx.user.getUserAttribute({ attributeDefId: d._id, userId: c._id }));
  h.assertValueShape(got, d, c._id);
  assert.deepEqual(got, v);
  const byId = await h.sdk(ctx.user.getUserAttributeById({ attributeId: v._id }));
  assert.deepEqual(byId, v);

  const del = await h.sdk(ctx.user.deleteUserAttribute({ attributeDefId: d._id, userId: c._id }));
  assert.deepEqual(del, { success: 'true' });
  await h.sdkError(ctx.user.getUserAttribute({ attributeDefId: d._id, userId: c._id }), 404);
  await h.sdkError(ctx.user.getUserAttributeById({ attributeId: v._id }), 404);
  await h.sdkError(ctx.user.deleteUserAttribute({ attributeDefId: d._id, userId: c._id }), 404);
  await h.sdkError(ctx.user.getUserAttributeById({ attributeId: h.unknownId() }), 404);
  // The definition is untouched, and a new value is a new record (201).
  await h.sdk(ctx.user.getUserAttributeDefinitionById({ attributeDefId: d._id }));
  const again = await api('PUT', `/user_attribute/definition/${d._id}/user/${c._id}`, { body: { attribute: { value: ['z'] } } });
  assert.equal(again.status, 201, again.text);
  assert.notEqual(again.body._id, v._id);
});

test('updateUserAttributes writes several values by definition id, all or none; deleteUserAttributesInBulk removes them', async () => {
  const age = await def({ type: 'number', validations: [{ type: 'min', value: 18 }] });
  const tags = await def({ type: 'string_array' });
  const c = await h.createCustomer(ctx.user);
  const written = await h.sdk(ctx.user.updateUserAttributes({
    userId: c._id,
    body: { attributes: [{ definition_id: age._id, value: 30 }, { definition_id: tags._id, value: ['vip'] }] },
  }));
  assert.equal(written.success, true);
  assert.equal(written.attributes.length, 2);
  for (const value of written.attributes) h.assertValueShape(value, value.user_attribute_definition_id === age._id ? age : tags, c._id);
  // One bad value refuses the whole call: the age stays 30.
  const message = await h.refused(ctx.user.updateUserAttributes({
    userId: c._id,
    body: { attributes: [{ definition_id: age._id, value: 40 }, { definition_id: tags._id, value: 'not an array' }] },
  }));
  assert.match(message, /attributes\[1\]\.value/);
  const read = await h.sdk(ctx.user.getUserAttribute({ attributeDefId: age._id, userId: c._id }));
  assert.equal(read.attribute.value, 30);
  await h.refused(ctx.user.updateUserAttributes({ userId: c._id, body: { attributes: [{ definition_id: h.unknownId(), value: 1 }] } }));
  await h.sdkError(ctx.user.updateUserAttributes({ userId: h.unknownId(), body: { attributes: [{ definition_id: age._id, value: 20 }] } }), 404, 'USER_NOT_FOUND');

  const deleted = await h.sdk(ctx.user.deleteUserAttributesInBulk({ userId: c._id, body: { definition_ids: [age._id, tags._id] } }));
  assert.deepEqual(deleted, { success: 'true' });
  const left = await h.sdk(ctx.user.getUserAttributesForUser({ userId: c._id }));
  assert.equal(left.items.length, 0);
  await h.sdkError(ctx.user.deleteUserAttributesInBulk({ userId: h.unknownId(), body: { definition_ids: [age._id] } }), 404, 'USER_NOT_FOUND');
});

test('getUserAttributesForUser lists one customer\'s values, paginated', async () => {
  const c = await h.createCustomer(ctx.user);
  const someoneElse = await h.createCustomer(ctx.user);
  const defs = [await def({ type: 'number' }), await def({ type: 'boolean' }), await def({ type: 'encrypted_string' })];
  const values = [await setValue(defs[0], c, 3), await setValue(defs[1], c, true), await setValue(defs[2], c, 'hidden')];
  await setValue(defs[0], someoneElse, 4);

  const all = await h.sdk(ctx.user.getUserAttributesForUser({ userId: c._id }));
  assert.ok(Array.isArray(all.items));
  h.assertModel('PaginationSchema', all.page);
  assert.equal(all.page.item_total, 3);
  assert.deepEqual(h.ids(all.items), h.ids(values));
  for (const item of all.items) {
    const d = defs.find((x) => x._id === item.user_attribute_definition_id);
    h.assertValueShape(item, d, c._id);
  }
  const enc = all.items.find((i) => i.user_attribute_definition_id === defs[2]._id);
  assert.equal(enc.attribute.value, 'hidden', 'encrypted values come back decrypted');

  const p1 = await h.sdk(ctx.user.getUserAttributesForUser({ userId: c._id, pageNo: 1, pageSize: 2 }));
  const p2 = await h.sdk(ctx.user.getUserAttributesForUser({ userId: c._id, pageNo: 2, pageSize: 2 }));
  assert.equal(p1.items.length, 2);
  assert.equal(p1.page.has_next, true);
  assert.equal(p1.page.size, 2);
  assert.equal(p2.items.length, 1);
  assert.equal(p2.page.has_next, false);
  assert.equal(p2.page.current, 2);
  assert.deepEqual(h.ids([...p1.items, ...p2.items]), h.ids(values));

  const none = await h.createCustomer(ctx.user);
  const empty = await h.sdk(ctx.user.getUserAttributesForUser({ userId: none._id }));
  assert.deepEqual(empty.items, []);
  assert.equal(empty.page.item_total, 0);
  await h.sdkError(ctx.user.getUserAttributesForUser({ userId: h.unknownId() }), 404, 'USER_NOT_FOUND');
});

// ---------------------------------------------------------------------------------------
// Concurrency

test('concurrent first writes of one value: one 201, the rest 200, one record', async () => {
  const d = await def({ type: 'number' });
  const c = await h.createCustomer(ctx.user);
  const path = `/user_attribute/definition/${d._id}/user/${c._id}`;
  const results = await Promise.all(
    Array.from({ length: 8 }, (_, i) => api('PUT', path, { body: { attribute: { value: i } } })),
  );
  const statuses = results.map((r) => r.status).sort();
  assert.deepEqual(statuses, [200, 200, 200, 200, 200, 200, 200, 201], results.map((r) => `${r.status} ${r.text}`).join('\n'));
  assert.equal(new Set(results.map((r) => r.body._id)).size, 1, 'every answer is the same record');
  const listed = await h.sdk(ctx.user.getUserAttributesForUser({ userId: c._id }));
  assert.equal(listed.items.length, 1);
});

// ---------------------------------------------------------------------------------------
// Filtering customers by their values

test('filterUsersByAttributes: and / or over conditions, with each customer\'s values (strict model)', async () => {
  const app = await ctx.newApp();
  const age = await h.createDefinition(app.user, { type: 'number', name: 'Age' });
  const tier = await h.createDefinition(app.user, { type: 'string', name: 'Tier' });
  const people = [];
  for (const [years, level] of [[34, 'gold'], [41, 'silver'], [29, 'gold']]) {
    const c = await h.createCustomer(app.user);
    await h.setValue(app.user, age._id, c._id, years);
    await h.setValue(app.user, tier._id, c._id, level);
    people.push(c);
  }
  const query = (type, extra = {}) => ({
    body: {
      query: {
        type, limit: 10, page: 1, ...extra,
        conditions: [
          { definition_id: age._id, type: 'gte', value: 30 },
          { definition_id: tier._id, type: 'eq', value: 'gold' },
        ],
      },
    },
  });
  const both = await h.sdk(app.user.filterUsersByAttributes(query('and')));
  assert.deepEqual(both.items.map((i) => i._id), [people[0]._id]);
  assert.equal(both.items[0].attributes.length, 2);
  assert.equal(both.page.item_total, 1);
  const either = await h.sdk(app.user.filterUsersByAttributes(query('or')));
  assert.deepEqual(h.ids(either.items), h.ids(people));
  const one = await h.sdk(app.user.filterUsersByAttributes(query('or', { definition_ids: [tier._id] })));
  for (const item of one.items) {
    assert.equal(item.attributes.length, 1);
    assert.equal(item.attributes[0].user_attribute_definition_id, tier._id);
  }
  await h.refused(app.user.filterUsersByAttributes({ body: { query: { type: 'and', limit: 10, page: 1, conditions: [{ definition_id: age._id, type: 'cnt', value: 'x' }] } } }));
});
