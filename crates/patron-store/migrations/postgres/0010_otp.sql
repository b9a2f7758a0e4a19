-- One-time password challenges and the send budgets that hold across nodes.
-- A challenge's code is kept only as a keyed hash; its resend token only as a digest.
CREATE TABLE otp_challenges (
    id             TEXT PRIMARY KEY,
    application_id TEXT NOT NULL REFERENCES applications (id),
    purpose        TEXT NOT NULL,
    target         TEXT NOT NULL,
    customer_id    TEXT,
    context        TEXT,
    code_hash      TEXT NOT NULL,
    resend_digest  TEXT,
    attempts       BIGINT NOT NULL DEFAULT 0,
    sends          BIGINT NOT NULL DEFAULT 1,
    last_sent_at   BIGINT NOT NULL,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    used_at        BIGINT
);
CREATE UNIQUE INDEX otp_challenges_resend ON otp_challenges (resend_digest);
CREATE INDEX otp_challenges_target ON otp_challenges (application_id, target, created_at);
CREATE INDEX otp_challenges_expiry ON otp_challenges (expires_at);

-- Every send, under each budget key it counts against (target, client address,
-- application); a budget is the number of rows of its key inside the window.
CREATE TABLE otp_sends (
    id         BIGSERIAL PRIMARY KEY,
    budget_key TEXT NOT NULL,
    sent_at    BIGINT NOT NULL
);
CREATE INDEX otp_sends_key ON otp_sends (budget_key, sent_at);
CREATE INDEX otp_sends_age ON otp_sends (sent_at);

-- One row per budget key, locked by a send while it counts and records, so concurrent
-- sends to one key are counted one after the other.
CREATE TABLE otp_budget_keys (
    budget_key TEXT PRIMARY KEY
);

-- Which contacts of a pending registration have been proven by OTP.
ALTER TABLE pending_registrations ADD COLUMN email_verified BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE pending_registrations ADD COLUMN mobile_verified BOOLEAN NOT NULL DEFAULT FALSE;
