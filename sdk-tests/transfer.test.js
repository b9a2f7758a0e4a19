'use strict';
// Moving customers in and out through the strict platform SDK: bulkImportStoreFrontUsers
// (a CSV served from a local file server, with a bcrypt hash from another system),
// createBulkExportUsers (the file downloaded through its signed link), and the job lists
// getBulkImportUsersList and getBulkExportUsersList with their filters.
//
// This file's server may download from 127.0.0.1 (PATRON_FETCH_ALLOW); its job runner polls
// every second.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const h = require('./helpers');

const ctx = h.useServer({ env: { PATRON_FETCH_ALLOW: '127.0.0.1/32' } });
const files = h.useFileServer();

const JOB_TIMEOUT_MS = 30_000;
/** `Migrated-1` hashed by Python's bcrypt (cost 4). */
const BCRYPT = '$2b$04$84We4RugYbRxft8iPfcru.FEu2fWsJxhEBknAO8YN3ZVbhGnbZh2S';

/** Checks a BulkActionModel beyond the strict SDK's own check. */
function assertJob(job, actionType, fileFormat) {
  h.assertModel('BulkActionModel', job);
  h.assertNoNulls(job);
  assert.equal(job.action_type, actionType, JSON.stringify(job));
  assert.equal(job.file_format, fileFormat);
  assert.equal(job.application_id, ctx.applicationId);
  assert.equal(job.company_id, ctx.companyId);
  assert.equal(typeof job.created_by.user_id, 'string');
  assert.ok(['inprogress', 'complete', 'partial', 'failed'].includes(job.status), job.status);
}

/** Polls getUsersJobByJobId until the job leaves `inprogress`. */
async function finished(jobId) {
  return h.waitFor(
    () => h.sdk(ctx.user.getUsersJobByJobId({ jobId })),
    (job) => job.status !== 'inprogress',
    { timeoutMs: JOB_TIMEOUT_MS, what: `job ${jobId} to finish` },
  );
}

test('bulkImportStoreFrontUsers lands good rows, reports bad ones, and the old password signs in', async () => {
  const email = h.uniqueEmail('imported');
  const phone = h.uniquePhone();
  const csv = [
    'email,phone_number,first_name,last_name,password_hash',
    `${email},${phone},Imported,Shopper,${BCRYPT}`,
    'not-an-email,,Broken,,',
    `${h.uniqueEmail('odd')},,Odd,,md5:abc`,
  ].join('\n');
  const url = files.put('customers.csv', csv);
  const job = await h.sdk(ctx.user.bulkImportStoreFrontUsers({
    body: { absolute_url: url, file_format: 'CSV', relative_url: '/files/customers.csv' },
  }));
  assertJob(job, 'import', 'csv');
  assert.equal(job.file_name, 'customers.csv');
  const done = await finished(job._id);
  assertJob(done, 'import', 'csv');
  assert.equal(done.status, 'partial', JSON.stringify(done));
  assert.deepEqual(done.count, { total: 3, success: 1, error: 2 });
  assert.equal(typeof done.links.error.relative_url, 'string');

  const found = await h.sdk(ctx.user.getCustomers({ q: email }));
  assert.equal(found.items.length, 1);
  assert.equal(found.items[0].first_name, 'Imported');

  const sf = ctx.storefront();
  const signedIn = await h.sfCall(sf, 'loginWithEmailAndPassword', { body: { username: email, password: 'Migrated-1' } });
  assert.equal(signedIn.body.user.first_name, 'Imported');
  await h.sdkError(
    ctx.storefront().user.loginWithEmailAndPassword({ body: { username: email, password: h.PASSWORD } }),
    400,
    'INVALID_CREDENTIALS',
  );
});

test('bulkImportStoreFrontUsers refuses an unknown column with a 400', async () => {
  // (Unreadable files, other formats: the Rust API tests.)
  const unknown = files.put('unknown.csv', 'email,shoe_size\na@example.com,9\n');
  await h.sdkError(
    ctx.user.bulkImportStoreFrontUsers({ body: { absolute_url: unknown, file_format: 'CSV', relative_url: 'unknown.csv' } }),
    400,
    'VALIDATION_ERROR',
    'shoe_size',
  );
});

test('createBulkExportUsers writes every customer to a file behind a signed link, never a password', async () => {
  const customer = await h.createCustomer(ctx.user);
  for (const fileFormat of ['csv', 'xlsx']) {
    const job = await h.sdk(ctx.user.createBulkExportUsers({ body: { file_format: fileFormat.toUpperCase() } }));
    assertJob(job, 'export', fileFormat);
    const done = await finished(job._id);
    assertJob(done, 'export', fileFormat);
    assert.equal(done.status, 'complete', JSON.stringify(done));
    assert.ok(done.count.success >= 1);
    const link = new URL(done.links.file.relative_url, ctx.base);
    const res = await h.rawRequest('GET', link);
    assert.equal(res.status, 200, res.text);
    if (fileFormat === 'csv') {
      assert.match(res.text, /^user_id,username,first_name,last_name/);
      assert.ok(res.text.includes(customer._id), 'the customer is in the file');
      assert.ok(!/argon2|password/.test(res.text), 'no password material');
    } else {
      assert.equal(res.headers.get('content-type'), 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    }
    // (Tampered and expired links: the Rust API tests.)
  }
});

test('getBulkImportUsersList and getBulkExportUsersList page and filter the jobs', async () => {
  const url = files.put('listed.csv', `email\n${h.uniqueEmail('listed')}\n`);
  const job = await h.sdk(ctx.user.bulkImportStoreFrontUsers({
    body: { absolute_url: url, file_format: 'CSV', relative_url: 'listed.csv' },
  }));
  await finished(job._id);
  const all = await h.sdk(ctx.user.getBulkImportUsersList({ pageNo: '1', pageSize: '50' }));
  h.assertModel('BulkActionPaginationSchema', all);
  assert.ok(all.items.some((item) => item._id === job._id));
  for (const item of all.items) assertJob(item, 'import', item.file_format);
  assert.equal(all.page.current, 1);

  const searched = await h.sdk(ctx.user.getBulkImportUsersList({ search: 'listed', status: 'complete', fileFormat: 'csv' }));
  assert.deepEqual(searched.items.map((item) => item._id), [job._id]);
  const today = new Date().toISOString().slice(0, 10);
  const dated = await h.sdk(ctx.user.getBulkImportUsersList({ startDate: today }));
  assert.ok(dated.items.some((item) => item._id === job._id));
  const none = await h.sdk(ctx.user.getBulkImportUsersList({ endDate: '2000-01-01' }));
  assert.equal(none.items.length, 0);
  assert.equal(none.page.item_total, 0);
  await h.sdkError(ctx.user.getBulkImportUsersList({ status: 'done' }), 400, 'VALIDATION_ERROR');

  const exports = await h.sdk(ctx.user.getBulkExportUsersList({ pageSize: '50' }));
  h.assertModel('BulkActionPaginationSchema', exports);
  for (const item of exports.items) assertJob(item, 'export', item.file_format);
  const xlsx = await h.sdk(ctx.user.getBulkExportUsersList({ fileFormat: 'xlsx' }));
  assert.ok(xlsx.items.every((item) => item.file_format === 'xlsx'));
});
