'use strict';
// A signed-in shopper's contacts and attributes through ApplicationClient: addEmail,
// sendVerificationLinkToEmail, verifyEmail, setEmailAsPrimary, deleteEmail, addMobileNumber,
// sendVerificationLinkToMobile, verifyMobile, setMobileNumberAsPrimary, deleteMobileNumber,
// the v2.0 primary change (sendOTPOnPrimary, verifyOTPonPrimary, sendOTPForUpdate,
// verifyOTPForUpdate), sendResetPasswordMobile, getUserAttributes and updateUserAttributes.
// Links and codes are read from the outbox (`data.code`, `data.link`, `data.otp`).

const { test } = require('node:test');
const assert = require('node:assert/strict');
const h = require('./helpers');

const ctx = h.useServer();

/** The `data` of the newest outbox message to `to`. */
async function dataFor(to) {
  const { stdout } = await h.runCli(ctx.env, ['outbox', 'list', '--limit', '1000', '--json', '--reveal']);
  const message = JSON.parse(stdout).find((m) => m.to === to);
  assert.ok(message, `no message to ${to}`);
  return message.data;
}

/** A fresh application that creates accounts at once, and a shopper signed in on it. */
async function signedInShopper(config = {}) {
  const app = await ctx.newApp('Profile Shop');
  await h.setConfig(app.user, { ...h.SOFT_REGISTRATION, ...config });
  const shopper = await h.registerShopper(app.storefront());
  return { app, ...shopper };
}

test('emails: addEmail sends a link, verifyEmail proves it, setEmailAsPrimary and deleteEmail follow the rules', async () => {
  const { app, sf, email } = await signedInShopper({ verify_email_url: 'https://shop.example.com/auth/verify-email' });
  const second = h.uniqueEmail('work');
  const added = await h.sdk(sf.user.addEmail({ body: { email: second } }));
  assert.equal(added.verify_email_link, true);
  h.assertCustomerShape(added.user, app.applicationId);
  assert.deepEqual(
    added.user.emails.map((e) => [e.email, e.primary, e.verified]),
    [[email, true, false], [second, false, false]],
  );
  const data = await dataFor(second);
  assert.equal(data.link, `https://shop.example.com/auth/verify-email?code=${data.code}`);
  await h.sdkError(sf.user.setEmailAsPrimary({ body: { email: second } }), 400, 'VALIDATION_ERROR', 'verified');

  const resent = await h.sdk(sf.user.sendVerificationLinkToEmail({ body: { email: second } }));
  assert.equal(resent.verify_email_link, true);
  const fresh = await dataFor(second);
  assert.notEqual(fresh.code, data.code, 'every link has its own code');
  assert.deepEqual(await h.sdk(app.storefront().user.verifyEmail({ body: { code: fresh.code } })), { message: 'verified' });
  await h.sdkError(app.storefront().user.verifyEmail({ body: { code: fresh.code } }), 400, 'INVALID_LINK');

  const primary = await h.sdk(sf.user.setEmailAsPrimary({ body: { email: second } }));
  assert.equal(primary.user.emails[0].email, second);
  assert.equal(primary.user.emails[0].primary, true);
  await h.sdkError(sf.user.deleteEmail({ active: true, primary: true, verified: true, email: second }), 400, 'VALIDATION_ERROR');
  const deleted = await h.sdk(sf.user.deleteEmail({ active: true, primary: false, verified: false, email }));
  assert.deepEqual(deleted.user.emails.map((e) => e.email), [second]);
});

test('mobiles: addMobileNumber, sendVerificationLinkToMobile, verifyMobile, setMobileNumberAsPrimary, deleteMobileNumber', async () => {
  const { app, sf, phone } = await signedInShopper();
  const second = h.uniquePhone();
  const added = await h.sdk(sf.user.addMobileNumber({ body: { country_code: '91', phone: second } }));
  assert.equal(added.verify_mobile_link, true);
  assert.equal(added.user.phone_numbers.length, 2);
  const linked = await h.sdk(sf.user.sendVerificationLinkToMobile({ body: { country_code: '91', phone: second, active: true, primary: false, verified: false } }));
  assert.equal(linked.verify_mobile_link, true);
  const { code } = await dataFor(`+91${second}`);
  assert.deepEqual(await h.sdk(app.storefront().user.verifyMobile({ body: { code } })), { message: 'verified' });
  const primary = await h.sdk(sf.user.setMobileNumberAsPrimary({ body: { country_code: '91', phone: second, active: true, primary: false, verified: true } }));
  assert.equal(primary.user.phone_numbers[0].phone, second);
  assert.equal(primary.user.phone_numbers[0].country_code, 91);
  const deleted = await h.sdk(sf.user.deleteMobileNumber({ active: true, primary: false, verified: false, countryCode: '91', phone }));
  assert.deepEqual(deleted.user.phone_numbers.map((p) => p.phone), [second]);
  await h.sdkError(
    sf.user.deleteMobileNumber({ active: true, primary: true, verified: true, countryCode: '91', phone: second }),
    400,
    'VALIDATION_ERROR',
    'last verified',
  );
});

test('the v2.0 primary change: sendOTPOnPrimary, verifyOTPonPrimary, sendOTPForUpdate, verifyOTPForUpdate', async () => {
  const { sf, email } = await signedInShopper();
  const sent = await h.sdk(sf.user.sendOTPOnPrimary({ entity: 'email', body: { encrypt_otp: false } }));
  assert.equal(sent.success, true);
  assert.equal(sent.email, email);
  const proof = await h.sdk(sf.user.verifyOTPonPrimary({ entity: 'email', body: { otp: (await dataFor(email)).otp, request_id: sent.request_id } }));
  assert.equal(proof.success, true);
  assert.equal(proof.entity, 'email');
  assert.equal(typeof proof.request_id, 'string');
  const next = h.uniqueEmail('next');
  const coded = await h.sdk(sf.user.sendOTPForUpdate({ entity: 'email', body: { request_id: proof.request_id, email: next } }));
  await h.sdkError(sf.user.sendOTPForUpdate({ entity: 'email', body: { request_id: proof.request_id, email: h.uniqueEmail() } }), 400, 'VALIDATION_ERROR');
  const updated = await h.sdk(sf.user.verifyOTPForUpdate({ entity: 'email', body: { otp: (await dataFor(next)).otp, request_id: coded.request_id, email: next } }));
  assert.equal(updated.user_exists, true);
  assert.equal(updated.user.emails[0].email, next);
  assert.equal(updated.user.emails[0].primary, true);
  assert.equal(updated.user.emails[0].verified, true);
  await h.sdkError(sf.user.sendOTPOnPrimary({ entity: 'fax', body: {} }), 400, 'VALIDATION_ERROR');
});

test('sendResetPasswordMobile sends the reset link by text message, the same answer for unknown numbers', async () => {
  const shopper = await signedInShopper();
  const { app, phone, email } = await h.proveContacts(shopper, ctx.env);
  const sf = app.storefront();
  assert.deepEqual(await h.sdk(sf.user.sendResetPasswordMobile({ body: { country_code: '91', mobile: phone } })), { status: 'sent' });
  assert.deepEqual(await h.sdk(sf.user.sendResetPasswordMobile({ body: { country_code: '91', mobile: h.uniquePhone() } })), { status: 'sent' });
  const data = await dataFor(`+91${phone}`);
  assert.ok(data.link.includes(data.code));
  await h.sdk(sf.user.forgotPassword({ body: { code: data.code, password: 'Sms-reset-9' } }));
  await h.sfCall(app.storefront(), 'loginWithEmailAndPassword', { body: { username: email, password: 'Sms-reset-9' } });
});

test('getUserAttributes and updateUserAttributes see only customer-editable definitions', async () => {
  const { app, sf } = await signedInShopper();
  await h.sdk(app.user.createUserAttributeDefinition({ body: { name: 'Favourite colour', type: 'string', customer_editable: true } }));
  await h.sdk(app.user.createUserAttributeDefinition({ body: { name: 'Risk score', type: 'number' } }));
  assert.deepEqual(await h.sdk(sf.user.getUserAttributes({})), { attributes: {} });
  const set = await h.sdk(sf.user.updateUserAttributes({ body: { attributes: { favourite_colour: 'teal' } } }));
  assert.deepEqual(set, { attributes: { favourite_colour: 'teal' } });
  assert.deepEqual(await h.sdk(sf.user.getUserAttributes({ slug: 'favourite_colour' })), { attributes: { favourite_colour: 'teal' } });
  await h.sdkError(sf.user.updateUserAttributes({ body: { attributes: { risk_score: 1 } } }), 400, 'VALIDATION_ERROR', 'risk_score');
  await h.sdkError(sf.user.updateUserAttributes({ body: { attributes: { favourite_colour: 7 } } }), 400, 'VALIDATION_ERROR');
  await h.sdkError(sf.user.getUserAttributes({ slug: 'risk_score' }), 400, 'VALIDATION_ERROR');
  await h.sdkError(app.storefront().user.getUserAttributes({}), 401, 'UNAUTHENTICATED');
});
