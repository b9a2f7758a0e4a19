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

test('values must fit the type: every type takes its values and refuses others with 400', async () => {
  const c = await h.createCustomer(ctx.user);
  const other = await h.createCustomer(ctx.user);
  const table = {
    string: { good: 'hello', bad: [42, true, ['a'], { x: 1 }] },
    number: { good: 42.5, bad: ['42', true, [1]] },
    boolean: { good: true, bad: ['true', 1, [true]] },
    date: { good: '2024-02-29', bad: ['29/02/2024', 20240229, '2023-02-29', 'soon'] },
    date_time: { good: '2024-02-29T10:20:30Z', bad: ['yesterday', 5, '2024-02-30T00:00:00Z'] },
    dropdown: { good: 'red', bad: [3, ['red']] },
    html_string: { good: '<b>bold</b>', bad: [1] },
    image_url: { good: 'https://cdn.example.com/a.png', bad: [1] },
    string_array: { good: ['a', 'b'], bad: ['a', [1], [['a']]] },
    number_array: { good: [1, 2.5, -3], bad: [1, ['1'], [true]] },
    platform_user_array: { good: [other._id], bad: [other._id, [1]] },
    store_uid_array: { good: [10, 20], bad: [10, ['ten']] },
    encrypted_string: { good: 's3cret', bad: [1] },
    encrypted_number: { good: 7, bad: ['7'] },
    encrypted_boolean: { good: false, bad: ['no'] },
    encrypted_date: { good: '2020-01-01', bad: ['nope'] },
    encrypted_date_time: { good: '2020-01-01T08:00:00Z', bad: ['nope'] },
    encrypted_dropdown: { good: 'blue', bad: [1] },
    encrypted_string_array: { good: ['x', 'y'], bad: ['x', [2]] },
    encrypted_number_array: { good: [1, 2], bad: [1, ['2']] },
  };
  assert.deepEqual(Object.keys(table).sort(), [...h.ATTRIBUTE_TYPES].sort());
  for (const [type, { good, bad }] of Object.entries(table)) {
    const d = await def({ type });
    const v = await setValue(d, c, good);
    h.assertValueShape(v, d, c._id);
    assert.deepEqual(v.attribute.value, good, `${type}: value echoed (decrypted)`);
    for (const value of bad) {
      const message = await h.refused(
        ctx.user.updateUserAttribute({ attributeDefId: d._id, userId: c._id, body: { attribute: { value } } }),
      );
      assert.match(message, /value/, `${type} ${JSON.stringify(value)}: ${message}`);
    }
    // The refused writes left the good value in place.
    const read = await h.sdk(ctx.user.getUserAttribute({ attributeDefId: d._id, userId: c._id }));
    assert.deepEqual(read.attribute.value, good, `${type}: unchanged after refusals`);
  }
  // A string attribute declared multi-valued takes arrays only.
  const multi = await def({ type: 'string', is_multi_value: true });
  const v = await setValue(multi, c, ['one', 'two']);
  assert.deepEqual(v.attribute.value, ['one', 'two']);
  await h.refused(ctx.user.updateUserAttribute({ attributeDefId: multi._id, userId: c._id, body: { attribute: { value: 'one' } } }));
  // A value is required.
  const s = await def({ type: 'string' });
  await h.refused(ctx.user.updateUserAttribute({ attributeDefId: s._id, userId: c._id, body: { attribute: {} } }));
  await h.refused(ctx.user.updateUserAttribute({ attributeDefId: s._id, userId: c._id, body: { attribute: { value: null } } }));
  await h.refused(ctx.user.updateUserAttribute({ attributeDefId: s._id, userId: c._id, body: {} }));
});

test('validations apply to values; the 400 VALIDATION_ERROR names the broken rule', async () => {
  const c = await h.createCustomer(ctx.user);
  const cases = [
    { type: 'number', validations: [{ type: 'min', value: 10 }, { type: 'max', value: 20 }], good: [10, 15, 20], bad: [[9.5, 'min'], [21, 'max']] },
    { type: 'string', validations: [{ type: 'min', value: 2 }, { type: 'max', value: 4 }], good: ['ab', 'abcd'], bad: [['a', 'min'], ['abcde', 'max']] },
    { type: 'string', validations: [{ type: 'regex', value: '^[A-Z]{3}$' }], good: ['ABC'], bad: [['abc', 'regex'], ['ABCD', 'regex']] },
    {
      type: 'date',
      validations: [{ type: 'min', value: '2020-01-01' }, { type: 'max', value: '2020-12-31' }],
      good: ['2020-01-01', '2020-06-15', '2020-12-31'],
      bad: [['2019-12-31', 'min'], ['2021-01-01', 'max']],
    },
    { type: 'number_array', validations: [{ type: 'max', value: 10 }], good: [[1, 10]], bad: [[[1, 11], 'max']] },
    { type: 'string_array', validations: [{ type: 'regex', value: '^[a-z]+$' }], good: [['ok', 'fine']], bad: [[['ok', 'NOT'], 'regex']] },
  ];
  for (const { type, validations, good, bad } of cases) {
    const d = await def({ type, validations });
    for (const value of good) {
      const v = await setValue(d, c, value);
      assert.deepEqual(v.attribute.value, value);
    }
    for (const [value, rule] of bad) {
      const message = await h.refused(
        ctx.user.updateUserAttribute({ attributeDefId: d._id, userId: c._id, body: { attribute: { value } } }),
      );
      assert.ok(message.includes(rule), `${type} ${JSON.stringify(value)} should name rule ${rule}: ${message}`);
    }
  }
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
  // Across applications: neither the definition nor the customer of another application.
  const other = await ctx.newApp();
  const foreignDef = await h.createDefinition(other.user, { type: 'number' });
  const foreignCustomer = await h.createCustomer(other.user);
  await h.sdkError(
    ctx.user.updateUserAttribute({ attributeDefId: foreignDef._id, userId: c._id, body: { attribute: { value: 1 } } }),
    404,
    'ATTRIBUTE_DEFINITION_NOT_FOUND',
  );
  await h.sdkError(
    ctx.user.updateUserAttribute({ attributeDefId: d._id, userId: foreignCustomer._id, body: { attribute: { value: 1 } } }),
    404,
    'USER_NOT_FOUND',
  );
  // Malformed ids are 400.
  await h.refused(ctx.user.updateUserAttribute({ attributeDefId: d._id, userId: 'nope', body: { attribute: { value: 1 } } }));
  await h.refused(ctx.user.updateUserAttribute({ attributeDefId: 'nope', userId: c._id, body: { attribute: { value: 1 } } }));
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
  // A value of another application is not found by id here.
  const other = await ctx.newApp();
  const od = await h.createDefinition(other.user, { type: 'number' });
  const oc = await h.createCustomer(other.user);
  const ov = await h.setValue(other.user, od._id, oc._id, 5);
  await h.sdkError(ctx.user.getUserAttributeById({ attributeId: ov._id }), 404);
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

test('encrypted attributes: values come back decrypted from every read', async () => {
  const c = await h.createCustomer(ctx.user);
  const cases = [
    ['encrypted_string', 'PAN ABCDE1234F'],
    ['encrypted_number', 123456],
    ['encrypted_boolean', true],
    ['encrypted_date', '1990-05-17'],
    ['encrypted_number_array', [4, 8, 15]],
    ['encrypted_string_array', ['α', 'β']],
  ];
  for (const [type, value] of cases) {
    const d = await def({ type });
    const v = await setValue(d, c, value);
    assert.deepEqual(v.attribute.value, value, `${type}: upsert answer`);
    const got = await h.sdk(ctx.user.getUserAttribute({ attributeDefId: d._id, userId: c._id }));
    assert.deepEqual(got.attribute.value, value, `${type}: getUserAttribute`);
    const byId = await h.sdk(ctx.user.getUserAttributeById({ attributeId: v._id }));
    assert.deepEqual(byId.attribute.value, value, `${type}: getUserAttributeById`);
  }
  // An encrypted string with validations still checks them.
  const checked = await def({ type: 'string', encrypted: true, validations: [{ type: 'regex', value: '^\\d{4}$' }] });
  assert.equal(checked.encrypted, true);
  await setValue(checked, c, '1234');
  await h.refused(ctx.user.updateUserAttribute({ attributeDefId: checked._id, userId: c._id, body: { attribute: { value: '12a4' } } }));
});

test('a read-only client can read attributes but not write them (403 FORBIDDEN)', async () => {
  const d = await def({ type: 'number' });
  const c = await h.createCustomer(ctx.user);
  await setValue(d, c, 1);
  await h.sdkError(ctx.roUser.createUserAttributeDefinition({ body: { name: `RO ${h.uniqueTag()}`, type: 'string' } }), 403, 'FORBIDDEN');
  await h.sdkError(ctx.roUser.updateUserAttributeDefinition({ attributeDefId: d._id, body: { description: 'x' } }), 403, 'FORBIDDEN');
  await h.sdkError(ctx.roUser.deleteUserAttributeDefinitionById({ attributeDefId: d._id }), 403, 'FORBIDDEN');
  await h.sdkError(ctx.roUser.updateUserAttribute({ attributeDefId: d._id, userId: c._id, body: { attribute: { value: 2 } } }), 403, 'FORBIDDEN');
  await h.sdkError(ctx.roUser.deleteUserAttribute({ attributeDefId: d._id, userId: c._id }), 403, 'FORBIDDEN');
  const bulk = await api('PUT', '/user_attribute/bulk_update', {
    token: ctx.roToken.access_token,
    body: { users: [c._id], attribute: [{ key: d.slug, value: 3 }] },
  });
  h.rawError(bulk, 403, 'FORBIDDEN');

  await h.sdk(ctx.roUser.getUserAttributeDefinitions({}));
  await h.sdk(ctx.roUser.getUserAttributeDefinitionById({ attributeDefId: d._id }));
  const v = await h.sdk(ctx.roUser.getUserAttribute({ attributeDefId: d._id, userId: c._id }));
  assert.equal(v.attribute.value, 1, 'refused writes changed nothing');
  await h.sdk(ctx.roUser.getUserAttributesForUser({ userId: c._id }));
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
