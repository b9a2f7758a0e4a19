-- Failed password sign-ins, counted per customer and equally per keyed digest of a sign-in
-- name that matches no one, so both answer alike when the count locks (no account oracle).
-- subject: 'customer:<id>' or 'unknown:<hmac of application id and name>', unique on its own.
CREATE TABLE login_failures (
    application_id TEXT NOT NULL REFERENCES applications (id),
    subject        TEXT NOT NULL,
    failed_logins  INTEGER NOT NULL,
    locked_until   INTEGER,
    last_failed_at INTEGER NOT NULL,
    PRIMARY KEY (application_id, subject)
);
CREATE INDEX login_failures_age ON login_failures (last_failed_at);

INSERT INTO login_failures (application_id, subject, failed_logins, locked_until, last_failed_at)
SELECT c.application_id, 'customer:' || cc.customer_id, cc.failed_logins, cc.locked_until,
       CAST(strftime('%s', 'now') AS INTEGER) * 1000
FROM customer_credentials cc JOIN customers c ON c.id = cc.customer_id
WHERE cc.failed_logins > 0 OR cc.locked_until IS NOT NULL;

ALTER TABLE customer_credentials DROP COLUMN failed_logins;
ALTER TABLE customer_credentials DROP COLUMN locked_until;

-- Failed password sign-ins per client address in the current one-minute window, shared by
-- every node; a slot is claimed before the hash and given back when the password was right.
CREATE TABLE sign_in_address_failures (
    address      TEXT PRIMARY KEY,
    window_start INTEGER NOT NULL,
    failures     INTEGER NOT NULL
);
CREATE INDEX sign_in_address_failures_age ON sign_in_address_failures (window_start);
