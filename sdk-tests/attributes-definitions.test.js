'use strict';
// Customer attribute definitions: createUserAttributeDefinition, getUserAttributeDefinitions,
// getUserAttributeDefinitionById, updateUserAttributeDefinition,
// deleteUserAttributeDefinitionById. (Per-customer values: attributes-values.test.js; bulk
// updates: attributes-bulk.test.js.)

const { test } = require('node:test');
const assert = require('node:assert/strict');
const h = require('./helpers');

const ctx = h.useServer();

const api = (method, subpath, opts) => h.appApi(ctx, method, subpath, opts);
const def = (overrides) => h.createDefinition(ctx.user, overrides);
const setValue = (d, c, value, extra) => h.setValue(ctx.user, d._id, c._id, value, extra);

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
  await h.refused(ctx.user.createUserAttributeDefinition({ body: { name: `Dup ${tag}`, type: 'string' } }), 'SLUG_ALREADY_EXISTS');
  await h.refused(
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
  const noName = await h.refused(ctx.user.createUserAttributeDefinition({ body: { type: 'string' } }));
  assert.match(noName, /name/);
  const noType = await h.refused(ctx.user.createUserAttributeDefinition({ body: { name: `T ${h.uniqueTag()}` } }));
  assert.match(noType, /type/);
  const badType = await h.refused(ctx.user.createUserAttributeDefinition({ body: { name: `T ${h.uniqueTag()}`, type: 'text' } }));
  assert.match(badType, /type/);
  await h.refused(ctx.user.createUserAttributeDefinition({ body: { name: `T ${h.uniqueTag()}`, type: 'String' } }));
  await h.refused(ctx.user.createUserAttributeDefinition({ body: { name: `T ${h.uniqueTag()}`, slug: 'Has Spaces', type: 'string' } }));
});

test('every documented type is accepted; *_array types are multi-valued, encrypted_* types encrypted', async () => {
  for (const type of h.ATTRIBUTE_TYPES) {
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
    const message = await h.refused(ctx.user.createUserAttributeDefinition({ body: { name: `V ${h.uniqueTag()}`, ...body } }));
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
    const message = await h.refused(ctx.user.createUserAttributeDefinition({ body: { name: `D ${h.uniqueTag()}`, ...body } }));
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
  const all = h.ids([d1, d2, d3, d4]);

  const list = async (args) => {
    const res = await h.sdk(user.getUserAttributeDefinitions(args));
    assert.ok(Array.isArray(res.items), `items must be an array: ${JSON.stringify(res)}`);
    for (const item of res.items) h.assertDefinitionShape(item, app.applicationId);
    h.assertModel('PaginationSchema', res.page);
    return res;
  };
  const ids = async (args) => h.ids((await list(args)).items);

  const everything = await list({});
  assert.deepEqual(h.ids(everything.items), all);
  assert.equal(everything.page.item_total, 4);
  assert.equal(everything.page.has_next, false);
  assert.equal(everything.page.current, 1);

  assert.deepEqual(await ids({ slug: d1.slug }), [d1._id]);
  assert.deepEqual(await ids({ type: 'number' }), [d1._id]);
  assert.deepEqual(await ids({ type: 'encrypted_string' }), [d2._id]);
  assert.deepEqual(await ids({ customerEditable: true }), [d1._id]);
  assert.deepEqual(await ids({ customerEditable: false }), h.ids([d2, d3, d4]));
  assert.deepEqual(await ids({ encrypted: true }), [d2._id]);
  assert.deepEqual(await ids({ encrypted: false }), h.ids([d1, d3, d4]));
  assert.deepEqual(await ids({ pinned: true }), h.ids([d1, d4]));
  assert.deepEqual(await ids({ pinOrder: 2 }), [d4._id]);
  assert.deepEqual(await ids({ isLocked: true }), [d3._id]);
  assert.deepEqual(await ids({ isLocked: false }), h.ids([d1, d2, d4]));
  // name: case-insensitive substring, taken literally (no LIKE or regex wildcards).
  assert.deepEqual(await ids({ name: 'ALPHA' }), h.ids([d1, d2, d4]));
  assert.deepEqual(await ids({ name: 'alpha_' }), [d1._id], '_ is a literal underscore');
  assert.deepEqual(await ids({ name: '100%' }), [d1._id], '% is a literal percent sign');
  assert.deepEqual(await ids({ name: 'a.*score' }), [], 'no regex');
  assert.deepEqual(await ids({ name: 'gamma' }), []);
  // Filters combine.
  assert.deepEqual(await ids({ name: 'alpha', pinned: true }), h.ids([d1, d4]));
  assert.deepEqual(await ids({ name: 'alpha', type: 'string' }), [d4._id]);
  // excluding_ids: comma-separated.
  assert.deepEqual(await ids({ excludingIds: `${d1._id},${d2._id}` }), h.ids([d3, d4]));
  assert.deepEqual(await ids({ excludingIds: d3._id }), h.ids([d1, d2, d4]));

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
  assert.deepEqual(h.ids([...p1.items, ...p2.items]), all, 'pages are disjoint and complete');

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
  await h.refused(ctx.user.updateUserAttributeDefinition({ attributeDefId: d._id, body: { slug: other.slug } }), 'SLUG_ALREADY_EXISTS');
});

test('type, multi-valuedness and encryption cannot change on update (400); unknown id is 404', async () => {
  const d = await def({ type: 'string' });
  assert.match(await h.refused(ctx.user.updateUserAttributeDefinition({ attributeDefId: d._id, body: { type: 'number' } })), /type/);
  await h.refused(ctx.user.updateUserAttributeDefinition({ attributeDefId: d._id, body: { is_multi_value: true } }));
  await h.refused(ctx.user.updateUserAttributeDefinition({ attributeDefId: d._id, body: { encrypted: true } }));
  // Re-sending the current type is fine.
  const same = await h.sdk(ctx.user.updateUserAttributeDefinition({ attributeDefId: d._id, body: { type: 'string', description: 'same type' } }));
  assert.equal(same.description, 'same type');
  const enc = await def({ type: 'number', encrypted: true });
  assert.equal(enc.encrypted, true);
  await h.refused(ctx.user.updateUserAttributeDefinition({ attributeDefId: enc._id, body: { encrypted: false } }));
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
  await h.refused(ctx.user.updateUserAttributeDefinition({ attributeDefId: d._id, body: { description: 'nope' } }), 'DEFINITION_LOCKED');
  await h.refused(ctx.user.deleteUserAttributeDefinitionById({ attributeDefId: d._id }), 'DEFINITION_LOCKED');
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
// Concurrency

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
