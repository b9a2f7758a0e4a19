'use strict';
// Customer attributes: definitions (createUserAttributeDefinition, getUserAttributeDefinitions,
// getUserAttributeDefinitionById, updateUserAttributeDefinition,
// deleteUserAttributeDefinitionById), per-customer values (updateUserAttribute,
// getUserAttribute, deleteUserAttribute, getUserAttributesForUser, getUserAttributeById) and
// the synchronous bulk updates (PUT …/user_attribute/bulk_update[/per_user], plain fetch: the
// 3.4.2 SDK has no method for them).
//
// This file's server has no [fetch] allow-list, so a loopback user_file_url must be refused.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const h = require('./helpers');

const ctx = h.useServer();
const files = h.useFileServer();

const ALL_TYPES = [
  'string', 'number', 'boolean', 'date', 'date_time', 'dropdown', 'html_string', 'image_url',
  'string_array', 'number_array', 'platform_user_array', 'store_uid_array',
  'encrypted_string', 'encrypted_number', 'encrypted_boolean', 'encrypted_date',
  'encrypted_date_time', 'encrypted_dropdown', 'encrypted_string_array', 'encrypted_number_array',
];

const api = (method, subpath, opts) => h.appApi(ctx, method, subpath, opts);
const def = (overrides) => h.createDefinition(ctx.user, overrides);
const setValue = (d, c, value, extra) => h.setValue(ctx.user, d._id, c._id, value, extra);

/** Expects a 400 VALIDATION_ERROR (or `code`) from an SDK call; returns the message. */
async function refused(promise, code = 'VALIDATION_ERROR', mention) {
  const err = await h.sdkError(promise, 400, code, mention);
  return err.details.message;
}

/** Sorted ids of a list of objects with _id. */
const idsOf = (items) => items.map((i) => i._id).sort();

// ---------------------------------------------------------------------------------------
// Definitions

test('createUserAttributeDefinition answers 201 with the full definition, echoing every field', async () => {
  const tag = h.uniqueTag('full');
  const body = {
    name: `Loyalty Tier ${tag}`,
    slug: `loyalty_${tag}`,
    description: 'Tier of the loyalty programme',
    type: 'string',
    icon: 'https://cdn.example.com/icons/tier.png',
    ordering_channels: ['storefront', 'pos'],
    masking: { enabled: true, type: 'partial' },
    registration: { enabled: false, type: 'optional' },
    customer_editable: true,
    pinned: true,
    pin_order: 3,
    default_value: 'silver',
    validations: [{ type: 'min', value: 3 }, { type: 'max', value: 10 }, { type: 'regex', value: '^[a-z]+$' }],
  };
  // Plain fetch first, for the status code.
  const res = await api('POST', '/user_attribute/definition', { body });
  assert.equal(res.status, 201, `expected 201 Created, got ${res.status}: ${res.text}`);
  const d = res.body;
  h.assertDefinitionShape(d, ctx.applicationId);
  assert.equal(d.name, body.name);
  assert.equal(d.slug, body.slug);
  assert.equal(d.description, body.description);
  assert.equal(d.type, 'string');
  assert.equal(d.icon, body.icon);
  assert.deepEqual(d.ordering_channels, body.ordering_channels);
  assert.deepEqual(d.masking, body.masking);
  assert.deepEqual(d.registration, body.registration);
  assert.equal(d.customer_editable, true);
  assert.equal(d.pinned, true);
  assert.equal(d.pin_order, 3);
  assert.equal(d.default_value, 'silver');
  assert.deepEqual(d.validations, body.validations);
  assert.equal(d.multi_value, false);
  assert.equal(d.encrypted, false);
  assert.equal(d.is_locked, false);
  assert.ok(d.created_by.length > 0, 'created_by names the creating client');
  assert.equal(d.updated_by, d.created_by);
  assert.equal(d.created_at, d.modified_at, 'a new definition has created_at == modified_at');
  const age = Date.now() - Date.parse(d.created_at);
  assert.ok(age > -60_000 && age < 60_000, `created_at should be now: ${d.created_at}`);

  // The same body through the strict SDK (another slug).
  const viaSdk = await def({ ...body, slug: `${body.slug}_sdk`, name: `${body.name} sdk` });
  h.assertDefinitionShape(viaSdk, ctx.applicationId);
  assert.equal(viaSdk.slug, `${body.slug}_sdk`);
  assert.notEqual(viaSdk._id, d._id);

  // And it reads back identically.
  const read = await h.sdk(ctx.user.getUserAttributeDefinitionById({ attributeDefId: d._id }));
  assert.deepEqual(read, d);
});

test('a minimal definition gets defaults: slug from the name, not multi-valued, not encrypted, unpinned', async () => {
  const tag = h.uniqueTag('x');
  const d = await def({ name: `Favourite  Colour! (${tag})`, type: 'string' });
  h.assertDefinitionShape(d, ctx.applicationId);
  assert.equal(d.slug, `favourite_colour_${tag}`, 'slug: lowercase, runs of other characters become one _');
  assert.equal(d.multi_value, false);
  assert.equal(d.encrypted, false);
  assert.equal(d.pinned, false);
  assert.equal(d.customer_editable, false);
  assert.equal(d.is_locked, false);
  assert.deepEqual(d.validations, []);
  assert.equal(d.pin_order, undefined, 'pin_order is omitted when not set');
  assert.equal(d.default_value, undefined, 'default_value is omitted when not set');
});

test('slugs are unique per application: 400 SLUG_ALREADY_EXISTS, explicit or derived', async () => {
  const tag = h.uniqueTag('dup');
  const first = await def({ name: `Dup ${tag}`, type: 'number' });
  assert.equal(first.slug, `dup_${tag}`);
  await refused(ctx.user.createUserAttributeDefinition({ body: { name: `Dup ${tag}`, type: 'string' } }), 'SLUG_ALREADY_EXISTS');
  await refused(
    ctx.user.createUserAttributeDefinition({ body: { name: 'Something else', slug: first.slug, type: 'string' } }),
    'SLUG_ALREADY_EXISTS',
  );
  // Another application may use the same slug.
  const other = await ctx.newApp();
  const there = await h.createDefinition(other.user, { name: `Dup ${tag}`, type: 'number' });
  assert.equal(there.slug, first.slug);
  assert.equal(there.application_id, other.applicationId);
  assert.notEqual(there._id, first._id);
});

test('name and type are required; an unknown type or a malformed slug is 400', async () => {
  const noName = await refused(ctx.user.createUserAttributeDefinition({ body: { type: 'string' } }));
  assert.match(noName, /name/);
  const noType = await refused(ctx.user.createUserAttributeDefinition({ body: { name: `T ${h.uniqueTag()}` } }));
  assert.match(noType, /type/);
  const badType = await refused(ctx.user.createUserAttributeDefinition({ body: { name: `T ${h.uniqueTag()}`, type: 'text' } }));
  assert.match(badType, /type/);
  await refused(ctx.user.createUserAttributeDefinition({ body: { name: `T ${h.uniqueTag()}`, type: 'String' } }));
  await refused(ctx.user.createUserAttributeDefinition({ body: { name: `T ${h.uniqueTag()}`, slug: 'Has Spaces', type: 'string' } }));
});

test('every documented type is accepted; *_array types are multi-valued, encrypted_* types encrypted', async () => {
  for (const type of ALL_TYPES) {
    const d = await def({ type });
    h.assertDefinitionShape(d, ctx.applicationId);
    assert.equal(d.type, type);
    assert.equal(d.multi_value, type.endsWith('_array'), `${type}: multi_value`);
    assert.equal(d.encrypted, type.startsWith('encrypted_'), `${type}: encrypted`);
  }
  // A plain string type may be declared multi-valued.
  const multi = await def({ type: 'string', is_multi_value: true });
  assert.equal(multi.multi_value, true);
  assert.equal(multi.is_multi_value, true);
});

test('validations: min/max/regex where they fit the type; bad validations are 400', async () => {
  const ok = [
    { type: 'number', validations: [{ type: 'min', value: -5 }, { type: 'max', value: 99.5 }] },
    { type: 'string', validations: [{ type: 'min', value: 1 }, { type: 'max', value: 8 }, { type: 'regex', value: '^\\d+$' }] },
    { type: 'date', validations: [{ type: 'min', value: '2020-01-01' }, { type: 'max', value: '2030-12-31' }] },
    { type: 'date_time', validations: [{ type: 'min', value: '2020-01-01T00:00:00Z' }] },
    { type: 'string_array', validations: [{ type: 'regex', value: '^[a-z]+$' }] },
    { type: 'number_array', validations: [{ type: 'max', value: 10 }] },
  ];
  for (const body of ok) {
    const d = await def(body);
    assert.deepEqual(d.validations, body.validations, JSON.stringify(body));
  }
  const bad = [
    { type: 'number', validations: [{ type: 'regex', value: '^1' }] }, // regex on a number
    { type: 'string', validations: [{ type: 'regex', value: '(' }] }, // unparsable regex
    { type: 'string', validations: [{ type: 'min', value: 'three' }] }, // length not a number
    { type: 'string', validations: [{ type: 'between', value: 3 }] }, // unknown rule
    { type: 'number', validations: [{ type: 'max', value: 'lots' }] },
    { type: 'date', validations: [{ type: 'min', value: 'not a date' }] },
    { type: 'boolean', validations: [{ type: 'regex', value: 'true' }] },
  ];
  for (const body of bad) {
    const message = await refused(ctx.user.createUserAttributeDefinition({ body: { name: `V ${h.uniqueTag()}`, ...body } }));
    assert.match(message, /validations/, `${JSON.stringify(body)}: ${message}`);
  }
});

test('default_value must satisfy the type and the validations', async () => {
  const d = await def({ type: 'string', default_value: 'abc', validations: [{ type: 'max', value: 5 }] });
  assert.equal(d.default_value, 'abc');
  const cases = [
    { type: 'string', default_value: 'abcdefgh', validations: [{ type: 'max', value: 5 }] }, // too long
    { type: 'string', default_value: 'abc', validations: [{ type: 'regex', value: '^[0-9]+$' }] }, // no match
    { type: 'number', default_value: '12' }, // a string is not a number
    { type: 'date', default_value: 'tomorrow' },
  ];
  for (const body of cases) {
    const message = await refused(ctx.user.createUserAttributeDefinition({ body: { name: `D ${h.uniqueTag()}`, ...body } }));
    assert.match(message, /default_value/, `${JSON.stringify(body)}: ${message}`);
  }
});

test('getUserAttributeDefinitionById: unknown id is 404 ATTRIBUTE_DEFINITION_NOT_FOUND, malformed id 400', async () => {
  await h.sdkError(ctx.user.getUserAttributeDefinitionById({ attributeDefId: h.unknownId() }), 404, 'ATTRIBUTE_DEFINITION_NOT_FOUND');
  await h.sdkError(ctx.user.getUserAttributeDefinitionById({ attributeDefId: 'not-an-id' }), 400, 'VALIDATION_ERROR');
  // A definition of another application is not visible here.
  const other = await ctx.newApp();
  const foreign = await h.createDefinition(other.user);
  await h.sdkError(ctx.user.getUserAttributeDefinitionById({ attributeDefId: foreign._id }), 404, 'ATTRIBUTE_DEFINITION_NOT_FOUND');
});

test('getUserAttributeDefinitions: every filter, and pagination', async () => {
  // An application of its own, so the list holds exactly these definitions.
  const app = await ctx.newApp();
  const user = app.user;
  const d1 = await h.createDefinition(user, { name: 'Alpha_Score 100%', type: 'number', pinned: true, pin_order: 1, customer_editable: true });
  const d2 = await h.createDefinition(user, { name: 'alpha score', type: 'encrypted_string' });
  const d3 = await h.createDefinition(user, { name: 'Beta', type: 'boolean', is_locked: true });
  const d4 = await h.createDefinition(user, { name: 'AlphaXScore', type: 'string', pinned: true, pin_order: 2 });
  assert.equal(d3.is_locked, true, 'is_locked: true is kept on create');
  const all = idsOf([d1, d2, d3, d4]);

  const list = async (args) => {
    const res = await h.sdk(user.getUserAttributeDefinitions(args));
    assert.ok(Array.isArray(res.items), `items must be an array: ${JSON.stringify(res)}`);
    for (const item of res.items) h.assertDefinitionShape(item, app.applicationId);
    h.assertModel('PaginationSchema', res.page);
    return res;
  };
  const ids = async (args) => idsOf((await list(args)).items);

  const everything = await list({});
  assert.deepEqual(idsOf(everything.items), all);
  assert.equal(everything.page.item_total, 4);
  assert.equal(everything.page.has_next, false);
  assert.equal(everything.page.current, 1);

  assert.deepEqual(await ids({ slug: d1.slug }), [d1._id]);
  assert.deepEqual(await ids({ type: 'number' }), [d1._id]);
  assert.deepEqual(await ids({ type: 'encrypted_string' }), [d2._id]);
  assert.deepEqual(await ids({ customerEditable: true }), [d1._id]);
  assert.deepEqual(await ids({ customerEditable: false }), idsOf([d2, d3, d4]));
  assert.deepEqual(await ids({ encrypted: true }), [d2._id]);
  assert.deepEqual(await ids({ encrypted: false }), idsOf([d1, d3, d4]));
  assert.deepEqual(await ids({ pinned: true }), idsOf([d1, d4]));
  assert.deepEqual(await ids({ pinOrder: 2 }), [d4._id]);
  assert.deepEqual(await ids({ isLocked: true }), [d3._id]);
  assert.deepEqual(await ids({ isLocked: false }), idsOf([d1, d2, d4]));
  // name: case-insensitive substring, taken literally (no LIKE or regex wildcards).
  assert.deepEqual(await ids({ name: 'ALPHA' }), idsOf([d1, d2, d4]));
  assert.deepEqual(await ids({ name: 'alpha_' }), [d1._id], '_ is a literal underscore');
  assert.deepEqual(await ids({ name: '100%' }), [d1._id], '% is a literal percent sign');
  assert.deepEqual(await ids({ name: 'a.*score' }), [], 'no regex');
  assert.deepEqual(await ids({ name: 'gamma' }), []);
  // Filters combine.
  assert.deepEqual(await ids({ name: 'alpha', pinned: true }), idsOf([d1, d4]));
  assert.deepEqual(await ids({ name: 'alpha', type: 'string' }), [d4._id]);
  // excluding_ids: comma-separated.
  assert.deepEqual(await ids({ excludingIds: `${d1._id},${d2._id}` }), idsOf([d3, d4]));
  assert.deepEqual(await ids({ excludingIds: d3._id }), idsOf([d1, d2, d4]));

  // Pagination.
  const p1 = await list({ pageNo: 1, pageSize: 3 });
  assert.equal(p1.items.length, 3);
  assert.equal(p1.page.current, 1);
  assert.equal(p1.page.size, 3);
  assert.equal(p1.page.item_total, 4);
  assert.equal(p1.page.has_next, true);
  const p2 = await list({ pageNo: 2, pageSize: 3 });
  assert.equal(p2.items.length, 1);
  assert.equal(p2.page.current, 2);
  assert.equal(p2.page.has_next, false);
  assert.deepEqual(idsOf([...p1.items, ...p2.items]), all, 'pages are disjoint and complete');

  // Boolean filters are checked.
  const bad = await api('GET', '/user_attribute/definition', { applicationId: app.applicationId, query: { pinned: 'yes' } });
  h.rawError(bad, 400, 'VALIDATION_ERROR', 'pinned');
});

test('updateUserAttributeDefinition changes the editable fields and keeps id, slug and created_at', async () => {
  const d = await def({ type: 'string', description: 'before', validations: [{ type: 'max', value: 5 }] });
  await h.sleep(5);
  const body = {
    name: `${d.name} renamed`,
    description: 'after',
    customer_editable: true,
    pinned: true,
    pin_order: 7,
    icon: 'https://cdn.example.com/i.png',
    validations: [{ type: 'max', value: 50 }],
  };
  const u = await h.sdk(ctx.user.updateUserAttributeDefinition({ attributeDefId: d._id, body }));
  h.assertDefinitionShape(u, ctx.applicationId);
  assert.equal(u._id, d._id);
  assert.equal(u.slug, d.slug, 'slug unchanged when not sent');
  assert.equal(u.type, 'string');
  assert.equal(u.name, body.name);
  assert.equal(u.description, 'after');
  assert.equal(u.customer_editable, true);
  assert.equal(u.pinned, true);
  assert.equal(u.pin_order, 7);
  assert.equal(u.icon, body.icon);
  assert.deepEqual(u.validations, body.validations);
  assert.equal(u.created_at, d.created_at);
  assert.ok(Date.parse(u.modified_at) >= Date.parse(d.modified_at), 'modified_at moves forward');
  assert.ok(u.__v >= d.__v);
  const read = await h.sdk(ctx.user.getUserAttributeDefinitionById({ attributeDefId: d._id }));
  assert.deepEqual(read, u);

  // The new validation applies to values at once.
  const c = await h.createCustomer(ctx.user);
  await setValue(d, c, 'a-longer-value');

  // A new slug may be set, but not one another definition has.
  const renamed = await h.sdk(ctx.user.updateUserAttributeDefinition({ attributeDefId: d._id, body: { slug: `${d.slug}_v2` } }));
  assert.equal(renamed.slug, `${d.slug}_v2`);
  const other = await def({ type: 'string' });
  await refused(ctx.user.updateUserAttributeDefinition({ attributeDefId: d._id, body: { slug: other.slug } }), 'SLUG_ALREADY_EXISTS');
});

test('type, multi-valuedness and encryption cannot change on update (400); unknown id is 404', async () => {
  const d = await def({ type: 'string' });
  assert.match(await refused(ctx.user.updateUserAttributeDefinition({ attributeDefId: d._id, body: { type: 'number' } })), /type/);
  await refused(ctx.user.updateUserAttributeDefinition({ attributeDefId: d._id, body: { is_multi_value: true } }));
  await refused(ctx.user.updateUserAttributeDefinition({ attributeDefId: d._id, body: { encrypted: true } }));
  // Re-sending the current type is fine.
  const same = await h.sdk(ctx.user.updateUserAttributeDefinition({ attributeDefId: d._id, body: { type: 'string', description: 'same type' } }));
  assert.equal(same.description, 'same type');
  const enc = await def({ type: 'number', encrypted: true });
  assert.equal(enc.encrypted, true);
  await refused(ctx.user.updateUserAttributeDefinition({ attributeDefId: enc._id, body: { encrypted: false } }));
  const after = await h.sdk(ctx.user.getUserAttributeDefinitionById({ attributeDefId: d._id }));
  assert.equal(after.type, 'string');
  assert.equal(after.multi_value, false);
  assert.equal(after.encrypted, false);
  await h.sdkError(
    ctx.user.updateUserAttributeDefinition({ attributeDefId: h.unknownId(), body: { description: 'x' } }),
    404,
    'ATTRIBUTE_DEFINITION_NOT_FOUND',
  );
});

test('a locked definition refuses update and delete with 400 DEFINITION_LOCKED but stays readable', async () => {
  const d = await def({ type: 'number', is_locked: true });
  assert.equal(d.is_locked, true);
  await refused(ctx.user.updateUserAttributeDefinition({ attributeDefId: d._id, body: { description: 'nope' } }), 'DEFINITION_LOCKED');
  await refused(ctx.user.deleteUserAttributeDefinitionById({ attributeDefId: d._id }), 'DEFINITION_LOCKED');
  const read = await h.sdk(ctx.user.getUserAttributeDefinitionById({ attributeDefId: d._id }));
  assert.deepEqual(read, d, 'unchanged');
});

test('deleteUserAttributeDefinitionById answers {success:"true"} and deletes the values too', async () => {
  const d = await def({ type: 'number' });
  const keep = await def({ type: 'number' });
  const a = await h.createCustomer(ctx.user);
  const b = await h.createCustomer(ctx.user);
  const va = await setValue(d, a, 1);
  await setValue(d, b, 2);
  await setValue(keep, a, 3);

  const res = await h.sdk(ctx.user.deleteUserAttributeDefinitionById({ attributeDefId: d._id }));
  assert.deepEqual(res, { success: 'true' });

  await h.sdkError(ctx.user.getUserAttributeDefinitionById({ attributeDefId: d._id }), 404, 'ATTRIBUTE_DEFINITION_NOT_FOUND');
  await h.sdkError(ctx.user.getUserAttribute({ attributeDefId: d._id, userId: a._id }), 404);
  await h.sdkError(ctx.user.getUserAttribute({ attributeDefId: d._id, userId: b._id }), 404);
  await h.sdkError(ctx.user.getUserAttributeById({ attributeId: va._id }), 404);
  const listed = await h.sdk(ctx.user.getUserAttributesForUser({ userId: a._id }));
  assert.deepEqual(listed.items.map((v) => v.user_attribute_definition_id), [keep._id], 'only the other value is left');
  // The definition list no longer has it.
  const defs = await h.sdk(ctx.user.getUserAttributeDefinitions({ slug: d.slug }));
  assert.deepEqual(defs.items, []);
  // Second delete: gone.
  await h.sdkError(ctx.user.deleteUserAttributeDefinitionById({ attributeDefId: d._id }), 404, 'ATTRIBUTE_DEFINITION_NOT_FOUND');
  // The slug is free again.
  const again = await def({ name: d.name, slug: d.slug, type: 'string' });
  assert.equal(again.slug, d.slug);
});

// ---------------------------------------------------------------------------------------
// Values

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
  assert.deepEqual(Object.keys(table).sort(), [...ALL_TYPES].sort());
  for (const [type, { good, bad }] of Object.entries(table)) {
    const d = await def({ type });
    const v = await setValue(d, c, good);
    h.assertValueShape(v, d, c._id);
    assert.deepEqual(v.attribute.value, good, `${type}: value echoed (decrypted)`);
    for (const value of bad) {
      const message = await refused(
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
  await refused(ctx.user.updateUserAttribute({ attributeDefId: multi._id, userId: c._id, body: { attribute: { value: 'one' } } }));
  // A value is required.
  const s = await def({ type: 'string' });
  await refused(ctx.user.updateUserAttribute({ attributeDefId: s._id, userId: c._id, body: { attribute: {} } }));
  await refused(ctx.user.updateUserAttribute({ attributeDefId: s._id, userId: c._id, body: { attribute: { value: null } } }));
  await refused(ctx.user.updateUserAttribute({ attributeDefId: s._id, userId: c._id, body: {} }));
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
      const message = await refused(
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
  await refused(ctx.user.updateUserAttribute({ attributeDefId: d._id, userId: 'nope', body: { attribute: { value: 1 } } }));
  await refused(ctx.user.updateUserAttribute({ attributeDefId: 'nope', userId: c._id, body: { attribute: { value: 1 } } }));
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
  const message = await refused(ctx.user.updateUserAttributes({
    userId: c._id,
    body: { attributes: [{ definition_id: age._id, value: 40 }, { definition_id: tags._id, value: 'not an array' }] },
  }));
  assert.match(message, /attributes\[1\]\.value/);
  const read = await h.sdk(ctx.user.getUserAttribute({ attributeDefId: age._id, userId: c._id }));
  assert.equal(read.attribute.value, 30);
  await refused(ctx.user.updateUserAttributes({ userId: c._id, body: { attributes: [{ definition_id: h.unknownId(), value: 1 }] } }));
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
  assert.deepEqual(idsOf(all.items), idsOf(values));
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
  assert.deepEqual(idsOf([...p1.items, ...p2.items]), idsOf(values));

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
  await refused(ctx.user.updateUserAttribute({ attributeDefId: checked._id, userId: c._id, body: { attribute: { value: '12a4' } } }));
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
// Bulk updates (synchronous: this file's server keeps the default limit of 1000 rows)

/** Checks a synchronous BulkOperation answer. */
function assertBulkSync(body, { total, processed }) {
  assert.equal(body.success, true, JSON.stringify(body));
  assert.equal(body.processing_type, 'synchronous', JSON.stringify(body));
  assert.equal(body.total, total, `total: ${JSON.stringify(body)}`);
  assert.equal(body.processed, processed, `processed: ${JSON.stringify(body)}`);
  assert.ok(Array.isArray(body.errors), `errors must be an array: ${JSON.stringify(body)}`);
  assert.equal(body.errors_count, total - processed, `errors_count: ${JSON.stringify(body)}`);
  assert.equal(body.errors.length, body.errors_count);
  for (const e of body.errors) {
    assert.equal(typeof e.user_id, 'string', JSON.stringify(e));
    assert.equal(typeof e.error, 'string', JSON.stringify(e));
    assert.ok(e.error.length > 0);
  }
  assert.ok(body.error_summary && typeof body.error_summary === 'object' && !Array.isArray(body.error_summary), JSON.stringify(body));
  const counted = Object.values(body.error_summary).reduce((a, n) => {
    assert.equal(typeof n, 'number');
    return a + n;
  }, 0);
  assert.equal(counted, body.errors_count, `error_summary counts add up to errors_count: ${JSON.stringify(body)}`);
  h.assertNoNulls(body);
}

const valueOf = async (d, c) => {
  const res = await api('GET', `/user_attribute/definition/${d._id}/user/${c._id}`);
  if (res.status === 404) return undefined;
  assert.equal(res.status, 200, res.text);
  return res.body.attribute.value;
};

test('bulk_update writes one set of values to listed users; bad rows are per-row errors', async () => {
  const num = await def({ type: 'number', validations: [{ type: 'max', value: 100 }] });
  const str = await def({ type: 'string' });
  const a = await h.createCustomer(ctx.user);
  const b = await h.createCustomer(ctx.user);
  const missing = h.unknownId();

  const res = await api('PUT', '/user_attribute/bulk_update', {
    body: { users: [a._id, b._id, missing, 'not-an-id'], attribute: [{ key: num.slug, value: 7 }, { key: str.slug, value: 'seven' }] },
  });
  assert.equal(res.status, 200, res.text);
  assertBulkSync(res.body, { total: 4, processed: 2 });
  assert.deepEqual(res.body.errors.map((e) => e.user_id).sort(), [missing, 'not-an-id'].sort());
  assert.equal(await valueOf(num, a), 7);
  assert.equal(await valueOf(num, b), 7);
  assert.equal(await valueOf(str, a), 'seven');
  assert.equal(await valueOf(str, b), 'seven');

  // A value that breaks the rules fails every row; nothing is written.
  const tooBig = await api('PUT', '/user_attribute/bulk_update', {
    body: { users: [a._id, b._id], attribute: [{ key: num.slug, value: 101 }] },
  });
  assert.equal(tooBig.status, 200, tooBig.text);
  assertBulkSync(tooBig.body, { total: 2, processed: 0 });
  assert.equal(await valueOf(num, a), 7);
  // An unknown key: the same.
  const unknownKey = await api('PUT', '/user_attribute/bulk_update', {
    body: { users: [a._id], attribute: [{ key: `no_such_${h.uniqueTag()}`, value: 1 }] },
  });
  assert.equal(unknownKey.status, 200, unknownKey.text);
  assertBulkSync(unknownKey.body, { total: 1, processed: 0 });
  // A wrongly typed value: the same.
  const wrongType = await api('PUT', '/user_attribute/bulk_update', {
    body: { users: [a._id], attribute: [{ key: num.slug, value: 'eight' }] },
  });
  assertBulkSync(wrongType.body, { total: 1, processed: 0 });
  assert.equal(await valueOf(num, a), 7);
  // The values written read back as ordinary UserAttribute records.
  const read = await h.sdk(ctx.user.getUserAttribute({ attributeDefId: num._id, userId: a._id }));
  h.assertValueShape(read, num, a._id);
});

test('bulk_update/per_user writes each user\'s own values; bad rows are per-row errors', async () => {
  const num = await def({ type: 'number' });
  const tags = await def({ type: 'string_array' });
  const [a, b, c] = [await h.createCustomer(ctx.user), await h.createCustomer(ctx.user), await h.createCustomer(ctx.user)];
  const missing = h.unknownId();
  const res = await api('PUT', '/user_attribute/bulk_update/per_user', {
    body: {
      user_detail_attributes: [
        { user_id: a._id, attributes: [{ key: num.slug, value: 1 }] },
        { user_id: b._id, attributes: [{ key: num.slug, value: 2 }, { key: tags.slug, value: ['vip', 'early'] }] },
        { user_id: c._id, attributes: [{ key: num.slug, value: 'three' }] },
        { user_id: missing, attributes: [{ key: num.slug, value: 4 }] },
      ],
    },
  });
  assert.equal(res.status, 200, res.text);
  assertBulkSync(res.body, { total: 4, processed: 2 });
  assert.deepEqual(res.body.errors.map((e) => e.user_id).sort(), [c._id, missing].sort());
  assert.equal(await valueOf(num, a), 1);
  assert.equal(await valueOf(num, b), 2);
  assert.deepEqual(await valueOf(tags, b), ['vip', 'early']);
  assert.equal(await valueOf(num, c), undefined, 'the bad row wrote nothing');
  assert.equal(await valueOf(tags, a), undefined);

  // Updating again replaces.
  const again = await api('PUT', '/user_attribute/bulk_update/per_user', {
    body: { user_detail_attributes: [{ user_id: a._id, attributes: [{ key: num.slug, value: 10 }] }] },
  });
  assertBulkSync(again.body, { total: 1, processed: 1 });
  assert.equal(await valueOf(num, a), 10);
});

test('bulk bodies are checked: users xor user_file_url, a non-empty attribute list, keys given', async () => {
  const d = await def({ type: 'number' });
  const c = await h.createCustomer(ctx.user);
  const cases = [
    { attribute: [{ key: d.slug, value: 1 }] }, // no users
    { users: [c._id] }, // no attribute
    { users: [c._id], attribute: [] },
    { users: [c._id], attribute: [{ value: 1 }] }, // no key
    { users: [c._id], user_file_url: 'https://example.com/u.csv', attribute: [{ key: d.slug, value: 1 }] },
  ];
  for (const body of cases) {
    const res = await api('PUT', '/user_attribute/bulk_update', { body });
    h.rawError(res, 400, 'VALIDATION_ERROR');
  }
  const perUser = await api('PUT', '/user_attribute/bulk_update/per_user', { body: {} });
  h.rawError(perUser, 400, 'VALIDATION_ERROR');
  assert.equal(await valueOf(d, c), undefined);
});

test('without a [fetch] allow-list a loopback or private user_file_url is refused with 400', async () => {
  const d = await def({ type: 'number' });
  const c = await h.createCustomer(ctx.user);
  const url = files.put('users.csv', `user_id\n${c._id}\n`);
  // The file is really there: the refusal is the address, not a missing file.
  assert.equal((await fetch(url)).status, 200);
  const before = files.hits('users.csv');
  for (const fileUrl of [
    url,
    url.replace('127.0.0.1', 'localhost'),
    'http://10.1.2.3/users.csv',
    'http://169.254.169.254/latest/meta-data/',
    'http://[::1]/users.csv',
  ]) {
    const res = await api('PUT', '/user_attribute/bulk_update', {
      body: { user_file_url: fileUrl, attribute: [{ key: d.slug, value: 1 }] },
    });
    h.rawError(res, 400, undefined);
    assert.match(res.body.message, /user_file_url/, `${fileUrl}: ${res.body.message}`);
  }
  assert.equal(files.hits('users.csv'), before, 'the server never fetched the file');
  assert.equal(await valueOf(d, c), undefined);
  // Other schemes are refused too.
  const ftp = await api('PUT', '/user_attribute/bulk_update', {
    body: { user_file_url: 'file:///etc/passwd', attribute: [{ key: d.slug, value: 1 }] },
  });
  h.rawError(ftp, 400, undefined);
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

test('concurrent creates of one slug: one 201, the rest 400 SLUG_ALREADY_EXISTS', async () => {
  const slug = `race_${h.uniqueTag()}`;
  const results = await Promise.all(
    Array.from({ length: 6 }, (_, i) => api('POST', '/user_attribute/definition', { body: { name: `Race ${i}`, slug, type: 'string' } })),
  );
  const created = results.filter((r) => r.status === 201);
  assert.equal(created.length, 1, results.map((r) => `${r.status} ${r.text}`).join('\n'));
  for (const r of results.filter((x) => x.status !== 201)) h.rawError(r, 400, 'SLUG_ALREADY_EXISTS');
  const listed = await h.sdk(ctx.user.getUserAttributeDefinitions({ slug }));
  assert.equal(listed.items.length, 1);
});

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
  assert.deepEqual(idsOf(either.items), idsOf(people));
  const one = await h.sdk(app.user.filterUsersByAttributes(query('or', { definition_ids: [tier._id] })));
  for (const item of one.items) {
    assert.equal(item.attributes.length, 1);
    assert.equal(item.attributes[0].user_attribute_definition_id, tier._id);
  }
  await refused(app.user.filterUsersByAttributes({ body: { query: { type: 'and', limit: 10, page: 1, conditions: [{ definition_id: age._id, type: 'cnt', value: 'x' }] } } }));
});
