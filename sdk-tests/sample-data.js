'use strict';
// Test data: unique names, emails and phone numbers, ids that match nothing, and customers and
// attribute definitions and values created through the SDK.

const assert = require('node:assert/strict');

const { sdk } = require('./assertions');

let counter = 0;
const usedPhones = new Set();

/** A unique tag of lowercase letters and digits. */
function uniqueTag(prefix = 't') {
  counter += 1;
  return `${prefix}${process.pid.toString(36)}${Date.now().toString(36)}${counter}${Math.random().toString(36).slice(2, 6)}`;
}

/** A unique @example.com address. */
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

/** Lists customers matching q (all pages up to 100), via the SDK. */
async function listAll(user, q) {
  const res = await sdk(user.getCustomers({ q, pageNo: 1, pageSize: 100 }));
  return res.items;
}

/** The sorted `_id`s of a list of objects. */
const ids = (items) => items.map((u) => u._id).sort();

/** A well-formed id that no customer has. */
function unknownId() {
  let s = 'ffff';
  while (s.length < 24) s += Math.floor(Math.random() * 16).toString(16);
  return s;
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

module.exports = {
  uniqueTag,
  uniqueEmail,
  uniquePhone,
  unknownId,
  createCustomer,
  listAll,
  ids,
  createDefinition,
  setValue,
};
