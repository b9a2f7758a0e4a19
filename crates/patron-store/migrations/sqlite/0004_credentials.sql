-- Passwords (argon2id PHC strings), their history, and the lockout counter, kept apart from
-- the customer row so no customer query can ever select them by accident.
CREATE TABLE customer_credentials (
    customer_id         TEXT PRIMARY KEY REFERENCES customers (id) ON DELETE CASCADE,
    password_hash       TEXT NOT NULL,
    password_changed_at INTEGER NOT NULL,
    failed_logins       INTEGER NOT NULL DEFAULT 0,
    locked_until        INTEGER
);

CREATE TABLE password_history (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_id   TEXT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    password_hash TEXT NOT NULL,
    created_at    INTEGER NOT NULL
);
CREATE INDEX password_history_customer ON password_history (customer_id, id);

-- Registrations waiting for OTP verification of their email or mobile.
CREATE TABLE pending_registrations (
    token_digest   TEXT PRIMARY KEY,
    application_id TEXT NOT NULL REFERENCES applications (id),
    payload        TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL
);
CREATE INDEX pending_registrations_expiry ON pending_registrations (expires_at);
