-- Devices a shopper has signed in from: the digest of the random token of an HttpOnly
-- cookie set at every storefront sign-in, bound to the customer and application. A code
-- asked for from such a device, to one of that customer's contacts, draws on the device's
-- own budget instead of the anonymous per-address and per-application ones (so a flood of
-- sends to random numbers cannot shut returning shoppers out), and its wrong answers count
-- against a budget of the device instead of the target's total. Each sign-in on it moves
-- its last use and expiry; a customer keeps the 20 used last. Gone when the customer's
-- sessions all end or the password changes.
CREATE TABLE known_devices (
    token_digest   TEXT PRIMARY KEY,
    application_id TEXT NOT NULL,
    customer_id    TEXT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    created_at     BIGINT NOT NULL,
    last_used_at   BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL
);
CREATE INDEX known_devices_customer ON known_devices (customer_id, last_used_at);
CREATE INDEX known_devices_expiry ON known_devices (expires_at);
