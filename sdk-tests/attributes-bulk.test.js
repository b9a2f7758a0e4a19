'use strict';
// The synchronous bulk updates of attribute values (PUT …/user_attribute/bulk_update[/per_user],
// raw HTTP: the 3.4.2 SDK has no method for them). This file's server keeps the default limit
// of 1000 rows, so every bulk update here is synchronous.
//
// This file's server has no [fetch] allow-list, so a loopback user_file_url must be refused.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const h = require('./helpers');

const ctx = h.useServer();
const files = h.useFileServer();

const api = (method, subpath, opts) => h.appApi(ctx, method, subpath, opts);
const def = (overrides) => h.createDefinition(ctx.user, overrides);

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

const valueOf = (d, c) => h.attributeValue(ctx, d, c);

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
  assert.equal((await h.rawRequest('GET', url)).status, 200);
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
