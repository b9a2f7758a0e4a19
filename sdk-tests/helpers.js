'use strict';
// Shared harness for the SDK compatibility tests.
//
// Every test file calls `useServer()` at top level. That registers a `before` hook which
// provisions a fresh SQLite database, runs the Patron admin CLI (migrate, app create, client
// create), starts `patron serve` on an ephemeral port, obtains a client-credentials token and
// builds an official @gofynd/fdk-client-javascript 3.4.2 PlatformClient with strict response
// checking; and an `after` hook that stops the server with SIGTERM and removes the temp dir.

const assert = require('node:assert/strict');
const { spawn, execFile } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { before, after } = require('node:test');

const {
  PlatformConfig,
  PlatformClient,
  PlatformModel,
  ApplicationConfig,
  ApplicationClient,
} = require('@gofynd/fdk-client-javascript');
const {
  FDKServerResponseError,
  FDKResponseValidationError,
  FDKClientValidationError,
} = require('@gofynd/fdk-client-javascript/sdk/common/FDKError');

const UserModel = PlatformModel.UserPlatformModel;

const COMPANY_ID = '559';
const READ = 'application/customers/read';
const WRITE = 'application/customers/write';
const SETTINGS_WRITE = 'company/settings/write';
const PATRON_BIN = process.env.PATRON_BIN || path.resolve(__dirname, '../target/debug/patron');
// The SDK logs through `loglevel` (a process-wide singleton). ERROR (its default) prints a
// JSON blob for every non-2xx answer, which the error-path tests provoke on purpose.
const SDK_LOG_LEVEL = process.env.SDK_LOG_LEVEL || 'SILENT';
const STARTUP_TIMEOUT_MS = 30_000;
const HEX24 = /^[0-9a-f]{24}$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

// ---------------------------------------------------------------------------------------
// CLI

function runCli(env, args) {
  return new Promise((resolve, reject) => {
    execFile(PATRON_BIN, args, { env, timeout: 60_000, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) {
        err.message = `patron ${args.join(' ')} failed (${err.code ?? err.signal}): ${stderr || err.message}`;
        reject(err);
        return;
      }
      resolve({ stdout, stderr });
    });
  });
}

/** Runs a `--json` CLI command; its stdout must be exactly one JSON object. */
async function runCliJson(env, args) {
  const { stdout } = await runCli(env, args);
  let value;
  try {
    value = JSON.parse(stdout);
  } catch (e) {
    throw new Error(`patron ${args.join(' ')}: stdout is not one JSON document: ${JSON.stringify(stdout)}`);
  }
  assert.equal(typeof value, 'object', `patron ${args.join(' ')}: expected a JSON object`);
  assert.ok(value !== null && !Array.isArray(value), `patron ${args.join(' ')}: expected a JSON object`);
  return value;
}

// ---------------------------------------------------------------------------------------
// Server

function startServe(env) {
  return new Promise((resolve, reject) => {
    const proc = spawn(PATRON_BIN, ['serve', '--listen', '127.0.0.1:0'], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const state = { proc, stdout: '', stderr: '', exit: null };
    state.exited = new Promise((res) => {
      proc.on('exit', (code, signal) => {
        state.exit = { code, signal };
        res(state.exit);
      });
    });
    proc.stdout.setEncoding('utf8');
    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (chunk) => {
      // Keep only the tail: enough to explain a failure.
      state.stderr = (state.stderr + chunk).slice(-20_000);
    });
    let settled = false;
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      proc.kill('SIGKILL');
      reject(new Error(`patron serve printed no 'listening on' line within ${STARTUP_TIMEOUT_MS} ms; stderr:\n${state.stderr}`));
    }, STARTUP_TIMEOUT_MS);
    proc.stdout.on('data', (chunk) => {
      state.stdout += chunk;
      if (settled) return;
      const nl = state.stdout.indexOf('\n');
      if (nl < 0) return;
      const line = state.stdout.slice(0, nl);
      const m = /^listening on (http:\/\/127\.0\.0\.1:(\d+))$/.exec(line);
      settled = true;
      clearTimeout(timer);
      if (!m) {
        proc.kill('SIGKILL');
        reject(new Error(`unexpected first stdout line from patron serve: ${JSON.stringify(line)}`));
        return;
      }
      state.base = m[1];
      resolve(state);
    });
    proc.on('error', (err) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(new Error(`cannot start ${PATRON_BIN}: ${err.message}`));
    });
    proc.on('exit', (code, signal) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(new Error(`patron serve exited early (${code ?? signal}); stderr:\n${state.stderr}`));
    });
  });
}

// ---------------------------------------------------------------------------------------
// OAuth + SDK

function basicAuth(creds) {
  return 'Basic ' + Buffer.from(`${creds.client_id}:${creds.client_secret}`).toString('base64');
}

/** POSTs the token endpoint with a form body; returns { status, body }. */
async function tokenRequest(base, creds, form) {
  const res = await fetch(`${base}/service/panel/authentication/v1.0/company/${COMPANY_ID}/oauth/token`, {
    method: 'POST',
    headers: {
      Authorization: basicAuth(creds),
      'Content-Type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams(form).toString(),
  });
  const text = await res.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: res.status, body };
}

async function clientCredentialsToken(base, creds) {
  const { status, body } = await tokenRequest(base, creds, { grant_type: 'client_credentials' });
  assert.equal(status, 200, `token endpoint answered ${status}: ${JSON.stringify(body)}`);
  return body;
}

/** Builds a strict SDK PlatformClient holding `token`. */
function makeSdk(base, applicationId, creds, token) {
  const config = new PlatformConfig(
    {
      companyId: COMPANY_ID,
      apiKey: creds.client_id,
      apiSecret: creds.client_secret,
      domain: base,
      useAutoRenewTimer: false,
      logLevel: SDK_LOG_LEVEL,
      // NB: 3.4.2 reads strictResponseCheck from the constructor's SECOND argument
      // (`options`); inside the first object it is silently ignored. Pass it in both.
      strictResponseCheck: true,
    },
    { strictResponseCheck: true },
  );
  assert.equal(config.options.strictResponseCheck, true, 'SDK strict response check must be on');
  config.oauthClient.setToken(token);
  config.oauthClient.token_expires_at = Date.now() + token.expires_in * 1000;
  const client = new PlatformClient(config);
  return { config, client, user: client.application(applicationId).user };
}

// ---------------------------------------------------------------------------------------
// Storefront (application) SDK

/**
 * Builds an official ApplicationClient for `app` (`patron app create --json` output). It sends
 * `Authorization: Bearer base64(applicationID:applicationToken)`, and the cookie set with
 * `setCookie`. (3.4.2 does not validate storefront responses against any model.)
 */
function makeStorefront(base, app) {
  const config = new ApplicationConfig(
    {
      applicationID: app.application_id,
      applicationToken: app.application_token,
      domain: base,
      logLevel: SDK_LOG_LEVEL,
    },
    { strictResponseCheck: true },
  );
  return new ApplicationClient(config);
}

/**
 * Parses the `f.session` Set-Cookie of a response's headers (axios headers or a fetch
 * Headers). Returns undefined when there is none, else { value, attributes, raw } with
 * lower-cased attribute names.
 */
function sessionCookie(headers) {
  let list;
  if (headers && typeof headers.getSetCookie === 'function') list = headers.getSetCookie();
  else list = headers && headers['set-cookie'];
  if (list === undefined || list === null) return undefined;
  if (!Array.isArray(list)) list = [list];
  const found = list.filter((c) => c.startsWith('f.session='));
  if (found.length === 0) return undefined;
  assert.equal(found.length, 1, `one f.session Set-Cookie expected, got ${JSON.stringify(found)}`);
  const [pair, ...attrs] = found[0].split(';').map((p) => p.trim());
  const attributes = {};
  for (const a of attrs) {
    const eq = a.indexOf('=');
    if (eq < 0) attributes[a.toLowerCase()] = true;
    else attributes[a.slice(0, eq).toLowerCase()] = a.slice(eq + 1);
  }
  return { value: pair.slice('f.session='.length), attributes, raw: found[0] };
}

/**
 * Calls `client.user[method](args)` asking the SDK for the response headers, and, like a
 * browser, adopts (or, when expired, drops) the `f.session` cookie it sets.
 * Returns { body, headers, cookie } (cookie: see sessionCookie).
 */
async function sfCall(client, method, args = {}) {
  const [body, headers] = await sdk(client.user[method](args, { responseHeaders: true }));
  const cookie = sessionCookie(headers);
  if (cookie) {
    const expired = cookie.value === '' || cookie.attributes['max-age'] === '0';
    client.setCookie(expired ? undefined : `f.session=${cookie.value}`);
  }
  return { body, headers, cookie };
}

/** Sets `f.session=<token>` on a storefront client. */
function useSession(client, token) {
  client.setCookie(token ? `f.session=${token}` : undefined);
}

/** The password every storefront test uses unless it needs another: length 10, has a digit. */
const PASSWORD = 'Sup3r-secret';

/**
 * Updates the authentication configuration through the admin SDK (strict response check).
 * Returns the new configuration.
 */
async function setConfig(user, body) {
  return sdk(user.updatePlatformConfig({ body }));
}

/** Registration that creates the account at once (no OTP step): mobile and email "soft". */
const SOFT_REGISTRATION = {
  register_required_fields: {
    mobile: { is_required: true, level: 'soft' },
    email: { is_required: false, level: 'soft' },
  },
};

/** A registerWithForm body for a fresh shopper. */
function registrationBody(overrides = {}) {
  return {
    first_name: 'Meera',
    last_name: 'Iyer',
    gender: 'female',
    email: uniqueEmail('shop'),
    password: PASSWORD,
    phone: { country_code: '91', mobile: uniquePhone() },
    ...overrides,
  };
}

/**
 * Registers a fresh shopper through `sf` (its application must create accounts at once, see
 * SOFT_REGISTRATION); `sf` is left signed in. Returns { sf, user, email, phone, token }.
 */
async function registerShopper(sf, overrides = {}) {
  const body = registrationBody(overrides);
  const res = await sfCall(sf, 'registerWithForm', { body });
  assert.ok(res.body.user, `registration created no user: ${JSON.stringify(res.body)}`);
  assert.ok(res.cookie && res.cookie.value, 'registration sets the session cookie');
  return { sf, user: res.body.user, email: body.email, phone: body.phone && body.phone.mobile, token: res.cookie.value };
}

// ---------------------------------------------------------------------------------------
// The per-file fixture

/**
 * Registers before/after hooks and returns a context object that is filled in by `before`.
 * `options.env` adds variables to the environment of the CLI and the server.
 * The context:
 * { base, env, tmpdir, companyId, applicationId, app, rw, ro, admin, token, config, client,
 *   user, roUser, adminClient, adminUser, server, stop(), api(), newApp() }.
 * `admin` holds every scope including company/settings/write (updatePlatformConfig).
 */
function useServer({ env: extraEnv = {} } = {}) {
  const ctx = { companyId: COMPANY_ID };

  before(async () => {
    if (!fs.existsSync(PATRON_BIN)) {
      throw new Error(`Patron binary not found at ${PATRON_BIN} (build it with cargo build, or set PATRON_BIN)`);
    }
    ctx.tmpdir = fs.mkdtempSync(path.join(os.tmpdir(), 'patron-sdk-'));
    ctx.env = {
      ...process.env,
      PATRON_DATABASE_URL: `sqlite://${path.join(ctx.tmpdir, 'patron.db')}`,
      // Keep the generated at-rest key out of the working directory.
      PATRON_SECRET_KEY_FILE: path.join(ctx.tmpdir, 'secret.key'),
      // Customer messages stay in the outbox (`patron outbox list`).
      PATRON_NOTIFIER: 'log',
      RUST_LOG: 'warn',
      // Per-file settings, e.g. { PATRON_BULK_SYNC_LIMIT: '2' } (none by default).
      ...extraEnv,
    };
    await runCli(ctx.env, ['migrate']);
    ctx.app = await runCliJson(ctx.env, ['app', 'create', '--company', COMPANY_ID, '--name', 'SDK Shop', '--json']);
    ctx.applicationId = ctx.app.application_id;
    ctx.rw = await runCliJson(ctx.env, ['client', 'create', '--company', COMPANY_ID, '--scopes', `${READ},${WRITE}`, '--json']);
    ctx.ro = await runCliJson(ctx.env, ['client', 'create', '--company', COMPANY_ID, '--scopes', READ, '--json']);
    ctx.admin = await runCliJson(ctx.env, [
      'client', 'create', '--company', COMPANY_ID, '--scopes', `${READ},${WRITE},${SETTINGS_WRITE}`, '--json',
    ]);

    ctx.server = await startServe(ctx.env);
    ctx.base = ctx.server.base;

    ctx.token = await clientCredentialsToken(ctx.base, ctx.rw);
    Object.assign(ctx, makeSdk(ctx.base, ctx.applicationId, ctx.rw, ctx.token));
    ctx.roToken = await clientCredentialsToken(ctx.base, ctx.ro);
    ctx.roUser = makeSdk(ctx.base, ctx.applicationId, ctx.ro, ctx.roToken).user;
    ctx.adminToken = await clientCredentialsToken(ctx.base, ctx.admin);
    const adminSdk = makeSdk(ctx.base, ctx.applicationId, ctx.admin, ctx.adminToken);
    ctx.adminClient = adminSdk.client;
    ctx.adminUser = adminSdk.user;

    /** Plain HTTP call to a customers path with the read-write bearer token. */
    ctx.api = (method, subpath, { body, query, token = ctx.token.access_token } = {}) =>
      rawApi(ctx.base, ctx.applicationId, method, subpath, { body, query, token });
  });

  /**
   * Registers another application (its own, default, authentication configuration) on the
   * running server. Returns { applicationId, applicationToken, user (admin platform client),
   * storefront() (a new ApplicationClient each call) }.
   */
  ctx.newApp = async (name = 'SDK Shop') => {
    const app = await runCliJson(ctx.env, ['app', 'create', '--company', COMPANY_ID, '--name', name, '--json']);
    return {
      applicationId: app.application_id,
      applicationToken: app.application_token,
      user: ctx.adminClient.application(app.application_id).user,
      storefront: () => makeStorefront(ctx.base, app),
    };
  };

  /** A storefront client for the file's main application. */
  ctx.storefront = () => makeStorefront(ctx.base, ctx.app);

  /** Sends SIGTERM and waits for the exit; returns { code, signal }. Idempotent. */
  ctx.stop = async () => {
    const server = ctx.server;
    if (!server) return null;
    if (!server.exit) {
      server.proc.kill('SIGTERM');
      const timer = setTimeout(() => server.proc.kill('SIGKILL'), 10_000);
      await server.exited;
      clearTimeout(timer);
    }
    return server.exit;
  };

  after(async () => {
    await ctx.stop();
    if (ctx.tmpdir) fs.rmSync(ctx.tmpdir, { recursive: true, force: true });
  });

  return ctx;
}

async function rawApi(base, applicationId, method, subpath, { body, query, token } = {}) {
  const url = new URL(`${base}/service/platform/user/v1.0/company/${COMPANY_ID}/application/${applicationId}/customers${subpath}`);
  for (const [k, v] of Object.entries(query || {})) {
    for (const item of Array.isArray(v) ? v : [v]) url.searchParams.append(k, String(item));
  }
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, body: json, text, headers: res.headers };
}

// ---------------------------------------------------------------------------------------
// Test data

let counter = 0;
const usedPhones = new Set();

/** A unique tag of lowercase letters and digits. */
function uniqueTag(prefix = 't') {
  counter += 1;
  return `${prefix}${process.pid.toString(36)}${Date.now().toString(36)}${counter}${Math.random().toString(36).slice(2, 6)}`;
}

function uniqueEmail(prefix = 'cust') {
  return `${uniqueTag(prefix)}@example.com`;
}

/** A valid, previously unused Indian mobile national number: 98 + 8 digits. */
function uniquePhone() {
  for (;;) {
    const n = '98' + String(Math.floor(Math.random() * 1e8)).padStart(8, '0');
    if (!usedPhones.has(n)) {
      usedPhones.add(n);
      return n;
    }
  }
}

/** Creates a customer through the SDK; returns the `user` object. */
async function createCustomer(user, overrides = {}) {
  const body = {
    phone_number: uniquePhone(),
    email: uniqueEmail(),
    first_name: 'Asha',
    last_name: 'Rao',
    ...overrides,
  };
  for (const [k, v] of Object.entries(body)) if (v === undefined) delete body[k];
  const res = await sdk(user.createUser({ body }));
  assert.ok(res && res.user, `createUser returned no user: ${JSON.stringify(res)}`);
  return res.user;
}

// ---------------------------------------------------------------------------------------
// Assertions

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
    assert.fail(`SDK rejected the request client-side (test should use fetch): ${err.message}`);
  }
  assert.ok(err instanceof FDKServerResponseError, `expected FDKServerResponseError, got ${err && err.name}: ${err && err.message}`);
  checkStatus(err.code, status, err.details);
  assertErrorBody(err.details, err.code, code, messageIncludes);
  // The SDK surfaces the body's message as the error message.
  assert.equal(err.message, err.details.message);
  return err;
}

/** Same as sdkError for a raw `{status, body}` from `ctx.api`. */
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

/** Lists customers matching q (all pages up to 100), via the SDK. */
async function listAll(user, q) {
  const res = await sdk(user.getCustomers({ q, pageNo: 1, pageSize: 100 }));
  return res.items;
}

const ids = (items) => items.map((u) => u._id).sort();

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A well-formed id that no customer has. */
function unknownId() {
  let s = 'ffff';
  while (s.length < 24) s += Math.floor(Math.random() * 16).toString(16);
  return s;
}

// ---------------------------------------------------------------------------------------
// Attributes, groups and jobs

/**
 * Plain HTTP call to an application-level platform path:
 * …/service/platform/user/v1.0/company/{company}/application/{applicationId}{subpath}.
 * Returns { status, body, text, headers } like rawApi.
 */
async function rawPlatform(base, applicationId, method, subpath, { body, query, token } = {}) {
  const url = new URL(`${base}/service/platform/user/v1.0/company/${COMPANY_ID}/application/${applicationId}${subpath}`);
  for (const [k, v] of Object.entries(query || {})) {
    if (v === undefined) continue;
    for (const item of Array.isArray(v) ? v : [v]) url.searchParams.append(k, String(item));
  }
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, body: json, text, headers: res.headers };
}

/**
 * rawPlatform on a `useServer()` context, with the read-write token and the file's main
 * application unless `applicationId` / `token` say otherwise (newApp() applications are
 * reachable with the same token: every client belongs to the company).
 */
function appApi(ctx, method, subpath, { body, query, token = ctx.token.access_token, applicationId = ctx.applicationId } = {}) {
  return rawPlatform(ctx.base, applicationId, method, subpath, { body, query, token });
}

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

/**
 * Registers before/after hooks running a tiny HTTP file server on 127.0.0.1 (ephemeral
 * port). Returns { url(name), put(name, body, {status, contentType}), hits(name) }; files are
 * served at /files/<name> and unknown names answer 404.
 */
function useFileServer() {
  const http = require('node:http');
  const files = new Map();
  const hits = new Map();
  const fsrv = {
    base: undefined,
    put(name, body, { status = 200, contentType = 'text/csv' } = {}) {
      files.set(name, { body, status, contentType });
      return fsrv.url(name);
    },
    url: (name) => `${fsrv.base}/files/${name}`,
    hits: (name) => hits.get(name) || 0,
  };
  let server;
  before(async () => {
    server = http.createServer((req, res) => {
      const name = decodeURIComponent(new URL(req.url, 'http://x').pathname.replace(/^\/files\//, ''));
      hits.set(name, (hits.get(name) || 0) + 1);
      const file = files.get(name);
      if (!file) {
        res.writeHead(404, { 'Content-Type': 'text/plain' });
        res.end('not found');
        return;
      }
      res.writeHead(file.status, { 'Content-Type': file.contentType });
      res.end(file.body);
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    fsrv.base = `http://127.0.0.1:${server.address().port}`;
  });
  after(async () => {
    if (server) await new Promise((resolve) => server.close(resolve));
  });
  return fsrv;
}

/** Creates an attribute definition through the SDK; `name` gets a unique tag unless given. */
async function createDefinition(user, overrides = {}) {
  const body = { name: `Attr ${uniqueTag('d')}`, type: 'string', ...overrides };
  for (const [k, v] of Object.entries(body)) if (v === undefined) delete body[k];
  return sdk(user.createUserAttributeDefinition({ body }));
}

/** Sets (creates or replaces) a customer's attribute value through the SDK. */
async function setValue(user, definitionId, userId, value, extra = {}) {
  return sdk(user.updateUserAttribute({ attributeDefId: definitionId, userId, body: { attribute: { value }, ...extra } }));
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

module.exports = {
  COMPANY_ID,
  READ,
  WRITE,
  SETTINGS_WRITE,
  PATRON_BIN,
  PASSWORD,
  SOFT_REGISTRATION,
  HEX24,
  UserModel,
  FDKServerResponseError,
  FDKResponseValidationError,
  FDKClientValidationError,
  useServer,
  runCli,
  runCliJson,
  makeSdk,
  makeStorefront,
  sessionCookie,
  sfCall,
  useSession,
  setConfig,
  registrationBody,
  registerShopper,
  tokenRequest,
  clientCredentialsToken,
  rawApi,
  uniqueTag,
  uniqueEmail,
  uniquePhone,
  createCustomer,
  sdk,
  sdkError,
  rawError,
  is4xx,
  assertErrorBody,
  assertModel,
  assertNoSecrets,
  assertNoNulls,
  assertIsoDate,
  assertCustomerShape,
  listAll,
  ids,
  sleep,
  unknownId,
  rawPlatform,
  appApi,
  waitFor,
  useFileServer,
  createDefinition,
  setValue,
  assertDefinitionShape,
  assertValueShape,
  assertGroupShape,
};
