-- Refresh-token families: every token issued by one client-credentials grant and its
-- rotations shares a family; a used refresh token stays (used_at set) until it expires, so
-- presenting it again is recognised as a replay and revokes the whole family.
ALTER TABLE oauth_tokens ADD COLUMN family_id TEXT NOT NULL DEFAULT '';
ALTER TABLE oauth_tokens ADD COLUMN used_at INTEGER;
UPDATE oauth_tokens SET family_id = token_digest;
CREATE INDEX oauth_tokens_family ON oauth_tokens (family_id);
CREATE INDEX oauth_tokens_client ON oauth_tokens (client_id);
