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

test('name and type are required (400; the 3.4.2 validator requires neither)', async () => {
  // (Unknown types, malformed slugs, validations and default values: the Rust tests.)
  const noName = await h.refused(ctx.user.createUserAttributeDefinition({ body: { type: 'string' } }));
  assert.match(noName, /name/);
  const noType = await h.refused(ctx.user.createUserAttributeDefinition({ body: { name: `T ${h.uniqueTag()}` } }));
  assert.match(noType, /type/);
});

test('getUserAttributeDefinitionById: unknown id is 404 ATTRIBUTE_DEFINITION_NOT_FOUND, malformed id 400', async () => {
  await h.sdkError(ctx.user.getUserAttributeDefinitionById({ attributeDefId: h.unknownId() }), 404, 'ATTRIBUTE_DEFINITION_NOT_FOUND');
  await h.sdkError(ctx.user.getUserAttributeDefinitionById({ attributeDefId: 'not-an-id' }), 400, 'VALIDATION_ERROR');
});

test('getUserAttributeDefinitions: every filter the SDK sends, and pagination', async () => {
  // (How each filter matches, e.g. names taken literally: the Rust tests.)
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
  // name: case-insensitive substring.
  assert.deepEqual(await ids({ name: 'ALPHA' }), h.ids([d1, d2, d4]));
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

test('updateUserAttributeDefinition of an unknown id is 404', async () => {
  // (What may not change on update: the Rust tests.)
  await h.sdkError(
    ctx.user.updateUserAttributeDefinition({ attributeDefId: h.unknownId(), body: { description: 'x' } }),
    404,
    'ATTRIBUTE_DEFINITION_NOT_FOUND',
  );
});

test('deleteUserAttributeDefinitionById answers {success:"true"}; the definition is gone', async () => {
  // (That its values go too, and its slug is free again: the Rust tests.)
  const d = await def({ type: 'number' });
  const res = await h.sdk(ctx.user.deleteUserAttributeDefinitionById({ attributeDefId: d._id }));
  assert.deepEqual(res, { success: 'true' });
  await h.sdkError(ctx.user.getUserAttributeDefinitionById({ attributeDefId: d._id }), 404, 'ATTRIBUTE_DEFINITION_NOT_FOUND');
  // Second delete: gone.
  await h.sdkError(ctx.user.deleteUserAttributeDefinitionById({ attributeDefId: d._id }), 404, 'ATTRIBUTE_DEFINITION_NOT_FOUND');
});
