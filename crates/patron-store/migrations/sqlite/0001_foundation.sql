-- Applications (sales channels), platform API clients, OAuth tokens, customers, audit.
-- Times are milliseconds since the Unix epoch; secrets are stored only as SHA-256 digests.

CREATE TABLE applications (
    id             TEXT PRIMARY KEY,
    company_id     TEXT NOT NULL,
    name           TEXT NOT NULL,
    token_digest   TEXT NOT NULL,
    default_region TEXT NOT NULL DEFAULT 'IN',
    created_at     INTEGER NOT NULL
);

CREATE TABLE api_clients (
    client_id     TEXT PRIMARY KEY,
    company_id    TEXT NOT NULL,
    name          TEXT NOT NULL,
    secret_digest TEXT NOT NULL,
    scopes        TEXT NOT NULL,
    created_at    INTEGER NOT NULL
);

CREATE TABLE oauth_tokens (
    token_digest TEXT PRIMARY KEY,
    kind         TEXT NOT NULL CHECK (kind IN ('access', 'refresh')),
    client_id    TEXT NOT NULL REFERENCES api_clients (client_id) ON DELETE CASCADE,
    company_id   TEXT NOT NULL,
    scopes       TEXT NOT NULL,
    expires_at   INTEGER NOT NULL,
    created_at   INTEGER NOT NULL
);
CREATE INDEX oauth_tokens_expiry ON oauth_tokens (expires_at);

CREATE TABLE customers (
    id              TEXT PRIMARY KEY,
    application_id  TEXT NOT NULL REFERENCES applications (id),
    username        TEXT NOT NULL,
    first_name      TEXT,
    last_name       TEXT,
    gender          TEXT,
    dob             TEXT,
    profile_pic_url TEXT,
    external_id     TEXT,
    rr_id           TEXT,
    meta            TEXT NOT NULL DEFAULT '{}',
    active          BOOLEAN NOT NULL DEFAULT TRUE,
    archived        BOOLEAN NOT NULL DEFAULT FALSE,
    account_type    TEXT NOT NULL DEFAULT 'user',
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    version         INTEGER NOT NULL DEFAULT 0,
    CONSTRAINT customers_username_unique UNIQUE (application_id, username)
);
CREATE INDEX customers_listing ON customers (application_id, archived, id);
CREATE INDEX customers_external_id ON customers (application_id, external_id);

-- Contacts carry a copy of the owner's archived flag so that the partial unique indexes
-- free an archived customer's email and phone for a new registration.
CREATE TABLE customer_emails (
    customer_id    TEXT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    application_id TEXT NOT NULL,
    position       INTEGER NOT NULL,
    email          TEXT NOT NULL,
    is_primary     BOOLEAN NOT NULL,
    verified       BOOLEAN NOT NULL,
    active         BOOLEAN NOT NULL,
    archived       BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (customer_id, position)
);
CREATE UNIQUE INDEX customer_emails_unique ON customer_emails (application_id, email) WHERE NOT archived;
CREATE INDEX customer_emails_lookup ON customer_emails (application_id, email);

CREATE TABLE customer_phones (
    customer_id    TEXT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    application_id TEXT NOT NULL,
    position       INTEGER NOT NULL,
    country_code   INTEGER NOT NULL,
    phone          TEXT NOT NULL,
    is_primary     BOOLEAN NOT NULL,
    verified       BOOLEAN NOT NULL,
    active         BOOLEAN NOT NULL,
    archived       BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (customer_id, position)
);
CREATE UNIQUE INDEX customer_phones_unique ON customer_phones (application_id, country_code, phone) WHERE NOT archived;
CREATE INDEX customer_phones_lookup ON customer_phones (application_id, phone);

-- Append-only record of every state change, for the timeline API.
CREATE TABLE audit_events (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    application_id TEXT NOT NULL,
    customer_id    TEXT,
    action         TEXT NOT NULL,
    actor          TEXT NOT NULL,
    reason         TEXT,
    reason_id      TEXT,
    at             INTEGER NOT NULL
);
CREATE INDEX audit_events_customer ON audit_events (customer_id, id);
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
