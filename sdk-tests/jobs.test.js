'use strict';
// Background jobs: bulk attribute updates above the synchronous limit, member files of bulk
// groups (create, PUT and PATCH type file_url) and getUsersJobByJobId (GET …/users/jobs/{id},
// model BulkActionModel).
//
// This file's server runs with PATRON_BULK_SYNC_LIMIT=2 (more than two rows become a job) and
// PATRON_FETCH_ALLOW=127.0.0.1/32, so it may download the CSV files this file serves from a
// local HTTP server. The job runner inside `patron serve` polls every second.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const h = require('./helpers');

const ctx = h.useServer({ env: { PATRON_BULK_SYNC_LIMIT: '2', PATRON_FETCH_ALLOW: '127.0.0.1/32' } });
const files = h.useFileServer();

const api = (method, subpath, opts) => h.appApi(ctx, method, subpath, opts);
const JOB_TIMEOUT_MS = 30_000;

/** Checks an asynchronous BulkOperation answer; returns the job id. */
function assertAsync(res, total) {
  assert.equal(res.status, 200, res.text);
  const b = res.body;
  assert.equal(b.success, true, res.text);
  assert.equal(b.processing_type, 'asynchronous', res.text);
  assert.equal(b.total, total, `total: ${res.text}`);
  assert.equal(typeof b.job_id, 'string', res.text);
  assert.ok(b.job_id.length > 0);
  assert.equal(typeof b.request_id, 'string', res.text);
  h.assertNoNulls(b);
  return b.job_id;
}

/** Checks a BulkActionModel (beyond the strict SDK's own check). */
function assertJobShape(job, jobId) {
  assert.equal(job._id, jobId);
  for (const k of ['file_name', 'file_format', 'action_type', 'status']) {
    assert.equal(typeof job[k], 'string', `job.${k}: ${JSON.stringify(job)}`);
  }
  assert.equal(typeof job.created_by.name, 'string');
  assert.equal(typeof job.created_by.user_id, 'string');
  assert.equal(job.application_id, ctx.applicationId);
  assert.equal(job.company_id, ctx.companyId, 'company_id is the company id, as a string');
  assert.equal(typeof job.company_id, 'string');
  assert.ok(['inprogress', 'complete', 'partial', 'failed'].includes(job.status), `status: ${job.status}`);
  for (const k of ['total', 'success', 'error']) assert.equal(typeof job.count[k], 'number', `count.${k}: ${JSON.stringify(job)}`);
  h.assertIsoDate(job.created_at, 'created_at');
  h.assertIsoDate(job.updated_at, 'updated_at');
  h.assertNoNulls(job);
  h.assertModel('BulkActionModel', job);
}

/** Polls getUsersJobByJobId (strict SDK) until the job is no longer in progress. */
async function finishedJob(jobId) {
  const first = await h.sdk(ctx.user.getUsersJobByJobId({ jobId }));
  assertJobShape(first, jobId);
  const job = await h.waitFor(
    () => h.sdk(ctx.user.getUsersJobByJobId({ jobId })),
    (j) => j.status !== 'inprogress',
    { timeoutMs: JOB_TIMEOUT_MS, what: `job ${jobId} to finish` },
  );
  assertJobShape(job, jobId);
  assert.ok(Date.parse(job.updated_at) >= Date.parse(job.created_at));
  return job;
}

/** GETs an error report path (relative to the server) with the bearer token; returns its text. */
async function errorReport(relativeUrl) {
  assert.equal(typeof relativeUrl, 'string');
  const res = await h.rawRequest('GET', new URL(relativeUrl, ctx.base), { token: ctx.token.access_token });
  assert.equal(res.status, 200, `error report ${relativeUrl}: ${res.status} ${res.text}`);
  return res.text;
}

/** Polls getUserGroupById until the group is no longer pending. */
async function settledGroup(groupId, user = ctx.user) {
  return h.waitFor(
    () => h.sdk(user.getUserGroupById({ groupId })),
    (g) => g.status !== 'pending',
    { timeoutMs: JOB_TIMEOUT_MS, what: `group ${groupId} to leave pending` },
  );
}

async function members(groupId) {
  const res = await api('GET', `/user_group/${groupId}/users`, { query: { page_size: 100 } });
  assert.equal(res.status, 200, res.text);
  h.assertModel('CustomerListResponseSchema', res.body);
  return h.ids(res.body.items);
}

const valueOf = (d, c) => h.attributeValue(ctx, d, c);

const customers = async (n) => {
  const out = [];
  for (let i = 0; i < n; i += 1) out.push(await h.createCustomer(ctx.user));
  return out;
};

// ---------------------------------------------------------------------------------------
// Bulk attribute updates as jobs

test('bulk_update above the limit becomes a job; getUsersJobByJobId follows it to complete', async () => {
  const d = await h.createDefinition(ctx.user, { type: 'number' });
  const s = await h.createDefinition(ctx.user, { type: 'string' });
  const cs = await customers(3);
  const res = await api('PUT', '/user_attribute/bulk_update', {
    body: { users: cs.map((c) => c._id), attribute: [{ key: d.slug, value: 42 }, { key: s.slug, value: 'async' }] },
  });
  const jobId = assertAsync(res, 3);
  const job = await finishedJob(jobId);
  assert.equal(job.status, 'complete', JSON.stringify(job));
  assert.deepEqual({ ...job.count }, { total: 3, success: 3, error: 0 });
  for (const c of cs) {
    assert.equal(await valueOf(d, c), 42);
    assert.equal(await valueOf(s, c), 'async');
  }
  // The job id is stable: the finished job reads the same again.
  const again = await h.sdk(ctx.user.getUsersJobByJobId({ jobId }));
  assert.equal(again.status, 'complete');
  assert.deepEqual(again.count, job.count);
});

test('a job with only bad rows ends failed, its rows reported at links.error', async () => {
  // (A job with some bad rows ends partial: the Rust API tests.)
  const d = await h.createDefinition(ctx.user, { type: 'number', validations: [{ type: 'min', value: 0 }] });
  const [a, b] = await customers(2);
  const missing = h.unknownId();
  const failed = await finishedJob(
    assertAsync(
      await api('PUT', '/user_attribute/bulk_update', { body: { users: [a._id, b._id, missing], attribute: [{ key: d.slug, value: -1 }] } }),
      3,
    ),
  );
  assert.equal(failed.status, 'failed', JSON.stringify(failed));
  assert.deepEqual({ ...failed.count }, { total: 3, success: 0, error: 3 });
  assert.ok(failed.links && failed.links.error, `links.error expected: ${JSON.stringify(failed)}`);
  const report = await errorReport(failed.links.error.relative_url);
  assert.ok(report.includes(missing), `the error report names the failed rows: ${report}`);
  assert.equal(await valueOf(d, a), undefined, 'nothing written');
});

test('bulk_update/per_user above the limit becomes a job too', async () => {
  const d = await h.createDefinition(ctx.user, { type: 'number' });
  const cs = await customers(3);
  const res = await api('PUT', '/user_attribute/bulk_update/per_user', {
    body: {
      user_detail_attributes: [
        ...cs.map((c, i) => ({ user_id: c._id, attributes: [{ key: d.slug, value: i * 10 }] })),
        { user_id: 'not-an-id', attributes: [{ key: d.slug, value: 1 }] },
      ],
    },
  });
  const job = await finishedJob(assertAsync(res, 4));
  assert.equal(job.status, 'partial', JSON.stringify(job));
  assert.deepEqual({ ...job.count }, { total: 4, success: 3, error: 1 });
  for (const [i, c] of cs.entries()) assert.equal(await valueOf(d, c), i * 10);
});

test('bulk_update with user_file_url above the limit becomes a job; a file the server cannot fetch is 400', async () => {
  // (A file within the limit, and one without a user_id column: the Rust API tests.)
  const d = await h.createDefinition(ctx.user, { type: 'string' });
  const [a, b, c, e] = await customers(4);
  // Four rows, one of them unknown: a job.
  const name = `big-${h.uniqueTag()}.csv`;
  const big = files.put(name, `user_id\n${c._id}\n${e._id}\n${h.unknownId()}\n${a._id}\n`);
  const job = await finishedJob(
    assertAsync(await api('PUT', '/user_attribute/bulk_update', { body: { user_file_url: big, attribute: [{ key: d.slug, value: 'big' }] } }), 4),
  );
  assert.ok(files.hits(name) >= 1, 'the server fetched the file');
  assert.equal(job.status, 'partial', JSON.stringify(job));
  assert.deepEqual({ ...job.count }, { total: 4, success: 3, error: 1 });
  for (const x of [c, e, a]) assert.equal(await valueOf(d, x), 'big');
  assert.equal(await valueOf(d, b), undefined);

  // A file the file server does not have is 400.
  h.rawError(
    await api('PUT', '/user_attribute/bulk_update', { body: { user_file_url: files.url('missing.csv'), attribute: [{ key: d.slug, value: 'x' }] } }),
    400,
    undefined,
  );
  assert.equal(await valueOf(d, a), 'big');
});

test('unreadable rows of a user_file_url count as job errors: count.total = success + error', async () => {
  const d = await h.createDefinition(ctx.user, { type: 'number' });
  const cs = await customers(3);
  const url = files.put(`malformed-${h.uniqueTag()}.csv`, `user_id\n${cs.map((c) => c._id).join('\n')}\nnot-an-id\n`);
  const jobId = assertAsync(await api('PUT', '/user_attribute/bulk_update', { body: { user_file_url: url, attribute: [{ key: d.slug, value: 9 }] } }), 4);
  const job = await finishedJob(jobId);
  for (const c of cs) assert.equal(await valueOf(d, c), 9);
  assert.deepEqual({ ...job.count }, { total: 4, success: 3, error: 1 }, `the unreadable row is an error: ${JSON.stringify(job)}`);
  assert.equal(job.status, 'partial', JSON.stringify(job));
});

test('getUsersJobByJobId: unknown job is 404', async () => {
  // (Jobs of other applications: the Rust store tests.)
  await h.sdkError(ctx.user.getUsersJobByJobId({ jobId: h.unknownId() }), 404, undefined);
});

// ---------------------------------------------------------------------------------------
// Bulk groups built from files

test('a bulk group with file_url is pending until the runner applies the file, then completed', async () => {
  const [a, b, c, outsider] = await customers(4);
  const url = files.put(
    `members-${h.uniqueTag()}.csv`,
    `email\n${a.emails[0].email}\n${b.emails[0].email.toUpperCase()}\n`,
  );
  const created = await api('POST', '/user_group', { body: { name: `From file ${h.uniqueTag()}`, description: 'file', type: 'bulk', file_url: url } });
  assert.equal(created.status, 201, created.text);
  h.assertGroupShape(created.body, ctx.applicationId);
  assert.equal(created.body.type, 'bulk');
  assert.equal(created.body.status, 'pending', 'the file is applied in the background');
  assert.equal(created.body.file_url, url);

  const g = await settledGroup(created.body._id);
  h.assertGroupShape(g, ctx.applicationId);
  assert.equal(g.status, 'completed', JSON.stringify(g));
  assert.equal(g.error, undefined, `no row failed: ${JSON.stringify(g)}`);
  assert.deepEqual(await members(g._id), h.ids([a, b]));
  assert.ok(!(await members(g._id)).includes(outsider._id));

  // Through the strict SDK too, with a phone_number column (national numbers, default region).
  const phones = files.put(`phones-${h.uniqueTag()}.csv`, `phone_number\n${c.phone_numbers[0].phone}\n+91${a.phone_numbers[0].phone}\n`);
  const viaSdk = await h.sdk(ctx.user.createUserGroup({ body: { name: `Phones ${h.uniqueTag()}`, description: 'p', file_url: phones } }));
  assert.equal(viaSdk.type, 'bulk', 'a file without conditions makes a bulk group');
  assert.equal(viaSdk.status, 'pending');
  const settled = await settledGroup(viaSdk._id);
  assert.equal(settled.status, 'completed');
  assert.deepEqual(await members(viaSdk._id), h.ids([a, c]));
  // The list filter sees the status.
  const completed = await h.sdk(ctx.user.getUserGroups({ status: 'completed', name: settled.name }));
  assert.deepEqual(h.ids(completed.items), [viaSdk._id]);
});

test('a member file whose rows all fail ends failed with error {count, file_url}', async () => {
  // (A partly failing file ends completed with the count: the Rust API tests.)
  const bad = files.put(`bad-${h.uniqueTag()}.csv`, `email\n${h.uniqueEmail('ghost')}\n${h.uniqueEmail('ghost')}\n`);
  const g = await h.sdk(ctx.user.createUserGroup({ body: { name: `Bad ${h.uniqueTag()}`, description: 'x', type: 'bulk', file_url: bad } }));
  const failed = await settledGroup(g._id);
  h.assertGroupShape(failed, ctx.applicationId);
  assert.equal(failed.status, 'failed', JSON.stringify(failed));
  assert.ok(failed.error, `error expected: ${JSON.stringify(failed)}`);
  assert.equal(failed.error.count, 2);
  assert.equal(typeof failed.error.file_url, 'string');
  assert.ok(failed.error.file_url.length > 0);
  const report = await errorReport(failed.error.file_url);
  assert.ok(report.includes('ghost'), `the error report lists the unknown emails: ${report}`);
  assert.deepEqual(await members(g._id), []);
  const listed = await h.sdk(ctx.user.getUserGroups({ status: 'failed', name: failed.name }));
  assert.deepEqual(h.ids(listed.items), [g._id]);
});

test('updateUserGroupPartially type file_url adds and removes members from a CSV with an action column', async () => {
  const [a, b, c] = await customers(3);
  const g = await h.sdk(ctx.user.createUserGroup({ body: { name: `Patch file ${h.uniqueTag()}`, description: 'x', type: 'bulk' } }));
  await h.sdk(
    ctx.user.updateUserGroupPartially({
      groupId: g._id,
      body: { type: 'json', user_data: [{ user_id: a._id, action: 'add' }, { user_id: b._id, action: 'add' }] },
    }),
  );
  assert.deepEqual(await members(g._id), h.ids([a, b]));
  const url = files.put(`patch-${h.uniqueTag()}.csv`, `user_id,action\n${b._id},remove\n${c._id},add\n`);
  const patched = await h.sdk(ctx.user.updateUserGroupPartially({ groupId: g._id, body: { type: 'file_url', file_url: url } }));
  h.assertGroupShape(patched, ctx.applicationId);
  assert.equal(patched.status, 'pending');
  assert.equal(patched.file_url, url);
  const done = await settledGroup(g._id);
  assert.equal(done.status, 'completed', JSON.stringify(done));
  assert.deepEqual(await members(g._id), h.ids([a, c]));

  // A file that cannot be fetched is 400. (One without an action column: the Rust API tests.)
  await h.sdkError(ctx.user.updateUserGroupPartially({ groupId: g._id, body: { type: 'file_url', file_url: files.url('nope.csv') } }), 400, undefined);
  const after = await h.sdk(ctx.user.getUserGroupById({ groupId: g._id }));
  assert.equal(after.status, 'completed', 'refused requests leave the group as it was');
  assert.deepEqual(await members(g._id), h.ids([a, c]));
  // PATCH with a file on a conditional group is 400.
  const d = await h.createDefinition(ctx.user, { type: 'number' });
  const cond = await h.sdk(
    ctx.user.createUserGroup({ body: { name: `Cond ${h.uniqueTag()}`, description: 'x', conditions: [{ user_attribute_definition_id: d._id, type: 'gt', value: '1' }] } }),
  );
  await h.sdkError(ctx.user.updateUserGroupPartially({ groupId: cond._id, body: { type: 'file_url', file_url: url } }), 400, undefined);
});

test('updateUserGroup with a file_url on a bulk group applies the file in the background', async () => {
  const [a, b] = await customers(2);
  const g = await h.sdk(ctx.user.createUserGroup({ body: { name: `Put file ${h.uniqueTag()}`, description: 'x', type: 'bulk' } }));
  const url = files.put(`put-${h.uniqueTag()}.csv`, `user_id\n${a._id}\n${b._id}\n`);
  const u = await h.sdk(ctx.user.updateUserGroup({ groupId: g._id, body: { file_url: url, description: 'from a file' } }));
  h.assertGroupShape(u, ctx.applicationId);
  assert.equal(u.status, 'pending');
  assert.equal(u.file_url, url);
  assert.equal(u.description, 'from a file');
  const done = await settledGroup(g._id);
  assert.equal(done.status, 'completed', JSON.stringify(done));
  assert.deepEqual(await members(g._id), h.ids([a, b]));
  // A file_url on a conditional group is 400.
  const d = await h.createDefinition(ctx.user, { type: 'number' });
  const cond = await h.sdk(
    ctx.user.createUserGroup({ body: { name: `Cond ${h.uniqueTag()}`, description: 'x', conditions: [{ user_attribute_definition_id: d._id, type: 'gt', value: '1' }] } }),
  );
  await h.sdkError(ctx.user.updateUserGroup({ groupId: cond._id, body: { file_url: url } }), 400, undefined);
});

test('a member file without an id column is 400 at request time and creates no group', async () => {
  // (Files that cannot be fetched, private ranges outside the allow-list: the Rust tests.)
  const name = `No ids ${h.uniqueTag()}`;
  const noIdColumn = files.put(`cols-${h.uniqueTag()}.csv`, 'first_name,last_name\nA,B\n');
  h.rawError(await api('POST', '/user_group', { body: { name, description: 'x', type: 'bulk', file_url: noIdColumn } }), 400, undefined);
  const listed = await h.sdk(ctx.user.getUserGroups({ name }));
  assert.deepEqual(listed.items, []);
});
