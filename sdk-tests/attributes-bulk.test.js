'use strict';
// The bulk updates of attribute values (PUT …/user_attribute/bulk_update[/per_user], raw HTTP:
// the 3.4.2 SDK has no method for them): the refusals the Rust tests do not cover. (What bulk
// updates write and how they report bad rows: the Rust API tests; as jobs: jobs.test.js.)
//
// This file's server has no [fetch] allow-list, so a loopback user_file_url must be refused.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const h = require('./helpers');

const ctx = h.useServer();
const files = h.useFileServer();

const api = (method, subpath, opts) => h.appApi(ctx, method, subpath, opts);
const def = (overrides) => h.createDefinition(ctx.user, overrides);

const valueOf = (d, c) => h.attributeValue(ctx, d, c);

test('bulk bodies are checked: a non-empty attribute list, a non-empty per_user body', async () => {
  // (No users, users with user_file_url, no attribute, no key: the Rust API tests.)
  const d = await def({ type: 'number' });
  const c = await h.createCustomer(ctx.user);
  const empty = await api('PUT', '/user_attribute/bulk_update', { body: { users: [c._id], attribute: [] } });
  h.rawError(empty, 400, 'VALIDATION_ERROR');
  const perUser = await api('PUT', '/user_attribute/bulk_update/per_user', { body: {} });
  h.rawError(perUser, 400, 'VALIDATION_ERROR');
  assert.equal(await valueOf(d, c), undefined);
});

test('without a [fetch] allow-list a loopback user_file_url is refused with 400, never fetched', async () => {
  // (Other private ranges and schemes: the Rust API tests.)
  const d = await def({ type: 'number' });
  const c = await h.createCustomer(ctx.user);
  const url = files.put('users.csv', `user_id\n${c._id}\n`);
  // The file is really there: the refusal is the address, not a missing file.
  assert.equal((await h.rawRequest('GET', url)).status, 200);
  const before = files.hits('users.csv');
  for (const fileUrl of [url, url.replace('127.0.0.1', 'localhost')]) {
    const res = await api('PUT', '/user_attribute/bulk_update', {
      body: { user_file_url: fileUrl, attribute: [{ key: d.slug, value: 1 }] },
    });
    h.rawError(res, 400, undefined);
    assert.match(res.body.message, /user_file_url/, `${fileUrl}: ${res.body.message}`);
  }
  assert.equal(files.hits('users.csv'), before, 'the server never fetched the file');
  assert.equal(await valueOf(d, c), undefined);
});
