-- Storefront login sessions. The cookie carries a random 256-bit token; only its SHA-256
-- digest is stored. `id` is the public handle used by the admin API.
CREATE TABLE customer_sessions (
    id             TEXT PRIMARY KEY,
    token_digest   TEXT NOT NULL UNIQUE,
    application_id TEXT NOT NULL,
    customer_id    TEXT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    domain         TEXT NOT NULL,
    user_agent     TEXT NOT NULL,
    ip             TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    last_seen_at   INTEGER NOT NULL
);
CREATE INDEX customer_sessions_customer ON customer_sessions (customer_id, expires_at);
CREATE INDEX customer_sessions_expiry ON customer_sessions (expires_at);
