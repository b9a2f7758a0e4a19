'use strict';
// Assertions: SDK calls expected to succeed or fail, Patron error bodies, and the shapes of
// customers, attribute definitions and values, and groups; plus polling until a condition holds.

const assert = require('node:assert/strict');
const { PlatformModel } = require('@gofynd/fdk-client-javascript');
const {
  FDKServerResponseError,
  FDKResponseValidationError,
  FDKClientValidationError,
} = require('@gofynd/fdk-client-javascript/sdk/common/FDKError');

const UserModel = PlatformModel.UserPlatformModel;

const HEX24 = /^[0-9a-f]{24}$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Awaits an SDK call expected to succeed. Turns the SDK's error types into readable
 * assertion failures (FDKResponseValidationError = the body failed the strict 3.4.2 model).
 */
async function sdk(promise) {
  try {
    return await promise;
  } catch (err) {
    if (err instanceof FDKResponseValidationError) {
      throw new assert.AssertionError({
        message: `strict SDK response validation failed: ${err.message}\n${JSON.stringify(err.details, null, 1)}`,
      });
    }
    if (err instanceof FDKServerResponseError) {
      throw new assert.AssertionError({
        message: `server answered ${err.code}: ${JSON.stringify(err.details)}`,
      });
    }
    if (err instanceof FDKClientValidationError) {
      throw new assert.AssertionError({ message: `SDK rejected the request client-side: ${err.message}` });
    }
    throw err;
  }
}

/** Checks a Patron error body: { success:false, message, code, request_id }. */
function assertErrorBody(body, status, code, messageIncludes) {
  assert.ok(body && typeof body === 'object', `error body must be JSON, got ${JSON.stringify(body)}`);
  assert.equal(typeof body.message, 'string', `error body needs a message: ${JSON.stringify(body)}`);
  assert.ok(body.message.length > 0, 'error message must not be empty');
  if (Array.isArray(code)) {
    assert.ok(code.includes(body.code), `expected code in ${code.join('|')}, body ${JSON.stringify(body)}`);
  } else if (code !== undefined) {
    assert.equal(body.code, code, `expected code ${code}, body ${JSON.stringify(body)}`);
  }
  assert.equal(body.success, false, `error body must have success:false: ${JSON.stringify(body)}`);
  assert.equal(typeof body.request_id, 'string', `error body needs request_id: ${JSON.stringify(body)}`);
  assert.ok(body.request_id.length > 0);
  if (messageIncludes !== undefined) assertMessage(body.message, messageIncludes, body);
  if (status === 401) assert.equal(body.authenticated, false, `401 bodies carry authenticated:false: ${JSON.stringify(body)}`);
}

function assertMessage(message, expected, body) {
  const list = Array.isArray(expected) ? expected : [expected];
  for (const e of list) {
    if (e instanceof RegExp) {
      assert.match(message, e, `message ${JSON.stringify(message)} should match ${e}; body ${JSON.stringify(body)}`);
    } else {
      assert.ok(
        message.toLowerCase().includes(String(e).toLowerCase()),
        `message ${JSON.stringify(message)} should mention ${JSON.stringify(e)}; body ${JSON.stringify(body)}`,
      );
    }
  }
}

/**
 * Awaits an SDK call expected to fail with an HTTP error and checks status, code and message.
 * `status` may be a number or a predicate. Returns the FDKServerResponseError.
 */
async function sdkError(promise, status, code, messageIncludes) {
  let err;
  try {
    const res = await promise;
    assert.fail(`expected HTTP ${status} ${code ?? ''}, got success: ${JSON.stringify(res)}`);
  } catch (e) {
    if (e instanceof assert.AssertionError) throw e;
    err = e;
  }
  if (err instanceof FDKClientValidationError) {
    assert.fail(`SDK rejected the request client-side (test should use rawRequest): ${err.message}`);
  }
  assert.ok(err instanceof FDKServerResponseError, `expected FDKServerResponseError, got ${err && err.name}: ${err && err.message}`);
  checkStatus(err.code, status, err.details);
  assertErrorBody(err.details, err.code, code, messageIncludes);
  // The SDK surfaces the body's message as the error message.
  assert.equal(err.message, err.details.message);
  return err;
}

/** Expects a 400 VALIDATION_ERROR (or `code`) from an SDK call; returns the message. */
async function refused(promise, code = 'VALIDATION_ERROR', mention) {
  const err = await sdkError(promise, 400, code, mention);
  return err.details.message;
}

/** Same as sdkError for a raw `{status, body}` from rawRequest (or `ctx.api`, appApi). */
function rawError(res, status, code, messageIncludes) {
  checkStatus(res.status, status, res.body ?? res.text);
  assertErrorBody(res.body, res.status, code, messageIncludes);
  return res.body;
}

function checkStatus(actual, expected, body) {
  if (typeof expected === 'function') {
    assert.ok(expected(actual), `unexpected HTTP status ${actual}; body ${JSON.stringify(body)}`);
  } else {
    assert.equal(actual, expected, `expected HTTP ${expected}, got ${actual}; body ${JSON.stringify(body)}`);
  }
}

const is4xx = (s) => s >= 400 && s < 500;

/** Validates a body fetched without the SDK against a 3.4.2 response model, as strict mode would. */
function assertModel(modelName, body) {
  const { error } = UserModel[modelName]().validate(body, { abortEarly: false, allowUnknown: true });
  assert.ok(!error, `body fails SDK model ${modelName}: ${error && error.message}`);
}

const SECRET_KEYS = new Set(['password_history', 'password', 'hash', 'salt', 'password_hash']);

/** No secret-looking key anywhere in `value`. */
function assertNoSecrets(value, where = 'response') {
  if (Array.isArray(value)) {
    value.forEach((v, i) => assertNoSecrets(v, `${where}[${i}]`));
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      assert.ok(!SECRET_KEYS.has(k), `${where} must not contain key ${JSON.stringify(k)}`);
      assertNoSecrets(v, `${where}.${k}`);
    }
  }
}

/** No `null` anywhere outside `meta` (strict 3.4.2 rejects null for typed fields). */
function assertNoNulls(value, where = 'response') {
  if (Array.isArray(value)) {
    value.forEach((v, i) => assertNoNulls(v, `${where}[${i}]`));
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'meta') continue;
      assert.notEqual(v, null, `${where}.${k} is null; omit absent values instead`);
      assertNoNulls(v, `${where}.${k}`);
    }
  }
}

function assertIsoDate(value, name) {
  assert.equal(typeof value, 'string', `${name} must be a string, got ${JSON.stringify(value)}`);
  assert.match(value, ISO_DATE, `${name} must be an ISO-8601 date-time, got ${value}`);
  assert.ok(!Number.isNaN(Date.parse(value)), `${name} must parse as a date: ${value}`);
}

/** Common shape checks for a customer object (UserSchema / UserSearchSchema). */
function assertCustomerShape(u, applicationId) {
  assert.ok(u && typeof u === 'object', 'customer must be an object');
  assert.match(u._id, HEX24, `_id must be 24 hex: ${u._id}`);
  assert.equal(u.user_id, u._id, 'user_id equals _id');
  assert.equal(u.application_id, applicationId);
  assert.equal(typeof u.username, 'string');
  assert.ok(u.username.length > 0, 'username must not be empty');
  assert.equal(typeof u.active, 'boolean');
  assertIsoDate(u.created_at, 'created_at');
  assertIsoDate(u.updated_at, 'updated_at');
  for (const p of u.phone_numbers || []) {
    assert.equal(typeof p.phone, 'string');
    assert.equal(typeof p.country_code, 'number', `country_code must be a JSON number, got ${JSON.stringify(p.country_code)}`);
    for (const f of ['primary', 'verified', 'active']) assert.equal(typeof p[f], 'boolean', `phone ${f} must be boolean`);
  }
  for (const e of u.emails || []) {
    assert.equal(typeof e.email, 'string');
    assert.equal(e.email, e.email.toLowerCase(), 'emails are stored lower-case');
    for (const f of ['primary', 'verified', 'active']) assert.equal(typeof e[f], 'boolean', `email ${f} must be boolean`);
  }
  assertNoSecrets(u);
  assertNoNulls(u);
}

/** Shape checks for an attribute definition (UserAttributeDefinition and …Details). */
function assertDefinitionShape(d, applicationId) {
  assert.ok(d && typeof d === 'object', `definition must be an object: ${JSON.stringify(d)}`);
  assert.match(d._id, HEX24, `_id must be 24 hex: ${d._id}`);
  for (const k of ['name', 'slug', 'description', 'type', 'created_by', 'updated_by']) {
    assert.equal(typeof d[k], 'string', `definition.${k} must be a string: ${JSON.stringify(d)}`);
  }
  assert.ok(d.name.length > 0 && d.slug.length > 0);
  assert.equal(d.application_id, applicationId);
  assert.equal(typeof d.multi_value, 'boolean', `multi_value must be boolean: ${JSON.stringify(d)}`);
  assert.equal(d.is_multi_value, d.multi_value, 'is_multi_value and multi_value agree');
  for (const k of ['customer_editable', 'encrypted', 'pinned', 'is_locked']) {
    assert.equal(typeof d[k], 'boolean', `definition.${k} must be boolean: ${JSON.stringify(d)}`);
  }
  assert.ok(Array.isArray(d.validations), `validations must be an array: ${JSON.stringify(d)}`);
  if (d.pin_order !== undefined) assert.equal(typeof d.pin_order, 'number');
  assertIsoDate(d.created_at, 'created_at');
  assertIsoDate(d.modified_at, 'modified_at');
  assert.equal(typeof d.__v, 'number', `__v must be a number: ${JSON.stringify(d)}`);
  assertNoNulls(d);
  assertModel('UserAttributeDefinition', d);
  assertModel('UserAttributeDefinitionDetails', d);
}

/** Shape checks for an attribute value (UserAttribute) of definition `def`. */
function assertValueShape(v, def, userId) {
  assert.ok(v && typeof v === 'object', `value must be an object: ${JSON.stringify(v)}`);
  assert.match(v._id, HEX24, `_id must be 24 hex: ${v._id}`);
  assert.equal(v.name, def.name, 'name is the definition name');
  assert.equal(v.user_id, userId);
  assert.equal(v.application_id, def.application_id);
  assert.equal(v.user_attribute_definition_id, def._id);
  assert.equal(v.type, def.type);
  assert.equal(typeof v.customer_overridden, 'boolean', `customer_overridden must be boolean: ${JSON.stringify(v)}`);
  assert.equal(v.customer_overriden, v.customer_overridden, 'both spellings agree');
  assert.ok(v.attribute && typeof v.attribute === 'object' && !Array.isArray(v.attribute), 'attribute is an object');
  assert.ok('value' in v.attribute, `attribute.value missing: ${JSON.stringify(v)}`);
  assert.equal(typeof v.updated_by, 'string');
  assertIsoDate(v.created_at, 'created_at');
  assertIsoDate(v.updated_at, 'updated_at');
  assertNoNulls(v);
  assertModel('UserAttribute', v);
}

/** Shape checks for a customer group (UserGroupResponseSchema). */
function assertGroupShape(g, applicationId) {
  assert.ok(g && typeof g === 'object', `group must be an object: ${JSON.stringify(g)}`);
  assert.match(g._id, HEX24, `_id must be 24 hex: ${g._id}`);
  assert.ok(Number.isInteger(g.uid) && g.uid >= 1, `uid must be a positive integer: ${g.uid}`);
  assert.equal(typeof g.name, 'string');
  assert.equal(typeof g.description, 'string');
  assert.equal(g.application_id, applicationId);
  assert.ok(['bulk', 'conditional'].includes(g.type), `type: ${g.type}`);
  assert.equal(typeof g.status, 'string');
  assert.equal(typeof g.is_active, 'boolean');
  assert.ok(Array.isArray(g.conditions), `conditions must be an array: ${JSON.stringify(g)}`);
  for (const c of g.conditions) {
    assert.match(c.user_attribute_definition_id, HEX24);
    assert.equal(typeof c.type, 'string');
    assert.equal(typeof c.key, 'string');
  }
  assert.ok(Array.isArray(g.tags), `tags must be an array: ${JSON.stringify(g)}`);
  assertIsoDate(g.created_at, 'created_at');
  assertIsoDate(g.modified_at, 'modified_at');
  assert.equal(typeof g.__v, 'number');
  assertNoNulls(g);
  assertModel('UserGroupResponseSchema', g);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Calls `fn()` until `done(result)` is true; returns that result. Fails after `timeoutMs`
 * with the last result in the message.
 */
async function waitFor(fn, done, { timeoutMs = 30_000, intervalMs = 200, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await fn();
    if (done(last)) return last;
    if (Date.now() > deadline) {
      assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${JSON.stringify(last)}`);
    }
    await sleep(intervalMs);
  }
}

module.exports = {
  UserModel,
  FDKServerResponseError,
  FDKResponseValidationError,
  FDKClientValidationError,
  HEX24,
  sdk,
  sdkError,
  refused,
  rawError,
  is4xx,
  assertErrorBody,
  assertModel,
  assertNoSecrets,
  assertNoNulls,
  assertIsoDate,
  assertCustomerShape,
  assertDefinitionShape,
  assertValueShape,
  assertGroupShape,
  sleep,
  waitFor,
};
