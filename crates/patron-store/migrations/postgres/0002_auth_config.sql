-- One authentication configuration per application (Fynd's PlatformSchema). The document
-- is JSON without secrets; social app secrets are stored encrypted (AES-256-GCM) apart.
CREATE TABLE auth_configs (
    application_id TEXT PRIMARY KEY REFERENCES applications (id),
    document       TEXT NOT NULL,
    secrets        TEXT,
    version        BIGINT NOT NULL,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);
