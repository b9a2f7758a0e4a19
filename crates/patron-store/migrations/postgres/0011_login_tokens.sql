-- Single-use sign-in tokens an administrator mints for a customer (an app hands a
-- signed-in shopper to the web with one); kept only as digests.
CREATE TABLE login_tokens (
    token_digest   TEXT PRIMARY KEY,
    application_id TEXT NOT NULL REFERENCES applications (id),
    customer_id    TEXT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    used_at        BIGINT
);
CREATE INDEX login_tokens_expiry ON login_tokens (expires_at);
