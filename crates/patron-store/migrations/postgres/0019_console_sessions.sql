-- Operators signed in to the admin console (/console/) with a platform client: the digest of
-- the cookie's secret, the client (its company and current scopes are read from it at each
-- request, so changing its scopes applies at once and revoking it ends its sessions), and
-- the session's end. Kept apart from OAuth tokens so a console cookie is never a bearer
-- token and a bearer token never a console session.
CREATE TABLE console_sessions (
    token_digest TEXT PRIMARY KEY,
    client_id    TEXT NOT NULL REFERENCES api_clients (client_id) ON DELETE CASCADE,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX console_sessions_expiry ON console_sessions (expires_at);
CREATE INDEX console_sessions_client ON console_sessions (client_id);
