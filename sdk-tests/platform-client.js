'use strict';
// The platform (admin) side: OAuth client-credentials tokens, the official PlatformClient in
// strict response mode, and raw HTTP to application-level platform paths.

const assert = require('node:assert/strict');
const { PlatformConfig, PlatformClient } = require('@gofynd/fdk-client-javascript');

const { sdk } = require('./assertions');
const { rawRequest } = require('./raw-http');

const COMPANY_ID = '559';
const READ = 'application/customers/read';
const WRITE = 'application/customers/write';
const SETTINGS_WRITE = 'company/settings/write';
// The SDK logs through `loglevel` (a process-wide singleton). ERROR (its default) prints a
// JSON blob for every non-2xx answer, which the error-path tests provoke on purpose.
const SDK_LOG_LEVEL = process.env.SDK_LOG_LEVEL || 'SILENT';

function basicAuth(creds) {
  return 'Basic ' + Buffer.from(`${creds.client_id}:${creds.client_secret}`).toString('base64');
}

/** POSTs the token endpoint with a form body; returns rawRequest's { status, body, text, headers }. */
function tokenRequest(base, creds, form) {
  return rawRequest('POST', `${base}/service/panel/authentication/v1.0/company/${COMPANY_ID}/oauth/token`, {
    headers: { Authorization: basicAuth(creds) },
    form,
  });
}

/** Obtains a client-credentials token for `creds` (`patron client create --json` output). */
async function clientCredentialsToken(base, creds) {
  const { status, body, text } = await tokenRequest(base, creds, { grant_type: 'client_credentials' });
  assert.equal(status, 200, `token endpoint answered ${status}: ${text}`);
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

/**
 * Updates the authentication configuration through the admin SDK (strict response check).
 * Returns the new configuration.
 */
async function setConfig(user, body) {
  return sdk(user.updatePlatformConfig({ body }));
}

/**
 * Raw HTTP to an application-level platform path of a `useServer()` context:
 * …/service/platform/user/v1.0/company/{company}/application/{applicationId}{subpath}, with
 * the read-write token and the file's main application unless `token` / `applicationId` say
 * otherwise (newApp() applications are reachable with the same token: every client belongs to
 * the company). Other options and the answer are rawRequest's.
 */
function appApi(ctx, method, subpath, { token = ctx.token.access_token, applicationId = ctx.applicationId, ...options } = {}) {
  const url = `${ctx.base}/service/platform/user/v1.0/company/${COMPANY_ID}/application/${applicationId}${subpath}`;
  return rawRequest(method, url, { token, ...options });
}

/** Customer `c`'s value of attribute definition `d` on the main application, read raw; undefined if unset. */
async function attributeValue(ctx, d, c) {
  const res = await appApi(ctx, 'GET', `/user_attribute/definition/${d._id}/user/${c._id}`);
  if (res.status === 404) return undefined;
  assert.equal(res.status, 200, res.text);
  return res.body.attribute.value;
}

module.exports = {
  COMPANY_ID,
  READ,
  WRITE,
  SETTINGS_WRITE,
  SDK_LOG_LEVEL,
  tokenRequest,
  clientCredentialsToken,
  makeSdk,
  setConfig,
  appApi,
  attributeValue,
};
