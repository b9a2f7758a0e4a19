'use strict';
// Password reset by email link, through ApplicationClient: sendResetPasswordEmail,
// sendResetToken, forgotPassword (reset + sign in), resetForgotPassword (reset only).
// The link is delivered by the 'log' notifier into the outbox, read with
// `patron outbox list --json --reveal`.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const h = require('./helpers');

const ctx = h.useServer();

const NEW_PASSWORD = 'Fr3sh-secret';

/** All outbox messages (newest first). */
async function outbox() {
  const { stdout } = await h.runCli(ctx.env, ['outbox', 'list', '--limit', '1000', '--json', '--reveal']);
  let list;
  try {
    list = JSON.parse(stdout);
  } catch {
    throw new Error(`patron outbox list --json: stdout is not one JSON document: ${JSON.stringify(stdout)}`);
  }
  assert.ok(Array.isArray(list), 'outbox list --json prints one JSON array');
  return list;
}

/** Reset messages to `email`, newest first (the codes that proved it are left out). */
async function messagesTo(email) {
  return (await outbox()).filter((m) => m.to === email && m.template.startsWith('reset_password'));
}

/** Requests a reset for `email` and returns the code the new outbox message carries. */
async function requestCode(sf, email) {
  const before = (await messagesTo(email)).length;
  const res = await h.sdk(sf.user.sendResetPasswordEmail({ body: { email } }));
  assert.deepEqual(res, { status: 'sent' });
  const messages = await messagesTo(email);
  assert.equal(messages.length, before + 1, `one new reset message to ${email}`);
  const [message] = messages;
  assert.equal(message.channel, 'email');
  assert.equal(typeof message.template, 'string');
  assert.ok(message.data && typeof message.data.code === 'string' && message.data.code.length >= 16, `data.code: ${JSON.stringify(message.data)}`);
  assert.equal(typeof message.data.link, 'string');
  assert.ok(message.data.link.includes(message.data.code), `the link carries the code: ${message.data.link}`);
  return message.data.code;
}

// The main application registers without OTP, set once, on first use (a second top-level
// `before` may run before useServer's has finished, so: lazily).
let softRegistration;

/** Registers a fresh shopper on the main application, who proves their contacts (resets go
 * only through proven ones). */
async function shopper() {
  softRegistration ||= h.setConfig(ctx.adminUser, h.SOFT_REGISTRATION);
  await softRegistration;
  return h.proveContacts(await h.registerShopper(ctx.storefront()), ctx.env);
}

async function canSignIn(username, password) {
  const sf = ctx.storefront();
  try {
    await sf.user.loginWithEmailAndPassword({ body: { username, password } });
    return true;
  } catch (err) {
    if (!(err instanceof h.FDKServerResponseError)) throw err;
    h.assertErrorBody(err.details, err.code, 'INVALID_CREDENTIALS');
    assert.equal(err.code, 400);
    return false;
  }
}

test('sendResetPasswordEmail answers {status:"sent"} for known and unknown emails alike', async () => {
  const s = await shopper();
  const sf = ctx.storefront();
  const known = await h.sdk(sf.user.sendResetPasswordEmail({ body: { email: s.email } }));
  const unknownEmail = h.uniqueEmail('nobody');
  const unknown = await h.sdk(sf.user.sendResetPasswordEmail({ body: { email: unknownEmail } }));
  assert.deepEqual(known, { status: 'sent' });
  assert.deepEqual(unknown, known, 'the answer does not reveal whether the account exists');

  const toKnown = await messagesTo(s.email);
  assert.equal(toKnown.length, 1, 'a reset message for the known email');
  assert.equal(toKnown[0].channel, 'email');
  assert.equal(typeof toKnown[0].data.code, 'string');
  assert.ok(toKnown[0].data.link.includes(toKnown[0].data.code));
  assert.deepEqual(await messagesTo(unknownEmail), [], 'nothing is sent to an unknown email');
  // The code is not the session token, nor anything the answer carried.
  assert.ok(!JSON.stringify(known).includes(toKnown[0].data.code));
});

test('sendResetPasswordEmail needs an email (400; the 3.4.2 validator does not require it)', async () => {
  const sf = ctx.storefront();
  const err = await h.sdkError(sf.user.sendResetPasswordEmail({ body: {} }), 400, 'VALIDATION_ERROR');
  assert.ok(err.details.message.startsWith('email'), err.details.message);
});

test('a blocked customer gets the same answer and no message', async () => {
  const s = await shopper();
  await h.sdk(ctx.user.blockOrUnblockUsers({ body: { status: false, user_id: [s.user._id], reason: 'fraud' } }));
  const res = await h.sdk(ctx.storefront().user.sendResetPasswordEmail({ body: { email: s.email } }));
  assert.deepEqual(res, { status: 'sent' });
  assert.deepEqual(await messagesTo(s.email), []);
});

test('sendResetToken checks a code without using it; a bogus code is 400', async () => {
  const s = await shopper();
  const sf = ctx.storefront();
  const code = await requestCode(sf, s.email);
  assert.deepEqual(await h.sdk(sf.user.sendResetToken({ body: { code } })), { status: 'success' });
  assert.deepEqual(await h.sdk(sf.user.sendResetToken({ body: { code } })), { status: 'success' }, 'checking twice is fine');
  await h.sdkError(sf.user.sendResetToken({ body: { code: 'f'.repeat(64) } }), 400);
  const missing = await h.sdkError(sf.user.sendResetToken({ body: {} }), 400, 'VALIDATION_ERROR');
  assert.ok(missing.details.message.startsWith('code'), missing.details.message);
  // Still usable after the checks.
  const res = await h.sfCall(sf, 'forgotPassword', { body: { code, password: NEW_PASSWORD } });
  assert.equal(res.body.user._id, s.user._id);
});

test('forgotPassword resets, signs in (Set-Cookie), and the old password and other sessions stop working', async () => {
  const s = await shopper();
  const sf = ctx.storefront();
  const code = await requestCode(sf, s.email);

  const res = await h.sfCall(sf, 'forgotPassword', { body: { code, password: NEW_PASSWORD } });
  assert.ok(res.body.user, `forgotPassword answers {user, …}: ${JSON.stringify(res.body)}`);
  assert.equal(res.body.user._id, s.user._id);
  h.assertCustomerShape(res.body.user, ctx.applicationId);
  assert.ok(res.cookie && res.cookie.value.length >= 32, 'Set-Cookie f.session');
  assert.equal(res.cookie.attributes.httponly, true);
  assert.equal((await h.sdk(sf.user.getLoggedInUser())).user._id, s.user._id, 'signed in');

  assert.equal(await canSignIn(s.email, h.PASSWORD), false, 'the old password no longer works');
  assert.equal(await canSignIn(s.email, NEW_PASSWORD), true, 'the new one does');
  await h.sdkError(s.sf.user.getLoggedInUser(), 401, 'UNAUTHENTICATED');

  // The code is spent.
  await h.sdkError(ctx.storefront().user.forgotPassword({ body: { code, password: 'An0ther-secret' } }), 400);
  await h.sdkError(ctx.storefront().user.sendResetToken({ body: { code } }), 400);
  assert.equal(await canSignIn(s.email, NEW_PASSWORD), true);
});

test('resetForgotPassword with a fresh code resets without signing in: {success:true}', async () => {
  const s = await shopper();
  const sf = ctx.storefront();
  const code = await requestCode(sf, s.email);
  const res = await h.sfCall(sf, 'resetForgotPassword', { body: { code, password: NEW_PASSWORD } });
  assert.deepEqual(res.body, { success: true });
  assert.ok(!res.cookie || !res.cookie.value, 'no session is started');
  await h.sdkError(sf.user.getLoggedInUser(), 401, 'UNAUTHENTICATED');
  assert.equal(await canSignIn(s.email, h.PASSWORD), false);
  assert.equal(await canSignIn(s.email, NEW_PASSWORD), true);
  // Reusing it is refused.
  await h.sdkError(sf.user.resetForgotPassword({ body: { code, password: 'An0ther-secret' } }), 400);
  assert.equal(await canSignIn(s.email, NEW_PASSWORD), true);
});

test('a code is only good for its own application', async () => {
  const s = await shopper();
  const code = await requestCode(ctx.storefront(), s.email);
  const other = await ctx.newApp();
  await h.sdkError(other.storefront().user.sendResetToken({ body: { code } }), 400);
  await h.sdkError(other.storefront().user.resetForgotPassword({ body: { code, password: NEW_PASSWORD } }), 400);
  assert.deepEqual(await h.sdk(ctx.storefront().user.sendResetToken({ body: { code } })), { status: 'success' });
});
