'use strict';
// The per-file fixtures, registered at a test file's top level.
//
// `useServer()` registers a `before` hook which provisions a fresh database (SQLite, or
// PostgreSQL with PATRON_SDK_DATABASE=postgres), runs the
// Patron admin CLI (migrate, app create, client create), starts `patron serve` on an ephemeral
// port, obtains client-credentials tokens and builds official @gofynd/fdk-client-javascript
// 3.4.2 PlatformClients with strict response checking; and an `after` hook that stops the
// server with SIGTERM and removes the temp dir. `useFileServer()` serves files to the server.

const crypto = require('node:crypto');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { before, after } = require('node:test');

const { PATRON_BIN, runCli, runCliJson, startServe } = require('./patron-process');
const { COMPANY_ID, READ, WRITE, SETTINGS_WRITE, clientCredentialsToken, makeSdk, appApi } = require('./platform-client');
const { makeStorefront } = require('./storefront-client');

/**
 * Registers before/after hooks and returns a context object that is filled in by `before`.
 * `options.env` adds variables to the environment of the CLI and the server;
 * `options.prepare`, an async function run first, returns more (e.g. a stub's URL).
 * The context:
 * { base, env, tmpdir, companyId, applicationId, app, rw, ro, admin, token, roToken, adminToken,
 *   config, client, user, roUser, adminClient, adminUser, server, stop(), api(), newApp(),
 *   storefront(), ready }; `ready` resolves once the server answers (for other `before` hooks).
 * `admin` holds every scope including company/settings/write (updatePlatformConfig).
 */
function useServer({ env: extraEnv = {}, prepare } = {}) {
  const ctx = { companyId: COMPANY_ID };
  // Top-level hooks of one file do not wait for each other: another `before` awaits this.
  let ready;
  let failed;
  ctx.ready = new Promise((resolve, reject) => {
    ready = resolve;
    failed = reject;
  });
  ctx.ready.catch(() => {});

  before(async () => {
    try {
      await start();
      ready(ctx);
    } catch (err) {
      failed(err);
      throw err;
    }
  });

  async function start() {
    // Services the server must know of when it starts (e.g. stand-in providers) are
    // started here: top-level hooks of one file do not wait for each other.
    const prepared = prepare ? await prepare() : {};
    if (!fs.existsSync(PATRON_BIN)) {
      throw new Error(`Patron binary not found at ${PATRON_BIN} (build it with cargo build, or set PATRON_BIN)`);
    }
    ctx.tmpdir = fs.mkdtempSync(path.join(os.tmpdir(), 'patron-sdk-'));
    ctx.database = createDatabase(ctx.tmpdir);
    ctx.env = {
      ...process.env,
      ...ctx.database.env,
      // Keep the generated at-rest key out of the working directory.
      PATRON_SECRET_KEY_FILE: path.join(ctx.tmpdir, 'secret.key'),
      // Exported customer files, kept with the rest of this run's state.
      PATRON_EXPORT_DIR: path.join(ctx.tmpdir, 'exports'),
      // Customer messages stay in the outbox (`patron outbox list`).
      PATRON_NOTIFIER: 'log',
      // Several servers run at once: each serves its metrics on a free port.
      PATRON_METRICS_LISTEN: '127.0.0.1:0',
      RUST_LOG: 'warn',
      // Per-file settings, e.g. { PATRON_BULK_SYNC_LIMIT: '2' } (none by default).
      ...extraEnv,
      ...prepared,
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
  }

  /** Raw HTTP to a customers path of the main application, with the read-write token (see appApi). */
  ctx.api = (method, subpath, options) => appApi(ctx, method, `/customers${subpath}`, options);

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
    if (ctx.database) ctx.database.drop();
    if (ctx.tmpdir) fs.rmSync(ctx.tmpdir, { recursive: true, force: true });
  });

  return ctx;
}

/**
 * The database of one test file: an SQLite file in `tmpdir`, or, when
 * PATRON_SDK_DATABASE=postgres, a fresh database on the server PATRON_TEST_POSTGRES_URL names
 * (created and dropped with psql; a PostgreSQL deployment needs an explicit secret key).
 * Returns { env, drop() }.
 */
function createDatabase(tmpdir) {
  if (process.env.PATRON_SDK_DATABASE !== 'postgres') {
    return { env: { PATRON_DATABASE_URL: `sqlite://${path.join(tmpdir, 'patron.db')}` }, drop() {} };
  }
  const server = process.env.PATRON_TEST_POSTGRES_URL;
  if (!server) throw new Error('PATRON_SDK_DATABASE=postgres needs PATRON_TEST_POSTGRES_URL');
  const name = `patron_sdk_${crypto.randomBytes(6).toString('hex')}`;
  execFileSync('psql', [server, '-q', '-c', `CREATE DATABASE ${name}`]);
  const url = new URL(server);
  url.pathname = `/${name}`;
  return {
    env: { PATRON_DATABASE_URL: url.toString(), PATRON_SECRET_KEY: crypto.randomBytes(32).toString('base64') },
    drop() {
      execFileSync('psql', [server, '-q', '-c', `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`]);
    },
  };
}

/**
 * Registers before/after hooks running a tiny HTTP file server on 127.0.0.1 (ephemeral
 * port). Returns { url(name), put(name, body, {status, contentType}), hits(name) }; files are
 * served at /files/<name> and unknown names answer 404.
 */
function useFileServer() {
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

module.exports = { useServer, useFileServer };
